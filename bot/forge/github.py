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
from collections.abc import Iterable, Iterator
from typing import Any

import github
import requests
from github import Auth, Github, GithubException, GithubRetry, UnknownObjectException
from github.GitCommit import GitCommit
from github.GitRef import GitRef
from github.GitTree import GitTree
from github.InputGitTreeElement import InputGitTreeElement

from bot import secrets
from bot.errors import AuthError, CondabotError, ForgeError, RateLimited
from bot.forge.body import declined_of, metadata_of, rebase_checked
from bot.forge.model import (
    BOT_LABEL,
    BRANCH_PREFIX,
    DASHBOARD_LABEL,
    REBASE_LABEL,
    FileChange,
    PrState,
    PullRequest,
    Snapshot,
    commit_trailer,
)

log = logging.getLogger(__name__)
DEFAULT_API = "https://api.github.com"


def connect(token: str, base_url: str = DEFAULT_API) -> Github:
    """PyGithub, lazy, with GitHub's pacing advice (writes a second apart) unless told otherwise."""
    secrets.register(token)
    env = os.environ.get
    # GithubRetry honours Retry-After and x-ratelimit-reset, and retries secondary rate limits.
    retry = GithubRetry(
        total=int(env("CONDABOT_GITHUB_RETRIES") or 5),
        backoff_factor=float(env("CONDABOT_GITHUB_BACKOFF") or 1.0),
    )
    return Github(
        auth=Auth.Token(token),
        base_url=base_url,
        retry=retry,
        lazy=True,
        per_page=100,
        timeout=30,
        seconds_between_requests=float(env("CONDABOT_GITHUB_REQUEST_GAP") or 0.25),
        seconds_between_writes=float(env("CONDABOT_GITHUB_WRITE_GAP") or 1.0),
    )


@contextlib.contextmanager
def calling(doing: str) -> Iterator[None]:
    """Every API call runs inside this: failures become one-line, secret-free errors."""
    try:
        yield
    except GithubException as exc:
        raise translate(exc, doing) from exc
    except requests.exceptions.RequestException as exc:  # retries exhausted at the transport
        raise ForgeError(
            f"GitHub kept failing while {doing} ({type(exc).__name__})", "rerun later"
        ) from exc


def translate(exc: GithubException, doing: str) -> CondabotError:
    """One-line, secret-free errors for a failed request."""
    message = exc.data.get("message") if isinstance(exc.data, dict) else None
    detail = f"HTTP {exc.status}" + (f": {message}" if message else "")
    if exc.status == 401:
        return AuthError(f"GitHub refused the token while {doing} ({detail})", "check GITHUB_TOKEN")
    if isinstance(exc, github.RateLimitExceededException) or (
        exc.status in (403, 429) and "rate limit" in str(message).lower()
    ):
        return RateLimited(
            f"GitHub rate limit while {doing} ({detail})", "rerun after the reset time"
        )
    if exc.status == 403:
        return ForgeError(
            f"GitHub forbade {doing} ({detail})",
            "the token needs contents, pull-requests and issues write access",
        )
    return ForgeError(f"GitHub failed while {doing} ({detail})", "rerun; report it if it persists")


class GitHubForge:
    def __init__(self, client: Github, full_name: str, base_branch: str) -> None:
        self.client = client
        self.repo = client.get_repo(full_name)  # lazy: no request
        self.base_branch = base_branch

    # -- reading -------------------------------------------------------------
    def snapshot(self, base_sha: str, base_tree: str) -> Snapshot:
        with calling("listing the bot's pull requests"):
            page = self.repo.get_issues(
                state="all", labels=[BOT_LABEL], sort="updated", direction="desc"
            ).get_page(0)
        pulls, dashboard = [], None
        for issue in page:
            # html_url, not pull_request: an absent attribute makes PyGithub GET the issue.
            if "/pull/" not in issue.html_url:
                if DASHBOARD_LABEL in _label_names(issue.labels) and dashboard is None:
                    dashboard = issue
                continue
            pulls.append(_pull_from_issue(issue))
        return Snapshot(
            base_sha=base_sha,
            base_tree=base_tree,
            pulls=tuple(pulls),
            dashboard_number=dashboard.number if dashboard else None,
            dashboard_body=dashboard.body if dashboard else None,
            remembered=declined_of(dashboard.body) if dashboard else (),
        )

    def head(self, group: str) -> str | None:
        with calling(f"reading branch {BRANCH_PREFIX}{group}"):
            try:
                return str(self.repo.get_git_ref(f"heads/{BRANCH_PREFIX}{group}").object.sha)
            except UnknownObjectException:
                return None

    def mergeable(self, number: int) -> bool | None:
        with calling(f"reading PR #{number}"):
            value = self.repo.get_pull(number).mergeable
        return None if value is None else bool(value)

    # -- writing -------------------------------------------------------------
    def commit(
        self, base_sha: str, base_tree: str, files: Iterable[FileChange], message: str
    ) -> str:
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
        return str(commit.sha)

    def point_branch(self, group: str, sha: str, create: bool) -> None:
        ref = f"heads/{BRANCH_PREFIX}{group}"
        with calling(f"updating branch {BRANCH_PREFIX}{group}"):
            if create:
                try:
                    self.repo.create_git_ref(f"refs/{ref}", sha)
                    return
                except GithubException as exc:
                    if exc.status != 422:
                        raise
                self._adopt_leftover(group)  # a rerun after a crash left the branch behind
            self._ref(ref).edit(sha, force=True)

    def _adopt_leftover(self, group: str) -> None:
        """Reuse a branch left by an earlier run or a closed PR, keeping others' commits.

        Only called when no open PR uses the branch. A head the bot did not make (someone
        pushed to a PR that was then closed) is kept under a backup ref first: never lost.
        """
        head = self.head(group) or ""
        commit = self.repo.get_git_commit(head)
        if commit_trailer(group) not in commit.message or len(commit.parents) != 1:
            kept = self.backup(group, head)
            log.warning(
                "%s%s held commits condabot did not make; kept as %s", BRANCH_PREFIX, group, kept
            )

    def backup(self, group: str, sha: str) -> str:
        name = f"refs/condabot-backup/{group}/{sha[:12]}"
        with calling(f"backing up {sha[:12]}"):
            try:
                self.repo.create_git_ref(name, sha)
            except GithubException as exc:
                if exc.status != 422:  # 422: the backup exists already
                    raise
        return name

    def delete_branch(self, group: str) -> None:
        doing = f"deleting branch {BRANCH_PREFIX}{group}"
        with calling(doing), contextlib.suppress(UnknownObjectException):
            self._ref(f"heads/{BRANCH_PREFIX}{group}").delete()

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

    def _ref(self, ref: str) -> GitRef:
        # Not repo.get_git_ref(): a lazy one keeps the singular GET URL (git/ref/...), and
        # PATCH or DELETE there is a 404 on GitHub; writes go to git/refs/....
        attributes = {"ref": f"refs/{ref}", "url": f"{self.repo.url}/git/refs/{ref}"}
        return GitRef(self.repo.requester, {}, attributes, completed=True)

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
