"""The GitHub edge of the forge, through PyGithub.

Request budget (see README): one issues listing reads every bot PR, open and
closed, and the dashboard; branch heads and mergeability are fetched only when a
decision needs them; a branch is written as tree + commit + ref (Git Data API),
based on the local checkout's HEAD so that the content the planner read and the
parent commit agree.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import github
import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GitCommit import GitCommit
from github.GitTree import GitTree
from github.InputGitTreeElement import InputGitTreeElement
from urllib3 import BaseHTTPResponse, HTTPResponse
from urllib3.connectionpool import ConnectionPool
from urllib3.util.retry import Retry

from bot import retry, secrets
from bot.errors import AuthError, CondabotError, ForgeError, RateLimited
from bot.forge.body import declined_of, metadata_of, rebase_checked
from bot.forge.model import (
    BOT_LABEL,
    BRANCH_PREFIX,
    DASHBOARD_LABEL,
    DASHBOARD_MARKER,
    REBASE_LABEL,
    ZERO_OID,
    Commit,
    FileChange,
    PrState,
    PullRequest,
    RefMove,
    Snapshot,
)

log = logging.getLogger(__name__)
DEFAULT_API = "https://api.github.com"


def connect(token: str, base_url: str = DEFAULT_API) -> Github:
    """PyGithub, lazy, with GitHub's pacing advice (writes a second apart) unless told otherwise."""
    secrets.register(token)
    env = os.environ.get
    policy = retry.from_env("CONDABOT_GITHUB", retry.GITHUB)
    return Github(
        auth=Auth.Token(token),
        base_url=base_url,
        retry=_CappedRetry(
            policy=policy, total=policy.retries, max_rate_limit_wait=policy.max_wait
        ),
        lazy=True,
        per_page=100,
        timeout=30,
        seconds_between_requests=float(env("CONDABOT_GITHUB_REQUEST_GAP") or 0.25),
        seconds_between_writes=float(env("CONDABOT_GITHUB_WRITE_GAP") or 1.0),
    )


