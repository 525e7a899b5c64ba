"""The GitHub edge of the forge, through PyGithub.

Request budget (see README): one issues listing reads every bot PR, open and
closed, and the dashboard; branch heads and mergeability are fetched only when a
decision needs them; a branch is written as tree + commit + ref (Git Data API),
based on the local checkout's HEAD so that the content the planner read and the
parent commit agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import github
from github import Auth, Github, GithubException, GithubRetry, UnknownObjectException
from github.GitCommit import GitCommit
from github.GitTree import GitTree
from github.InputGitTreeElement import InputGitTreeElement

from bot import secrets
from bot.errors import AuthError, CondabotError, ForgeError, RateLimited
from bot.forge.body import metadata_of, rebase_checked
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


def connect(
    token: str, base_url: str = DEFAULT_API, retries: int = 5, backoff: float = 1.0
) -> Github:
    secrets.register(token)
    # GithubRetry honours Retry-After and x-ratelimit-reset, and retries secondary rate limits.
    retry = GithubRetry(total=retries, backoff_factor=backoff)
    return Github(
        auth=Auth.Token(token), base_url=base_url, retry=retry, lazy=True, per_page=100, timeout=30
    )


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
        try:
            page = self.repo.get_issues(
                state="all", labels=[BOT_LABEL], sort="updated", direction="desc"
            ).get_page(0)
        except GithubException as exc:
            raise translate(exc, "listing the bot's pull requests") from exc
        pulls, dashboard = [], None
        for issue in page:
            # html_url, not pull_request: an absent attribute makes PyGithub GET the issue.
            if "/pull/" not in issue.html_url:
                if DASHBOARD_LABEL in _label_names(issue.labels) and dashboard is None:
                    dashboard = issue
                continue
            pulls.append(_pull_from_issue(issue))
        return Snapshot(
            base_branch=self.base_branch,
            base_sha=base_sha,
            base_tree=base_tree,
            pulls=tuple(pulls),
            dashboard_number=dashboard.number if dashboard else None,
            dashboard_body=dashboard.body if dashboard else None,
        )

    def head(self, group: str) -> str | None:
        try:
            return str(self.repo.get_git_ref(f"heads/{BRANCH_PREFIX}{group}").object.sha)
        except UnknownObjectException:
            return None
        except GithubException as exc:
            raise translate(exc, f"reading branch {BRANCH_PREFIX}{group}") from exc

    def mergeable(self, number: int) -> bool | None:
        try:
            value = self.repo.get_pull(number).mergeable
        except GithubException as exc:
            raise translate(exc, f"reading PR #{number}") from exc
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
        try:
            tree = self.repo.create_git_tree(elements, base_tree=self._tree(base_tree))
            # No author or committer: GitHub signs commits made this way.
            commit = self.repo.create_git_commit(message, tree, [self._commit(base_sha)])
        except GithubException as exc:
            if exc.status == 422:
                raise ForgeError(
                    f"GitHub does not know base commit {base_sha[:12]}",
                    "push the base branch, or run from a fresh checkout of it",
                ) from exc
            raise translate(exc, "writing the update commit") from exc
        return str(commit.sha)

    def point_branch(self, group: str, sha: str, create: bool) -> None:
        ref = f"heads/{BRANCH_PREFIX}{group}"
        try:
            if create:
                try:
                    self.repo.create_git_ref(f"refs/{ref}", sha)
                    return
                except GithubException as exc:
                    if exc.status != 422:
                        raise
                self._adopt_leftover(group)  # a rerun after a crash left the branch behind
            self.repo.get_git_ref(ref).edit(sha, force=True)
        except GithubException as exc:
            raise translate(exc, f"updating branch {BRANCH_PREFIX}{group}") from exc

    def _adopt_leftover(self, group: str) -> None:
        """Refuse to move a branch whose head the bot did not make."""
        head = self.repo.get_git_ref(f"heads/{BRANCH_PREFIX}{group}").object.sha
        commit = self.repo.get_git_commit(head)
        if commit_trailer(group) not in commit.message or len(commit.parents) != 1:
            raise ForgeError(
                f"branch {BRANCH_PREFIX}{group} exists with commits condabot did not make",
                "merge or delete that branch; condabot never force-pushes over others' work",
            )
        log.info("adopting leftover branch %s%s", BRANCH_PREFIX, group)

    def backup(self, group: str, sha: str) -> str:
        name = f"refs/condabot-backup/{group}/{sha[:12]}"
        try:
            self.repo.create_git_ref(name, sha)
        except GithubException as exc:
            if exc.status != 422:  # 422: the backup exists already
                raise translate(exc, f"backing up {sha[:12]}") from exc
        return name

    def delete_branch(self, group: str) -> None:
        try:
            self.repo.get_git_ref(f"heads/{BRANCH_PREFIX}{group}").delete()
        except UnknownObjectException:
            pass
        except GithubException as exc:
            raise translate(exc, f"deleting branch {BRANCH_PREFIX}{group}") from exc

    def open_pull(self, group: str, title: str, body: str) -> tuple[int, str]:
        head = f"{BRANCH_PREFIX}{group}"
        try:
            pr = self.repo.create_pull(base=self.base_branch, head=head, title=title, body=body)
        except GithubException as exc:
            if exc.status != 422 or "already exists" not in str(exc.data):
                raise translate(exc, f"opening the PR for {head}") from exc
            pr = self._existing_pull(head)  # a rerun after a crash: adopt it
            pr.edit(title=title, body=body)
        return pr.number, pr.html_url

    def label(self, number: int, labels: Iterable[str], assignees: Iterable[str]) -> None:
        try:
            self.repo.get_issue(number).edit(labels=[BOT_LABEL, *labels], assignees=list(assignees))
        except GithubException as exc:
            raise translate(exc, f"labelling PR #{number}") from exc

    def request_reviews(self, number: int, reviewers: Iterable[str]) -> None:
        wanted = list(reviewers)
        if not wanted:
            return
        try:
            self.repo.get_pull(number).create_review_request(reviewers=wanted)
        except GithubException as exc:
            raise translate(exc, f"requesting reviews on PR #{number}") from exc

    def edit_pull(self, number: int, title: str | None = None, body: str | None = None) -> None:
        args: dict[str, Any] = {}
        if title is not None:
            args["title"] = title
        if body is not None:
            args["body"] = body
        if not args:
            return
        try:
            self.repo.get_pull(number).edit(**args)
        except GithubException as exc:
            raise translate(exc, f"editing PR #{number}") from exc

    def remove_label(self, number: int, label: str) -> None:
        try:
            self.repo.get_issue(number).remove_from_labels(label)
        except UnknownObjectException:
            pass
        except GithubException as exc:
            raise translate(exc, f"removing label {label} from #{number}") from exc

    def comment(self, number: int, text: str) -> None:
        try:
            self.repo.get_issue(number).create_comment(text)
        except GithubException as exc:
            raise translate(exc, f"commenting on #{number}") from exc

    def close(self, number: int) -> None:
        try:
            self.repo.get_pull(number).edit(state="closed")
        except GithubException as exc:
            raise translate(exc, f"closing PR #{number}") from exc

    def write_dashboard(self, number: int | None, title: str, body: str) -> int:
        try:
            if number is None:
                issue = self.repo.create_issue(
                    title=title, body=body, labels=[BOT_LABEL, DASHBOARD_LABEL]
                )
                return int(issue.number)
            self.repo.get_issue(number).edit(body=body)
            return number
        except GithubException as exc:
            raise translate(exc, "writing the dependency dashboard") from exc

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