class _CappedRetry(GithubRetry):
    """GithubRetry (rate-limit bodies, x-ratelimit-reset) on the one retry policy: its
    backoff schedule and its Retry-After rule. A wait longer than the policy's `max_wait`
    ends the run with the rate-limit code instead of sleeping."""

    def __init__(self, *, policy: retry.Policy = retry.GITHUB, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> Self:
        return super().new(policy=self.policy, **kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        return retry.retry_after_seconds(response.headers.get("Retry-After"))

    def get_backoff_time(self) -> float:
        return self.policy.backoff_time(max(1, len(self.history)))

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        asked = self.get_retry_after(response) if response is not None else None
        time.sleep(max(0.0, asked or self.get_backoff_time()))

    def increment(  # type: ignore[override]  # as GithubRetry's
        self,
        method: str | None = None,
        url: str | None = None,
        response: HTTPResponse | None = None,  # type: ignore[override]
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        if response is not None:
            asked = self.get_retry_after(response)
            if asked is not None and asked > self.policy.max_wait:
                raise github.RateLimitExceededExceedsMaxWait(
                    response.status, {"message": "Retry-After"}, dict(response.headers), wait=asked
                )
        return super().increment(method, url, response, error, _pool, _stacktrace)


@contextlib.contextmanager
def calling(
    doing: str, needs: str = "contents, pull-requests and issues write access"
) -> Iterator[None]:
    """Every API call runs inside this: failures become one-line, secret-free errors.
    `needs`: the access to name when GitHub forbids the call."""
    try:
        yield
    except GithubException as exc:
        raise translate(exc, doing, needs) from exc
    except requests.exceptions.RequestException as exc:  # retries exhausted at the transport
        raise ForgeError(
            f"GitHub kept failing while {doing} ({type(exc).__name__})", "rerun later"
        ) from exc


def translate(exc: GithubException, doing: str, needs: str) -> CondabotError:
    """One-line, secret-free errors for a failed request."""
    message = _message(exc.data)
    detail = f"HTTP {exc.status}" + (f": {message}" if message else "")
    if exc.status == 401:
        return AuthError(f"GitHub refused the token while {doing} ({detail})", "check GITHUB_TOKEN")
    if isinstance(exc, github.RateLimitExceededExceedsMaxWait) and exc.wait is not None:
        when = datetime.now(UTC) + timedelta(seconds=exc.wait)
        return RateLimited(
            f"GitHub asks condabot to wait {exc.wait:.0f} s while {doing} (rate limit)",
            f"rerun after {when:%Y-%m-%d %H:%M} UTC",
        )
    if isinstance(exc, github.RateLimitExceededException) or (
        exc.status in (403, 429) and "rate limit" in str(message).lower()
    ):
        return RateLimited(
            f"GitHub rate limit while {doing} ({detail})", "rerun after the reset time"
        )
    if exc.status == 403:
        return ForgeError(f"GitHub forbade {doing} ({detail})", f"the token needs {needs}")
    return ForgeError(f"GitHub failed while {doing} ({detail})", "rerun; report it if it persists")


def _message(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    errors = data.get("errors")
    if "message" not in data and isinstance(errors, list) and errors:  # GraphQL
        return "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors[:3])
    message = data.get("message")
    return None if message is None else str(message)


_REPO_ID_QUERY = """query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { id }
}"""
_HEAD_QUERY = """query($owner: String!, $name: String!, $ref: String!) {
  repository(owner: $owner, name: $name) { id ref(qualifiedName: $ref) { target { oid } } }
}"""
_UPDATE_REFS = """mutation($input: UpdateRefsInput!) {
  updateRefs(input: $input) { clientMutationId }
}"""


def _ref_update(move: RefMove) -> dict[str, Any]:
    update: dict[str, Any] = {"name": move.name, "afterOid": move.after or ZERO_OID, "force": True}
    if move.checked:
        update["beforeOid"] = move.before or ZERO_OID
    return update


class GitHubForge:
    def __init__(self, client: Github, full_name: str, base_branch: str) -> None:
        self.client = client
        self.repo = client.get_repo(full_name)  # lazy: no request
        self.base_branch = base_branch
        self._owner, self._name = full_name.split("/", 1)
        self._repo_id: str | None = None  # GraphQL node id, learnt with the first head read

    # -- reading -------------------------------------------------------------
    def snapshot(self, base_sha: str, base_tree: str) -> Snapshot:
        with calling("listing the bot's pull requests"):
            page = self.repo.get_issues(
                state="all", labels=[BOT_LABEL], sort="updated", direction="desc"
            ).get_page(0)
        pulls, dashboards = [], []
        for issue in page:
            # html_url, not pull_request: an absent attribute makes PyGithub GET the issue.
            if "/pull/" not in issue.html_url:
                labelled = DASHBOARD_LABEL in _label_names(issue.labels)
                if labelled or DASHBOARD_MARKER in (issue.body or ""):
                    dashboards.append(issue)
                continue
            pulls.append(_pull_from_issue(issue))
        # Two runs at once can each create one: the oldest open one is the dashboard.
        dashboards.sort(key=lambda i: (i.state != "open", i.number))
        dashboard = dashboards[0] if dashboards else None
        return Snapshot(
            base_sha=base_sha,
            base_tree=base_tree,
            pulls=tuple(pulls),
            dashboard_number=dashboard.number if dashboard else None,
            dashboard_body=dashboard.body if dashboard else None,
            remembered=declined_of(dashboard.body) if dashboard else (),
            duplicate_dashboards=tuple(i.number for i in dashboards[1:] if i.state == "open"),
        )

    def head(self, group: str) -> str | None:
        """The branch head, through GraphQL: the same request also gives the repository's
        node id that every ref move needs."""
        data = self._graphql(
            f"reading branch {BRANCH_PREFIX}{group}",
            _HEAD_QUERY,
            {"owner": self._owner, "name": self._name, "ref": f"refs/heads/{BRANCH_PREFIX}{group}"},
        )
        repository = data["repository"]
        self._repo_id = str(repository["id"])
        ref = repository["ref"]
        return None if ref is None else str(ref["target"]["oid"])

    def mergeable(self, number: int) -> bool | None:
        with calling(f"reading PR #{number}"):
            value = self.repo.get_pull(number).mergeable
        return None if value is None else bool(value)

    # -- writing -------------------------------------------------------------
    def commit(
        self, base_sha: str, base_tree: str, files: Iterable[FileChange], message: str
    ) -> Commit:
        """Make one commit on top of base with the files replaced; return its sha."""
        elements = [
            InputGitTreeElement(f.path, "100644", "blob", content=f.content.decode())
            if f.content is not None
            else InputGitTreeElement(f.path, "100644", "blob", sha=None)
            for f in files
        ]
        with calling("writing the update commit"):
            try:
                tree = self.repo.create_git_tree(elements, base_tree=self._tree(base_tree))
                # No author or committer: GitHub signs commits made this way.
                commit = self.repo.create_git_commit(message, tree, [self._commit(base_sha)])
            except GithubException as exc:
                if exc.status != 422:
                    raise
                why = exc.data.get("message") if isinstance(exc.data, dict) else exc.data
                raise ForgeError(
                    f"GitHub refused the update commit on base {base_sha[:12]} ({why})",
                    "is the checkout's HEAD pushed? run from a fresh checkout of the base branch",
                ) from exc
        return Commit(str(commit.sha), str(commit.tree.sha), (base_sha,))

    def commit_of(self, sha: str) -> Commit:
        with calling(f"reading commit {sha[:12]}"):
            commit = self.repo.get_git_commit(sha)
            return Commit(sha, commit.tree.sha, tuple(p.sha for p in commit.parents))

    def create_branch(self, group: str, sha: str) -> bool:
        """Create the branch at `sha`; False when it exists already (nothing is moved)."""
        with calling(f"creating branch {BRANCH_PREFIX}{group}"):
            try:
                self.repo.create_git_ref(f"refs/heads/{BRANCH_PREFIX}{group}", sha)
            except GithubException as exc:
                if exc.status != 422:
                    raise
                return False
        return True

    def move_refs(self, moves: Sequence[RefMove]) -> bool:
        """Apply the moves atomically, each only from its expected value (GraphQL updateRefs).

        False when a ref was not where expected: someone pushed, nothing was applied. The
        REST API cannot do this (PATCH git/refs has no expected value).
        """
        updates = [_ref_update(move) for move in moves]
        repo_id = self._repo_id or self._fetch_repo_id()
        try:
            self._graphql(
                "updating branch refs",
                _UPDATE_REFS,
                {"input": {"repositoryId": repo_id, "refUpdates": updates}},
            )
        except ForgeError:
            if any(self._at(move) is False for move in moves if move.checked):
                return False  # a lost race, not a failure: the caller decides again
            raise
        return True

    def _at(self, move: RefMove) -> bool | None:
        """Whether the ref still holds its expected value (None: not a branch we can read)."""
        if not move.name.startswith(f"refs/heads/{BRANCH_PREFIX}"):
            return None
        return self.head(move.name.removeprefix(f"refs/heads/{BRANCH_PREFIX}")) == move.before

    def _fetch_repo_id(self) -> str:
        data = self._graphql(
            "reading the repository id", _REPO_ID_QUERY, {"owner": self._owner, "name": self._name}
        )
        self._repo_id = str(data["repository"]["id"])
        return self._repo_id

    def _graphql(self, doing: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        with calling(doing):
            _, data = self.repo.requester.graphql_query(query, variables)
        result = data.get("data") if isinstance(data, dict) else None
        if not isinstance(result, dict):
            raise ForgeError(
                f"GitHub sent no data while {doing}", "rerun; report it if it persists"
            )
        return result

    def open_pull(self, group: str, title: str, body: str) -> tuple[int, str]:
        head = f"{BRANCH_PREFIX}{group}"
        with calling(f"opening the PR for {head}"):
            try:
                pr = self.repo.create_pull(base=self.base_branch, head=head, title=title, body=body)
            except GithubException as exc:
                if exc.status != 422 or "already exists" not in str(exc.data):
                    raise
                pr = self._existing_pull(head)  # a rerun after a crash: adopt it
                pr.edit(title=title, body=body)
        return pr.number, pr.html_url

    def label(self, number: int, labels: Iterable[str], assignees: Iterable[str]) -> None:
        with calling(f"labelling PR #{number}"):
            self.repo.get_issue(number).edit(labels=[BOT_LABEL, *labels], assignees=list(assignees))

    def request_reviews(self, number: int, reviewers: Iterable[str]) -> None:
        wanted = list(reviewers)
        if not wanted:
            return
        with calling(f"requesting reviews on PR #{number}"):
            self.repo.get_pull(number).create_review_request(reviewers=wanted)

    def edit_pull(self, number: int, title: str | None = None, body: str | None = None) -> None:
        args: dict[str, Any] = {}
        if title is not None:
            args["title"] = title
        if body is not None:
            args["body"] = body
        if not args:
            return
        with calling(f"editing PR #{number}"):
            self.repo.get_pull(number).edit(**args)

    def remove_label(self, number: int, label: str) -> None:
        with calling(f"removing label {label} from #{number}"):
            try:
                self.repo.get_issue(number).remove_from_labels(label)
            except GithubException as exc:
                if exc.status != 404:  # 404 "Label does not exist": someone removed it already
                    raise

    def comment(self, number: int, text: str) -> None:
        with calling(f"commenting on #{number}"):
            self.repo.get_issue(number).create_comment(text)

    def close(self, number: int) -> None:
        with calling(f"closing PR #{number}"):
            self.repo.get_pull(number).edit(state="closed")

    def close_duplicate(self, number: int, kept: int) -> None:
        with calling(f"closing duplicate dashboard #{number}"):
            issue = self.repo.get_issue(number)
            issue.create_comment(f"Duplicate of #{kept}, made by two condabot runs at once.")
            issue.edit(state="closed", state_reason="not_planned")

    def write_dashboard(self, number: int | None, title: str, body: str) -> int:
        with calling("writing the dependency dashboard"):
            if number is None:
                issue = self.repo.create_issue(
                    title=title, body=body, labels=[BOT_LABEL, DASHBOARD_LABEL]
                )
                return int(issue.number)
            self.repo.get_issue(number).edit(body=body)
            return number

    # -- helpers -------------------------------------------------------------
    def _tree(self, sha: str) -> GitTree:
        # A GitTree that only carries its sha: create_git_tree needs no more, and no GET is made.
        return GitTree(
            self.repo.requester,
            {},
            {"sha": sha, "url": f"{self.repo.url}/git/trees/{sha}"},
            completed=True,
        )

    def _commit(self, sha: str) -> GitCommit:
        return GitCommit(
            self.repo.requester,
            {},
            {"sha": sha, "url": f"{self.repo.url}/git/commits/{sha}"},
            completed=True,
        )

    def _existing_pull(self, head: str) -> Any:
        owner = self.repo.full_name.split("/")[0]
        for pr in self.repo.get_pulls(state="open", head=f"{owner}:{head}", base=self.base_branch):
            return pr
        raise ForgeError(f"GitHub says a PR for {head} exists but none is open", "rerun")


def _label_names(labels: Iterable[Any]) -> set[str]:
    return {label.name for label in labels}


def _pull_from_issue(issue: Any) -> PullRequest:
    labels = _label_names(issue.labels)
    merged = issue.pull_request.merged_at is not None
    state = PrState.MERGED if merged else PrState(issue.state)
    return PullRequest(
        number=issue.number,
        state=state,
        title=issue.title,
        body=issue.body or "",
        labels=tuple(sorted(labels)),
        metadata=metadata_of(issue.body),
        rebase_requested=REBASE_LABEL in labels or rebase_checked(issue.body),
    )
