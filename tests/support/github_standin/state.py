"""The stand-in's domain: what GitHub does to users, repositories, refs, pulls, issues and releases.

Operations raise :class:`ApiError` with GitHub's status codes and messages; they know
nothing of HTTP or URLs (see ``render.py`` and ``routes.py``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from . import errors as e
from .errors import ApiError
from .gitstore import GitError, GitStore, Person, files_to_edits
from .model import Comment, CommitMeta, Issue, Label, PullData, PullStats, Release, Repo, User

# The account GitHub uses as committer (and signer) of commits it makes for you.
WEB_FLOW = "web-flow"
DEFAULT_TOKENS = {
    "bot-token": ("condabot[bot]", "Bot"),
    "human-token": ("alice", "User"),
    "maintainer-token": ("bob", "User"),
}


class State:
    """All in-memory state. Callers hold ``lock`` around every operation."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}
        self.repos: dict[str, Repo] = {}
        self._pull_stats: dict[tuple[str, str, str], PullStats] = {}
        # (repo full name, number) -> how many more reads answer mergeable: null
        self.mergeable_pending: dict[tuple[str, int], int] = {}
        self.add_user(WEB_FLOW, name="GitHub", email="noreply@github.com")
        for token, (login, kind) in DEFAULT_TOKENS.items():
            self.add_user(login, token=token, kind=kind)

    # -- clock and ids -----------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def next_id(self) -> int:
        return next(self._ids)

    # -- users -------------------------------------------------------------------
    def add_user(
        self,
        login: str,
        *,
        token: str | None = None,
        kind: str = "User",
        name: str | None = None,
        email: str | None = None,
    ) -> User:
        user = self.users.get(login.lower())
        if user is None:
            uid = self.next_id()
            user = User(
                login=login,
                id=uid,
                type=kind,
                name=name,
                email=email or f"{uid}+{login}@users.noreply.github.com",
            )
            self.users[login.lower()] = user
        if token is not None:
            self.tokens[token] = user.login
        return user

    def user(self, login: str) -> User:
        user = self.users.get(login.lower())
        if user is None:
            raise e.not_found()
        return user

    def user_for_email(self, email: str) -> User | None:
        wanted = email.lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def identity(self, login: str) -> Person:
        user = self.user(login)
        return Person(user.name or user.login, user.email, int(self.now().timestamp()))

    # -- repositories --------------------------------------------------------------
    def create_repo(
        self,
        owner: str,
        name: str,
        files: Mapping[str, bytes | None],
        default_branch: str = "main",
        *,
        description: str | None = None,
    ) -> Repo:
        key = f"{owner}/{name}".lower()
        if key in self.repos:
            raise ValueError(f"repository {owner}/{name} already exists")
        owner_user = self.users.get(owner.lower()) or self.add_user(owner, kind="Organization")
        now = self.now()
        git = GitStore(self.root / owner_user.login / f"{name}.git")
        git.init(default_branch)
        repo = Repo(
            id=self.next_id(),
            owner=owner_user.login,
            name=name,
            default_branch=default_branch,
            description=description,
            created_at=now,
            updated_at=now,
            pushed_at=now,
            git=git,
        )
        if any(data is not None for data in files.values()):
            tree = git.build_tree(None, files_to_edits(files))
            person = Person(
                owner_user.name or owner_user.login, owner_user.email, int(now.timestamp())
            )
            sha = git.write_commit(tree, [], person, person, "Initial commit")
            git.update_ref(f"refs/heads/{default_branch}", sha, None)
        self.repos[key] = repo
        return repo

    def repo(self, owner: str, name: str) -> Repo:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise e.not_found()
        return repo

    # -- refs ----------------------------------------------------------------------
    def create_ref(self, repo: Repo, actor: str, ref: str, sha: str) -> None:
        if not repo.git.valid_ref_name(ref):
            raise e.unprocessable(f"{ref} is not a valid ref name.")
        if repo.git.object_type(sha) is None:
            raise e.unprocessable("Object does not exist")
        if repo.git.ref(ref) is not None:
            raise e.unprocessable("Reference already exists")
        repo.git.update_ref(ref, sha, None)
        self._after_ref_change(repo, actor, ref, None, sha)

    def update_refs(
        self, repo: Repo, actor: str, moves: Sequence[tuple[str, str | None, str | None, bool]]
    ) -> bool:
        """GraphQL ``updateRefs``: ``(name, before, after, force)`` moves, atomically.

        False (nothing applied) when any ref is not at its ``before``; a non-fast-forward move
        without ``force`` or an unknown object is refused with an error, as GitHub does.
        """
        for name, before, after, force in moves:
            if not repo.git.valid_ref_name(name):
                raise e.unprocessable(f"{name} is not a valid ref name.")
            if after is not None and repo.git.object_type(after) is None:
                raise e.unprocessable("Object does not exist")
            if before and after and not force and not repo.git.is_ancestor(before, after):
                raise e.unprocessable(f"Update to {name} is not a fast forward")
        if not repo.git.update_refs([(name, before, after) for name, before, after, _ in moves]):
            return False
        for name, before, after, _ in moves:
            self._after_ref_change(repo, actor, name, before, after)
        return True

    def _after_ref_change(
        self, repo: Repo, actor: str, ref: str, old: str | None, new: str | None
    ) -> None:
        """What GitHub does around a branch move: close or mark pulls merged."""
        repo.pushed_at = self.now()
        if not ref.startswith("refs/heads/"):
            return
        branch = ref.removeprefix("refs/heads/")
        for issue in repo.pulls():
            pull = issue.pull
            assert pull is not None
            if issue.state != "open":
                continue
            if new is None and branch in (pull.head_ref, pull.base_ref):
                # GitHub closes a pull whose head (or base) branch is deleted.
                self._close(repo, issue, actor, head_sha=old if branch == pull.head_ref else None)
            elif new is not None and old is not None and pull.base_ref == branch:
                head = self.pull_stats(repo, issue).head_sha
                if repo.git.is_ancestor(head, new) and not repo.git.is_ancestor(head, old):
                    # Its commits were pushed to the base: GitHub marks it merged.
                    self._mark_merged(repo, issue, actor, head, base_before=old)

    # -- commits made by test controls (acting as a human with git push) --------------
    def push_commit(
        self,
        repo: Repo,
        branch: str,
        files: Mapping[str, bytes | None],
        author_login: str,
        message: str,
        *,
        start_from: str | None = None,
    ) -> str:
        ref = f"refs/heads/{branch}"
        old = repo.git.ref(ref)
        parent = old
        if parent is None:
            if start_from is None:
                raise ValueError(f"branch {branch} does not exist (pass start_from=)")
            parent = repo.git.resolve(start_from)
            if parent is None:
                raise ValueError(f"cannot resolve {start_from}")
        tree = repo.git.build_tree(repo.git.tree_of(parent), files_to_edits(files))
        person = self.identity(author_login)
        sha = repo.git.write_commit(tree, [parent], person, person, message)
        repo.git.update_ref(ref, sha, old)
        self._after_ref_change(repo, author_login, ref, old, sha)
        return sha

    def record_commit(self, repo: Repo, sha: str, login: str, *, verified: bool) -> None:
        repo.commit_meta[sha] = CommitMeta(login, verified)

    # -- pulls ---------------------------------------------------------------------
    def _new_issue(self, repo: Repo, actor: str, title: str, body: str | None) -> Issue:
        now = self.now()
        issue = Issue(
            number=repo.next_number,
            id=self.next_id(),
            title=title,
            body=body,
            user=actor,
            created_at=now,
            updated_at=now,
        )
        repo.next_number += 1
        repo.issues[issue.number] = issue
        return issue

    def issue(self, repo: Repo, number: int) -> Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise e.not_found()
        return issue

    def pull(self, repo: Repo, number: int) -> Issue:
        issue = repo.issues.get(number)
        if issue is None or issue.pull is None:
            raise e.not_found()
        return issue

    def _open_duplicate(self, repo: Repo, head: str, base: str, exclude: int | None = None) -> bool:
        return any(
            i.state == "open"
            and i.number != exclude
            and i.pull is not None
            and i.pull.head_ref == head
            and i.pull.base_ref == base
            for i in repo.issues.values()
        )

    def create_pull(
        self,
        repo: Repo,
        actor: str,
        *,
        title: str | None,
        head: str,
        base: str,
        body: str | None,
        draft: bool,
        maintainer_can_modify: bool,
        issue_number: int | None,
    ) -> Issue:
        branch = head
        if ":" in head:
            head_owner, branch = head.split(":", 1)
            if head_owner.lower() != repo.owner.lower():
                raise e.validation_failed(e.invalid("PullRequest", "head"))
        existing = self.issue(repo, issue_number) if issue_number is not None else None
        if existing is not None and existing.pull is not None:
            raise e.validation_failed(e.custom("PullRequest", "Issue is already a pull request"))
        if not title and existing is None:
            raise e.validation_failed(
                {"resource": "PullRequest", "code": "missing_field", "field": "title"}
            )
        base_sha = repo.git.ref(f"refs/heads/{base}")
        if base_sha is None:
            raise e.validation_failed(e.invalid("PullRequest", "base"))
        head_sha = repo.git.ref(f"refs/heads/{branch}")
        if head_sha is None:
            raise e.validation_failed(e.invalid("PullRequest", "head"))
        if self._open_duplicate(repo, branch, base):
            raise e.validation_failed(
                e.custom("PullRequest", f"A pull request already exists for {repo.owner}:{branch}.")
            )
        if repo.git.count(head_sha, base_sha) == 0:
            raise e.validation_failed(
                e.custom("PullRequest", f"No commits between {base} and {branch}")
            )
        issue = existing or self._new_issue(repo, actor, title or "", body)
        issue.pull = PullData(
            head_ref=branch,
            base_ref=base,
            head_sha=head_sha,
            base_sha=base_sha,
            draft=draft,
            maintainer_can_modify=maintainer_can_modify,
        )
        return issue

    def pull_stats(self, repo: Repo, issue: Issue) -> PullStats:
        """Live numbers for an open pull (refreshing its head/base), frozen ones otherwise."""
        pull = issue.pull
        assert pull is not None
        if pull.frozen is not None:
            return pull.frozen
        pull.head_sha = repo.git.ref(f"refs/heads/{pull.head_ref}") or pull.head_sha
        pull.base_sha = repo.git.ref(f"refs/heads/{pull.base_ref}") or pull.base_sha
        key = (repo.full_name, pull.head_sha, pull.base_sha)
        stats = self._pull_stats.get(key)
        if stats is None:
            merge_base = repo.git.merge_base(pull.base_sha, pull.head_sha)
            changes = repo.git.diff(merge_base, pull.head_sha)
            stats = PullStats(
                head_sha=pull.head_sha,
                base_sha=pull.base_sha,
                merge_base=merge_base,
                commits=repo.git.count(pull.head_sha, pull.base_sha),
                additions=sum(c.additions for c in changes),
                deletions=sum(c.deletions for c in changes),
                changed_files=len(changes),
                mergeable=repo.git.merge_tree(pull.base_sha, pull.head_sha) is not None,
            )
            self._pull_stats[key] = stats
        return stats

    def take_mergeable_pending(self, repo: Repo, issue: Issue) -> bool:
        """GitHub answers ``mergeable: null`` while its background job computes it."""
        key = (repo.full_name, issue.number)
        left = self.mergeable_pending.get(key, 0)
        if left <= 0:
            return False
        self.mergeable_pending[key] = left - 1
        return True

    def _freeze(self, repo: Repo, issue: Issue, head_sha: str | None = None) -> None:
        pull = issue.pull
        assert pull is not None
        if head_sha is not None:
            pull.head_sha = head_sha
        live = self.pull_stats(repo, issue)
        pull.frozen = PullStats(
            head_sha=live.head_sha,
            base_sha=live.base_sha,
            merge_base=live.merge_base,
            commits=live.commits,
            additions=live.additions,
            deletions=live.deletions,
            changed_files=live.changed_files,
            mergeable=None,
        )

    def _close(self, repo: Repo, issue: Issue, actor: str, head_sha: str | None = None) -> None:
        if issue.pull is not None:
            if head_sha is not None:
                # The branch is already gone; keep the last head GitHub saw.
                issue.pull.head_sha = head_sha
                issue.pull.frozen = None
            self._freeze(repo, issue)
        now = self.now()
        issue.state = "closed"
        issue.closed_at = now
        issue.closed_by = actor
        issue.updated_at = now

    def _reopen(self, repo: Repo, issue: Issue) -> None:
        pull = issue.pull
        if pull is not None:
            if pull.merged_at is not None:
                raise e.validation_failed(
                    e.custom(
                        "PullRequest",
                        "state cannot be changed. The pull request has been merged.",
                        "state",
                    )
                )
            for branch in (pull.head_ref, pull.base_ref):
                if repo.git.ref(f"refs/heads/{branch}") is None:
                    raise e.validation_failed(
                        e.custom(
                            "PullRequest",
                            f"state cannot be changed. The {branch} branch has been deleted.",
                            "state",
                        )
                    )
            if self._open_duplicate(repo, pull.head_ref, pull.base_ref, exclude=issue.number):
                raise e.validation_failed(
                    e.custom(
                        "PullRequest",
                        f"A pull request already exists for {repo.owner}:{pull.head_ref}.",
                    )
                )
            pull.frozen = None
        issue.state = "open"
        issue.state_reason = "reopened"
        issue.closed_at = None
        issue.closed_by = None
        issue.updated_at = self.now()

    def set_state(
        self, repo: Repo, issue: Issue, actor: str, state: str, reason: str | None = None
    ) -> None:
        if state == issue.state:
            return
        if state == "closed":
            self._close(repo, issue, actor)
            issue.state_reason = reason or ("completed" if issue.pull is None else None)
        elif state == "open":
            self._reopen(repo, issue)
        else:
            raise e.validation_failed(
                e.invalid("Issue" if issue.pull is None else "PullRequest", "state")
            )

    def update_pull(
        self,
        repo: Repo,
        issue: Issue,
        actor: str,
        *,
        title: str | None = None,
        body: str | None = None,
        body_set: bool = False,
        state: str | None = None,
        base: str | None = None,
        maintainer_can_modify: bool | None = None,
    ) -> None:
        pull = issue.pull
        assert pull is not None
        if base is not None and base != pull.base_ref:
            if issue.state != "open" and state != "open":
                raise e.validation_failed(
                    e.invalid(
                        "PullRequest",
                        "base",
                        message="Cannot change the base branch of a closed pull request.",
                    )
                )
            if repo.git.ref(f"refs/heads/{base}") is None:
                raise e.validation_failed(e.invalid("PullRequest", "base"))
        if state is not None:
            self.set_state(repo, issue, actor, state)
        if base is not None:
            pull.base_ref = base
            pull.frozen = None if issue.state == "open" else pull.frozen
        if title is not None:
            issue.title = title
        if body_set:
            issue.body = body
        if maintainer_can_modify is not None:
            pull.maintainer_can_modify = maintainer_can_modify
        issue.updated_at = self.now()

    def _mark_merged(
        self, repo: Repo, issue: Issue, actor: str, merge_sha: str, base_before: str
    ) -> None:
        pull = issue.pull
        assert pull is not None
        pull.base_sha = base_before
        pull.frozen = None
        stats = self.pull_stats_at(repo, issue, base_before)
        pull.frozen = stats
        now = self.now()
        pull.merged_at = now
        pull.merged_by = actor
        pull.merge_commit_sha = merge_sha
        issue.state = "closed"
        issue.closed_at = now
        issue.closed_by = actor
        issue.updated_at = now

    def pull_stats_at(self, repo: Repo, issue: Issue, base_sha: str) -> PullStats:
        pull = issue.pull
        assert pull is not None
        head = pull.head_sha
        merge_base = repo.git.merge_base(base_sha, head)
        changes = repo.git.diff(merge_base, head)
        return PullStats(
            head_sha=head,
            base_sha=base_sha,
            merge_base=merge_base,
            commits=repo.git.count(head, base_sha),
            additions=sum(c.additions for c in changes),
            deletions=sum(c.deletions for c in changes),
            changed_files=len(changes),
            mergeable=None,
        )

    def merge_pull(
        self,
        repo: Repo,
        issue: Issue,
        actor: str,
        *,
        commit_title: str | None,
        commit_message: str | None,
        sha: str | None,
        merge_method: str,
    ) -> str:
        pull = issue.pull
        assert pull is not None
        if merge_method not in ("merge", "squash", "rebase"):
            raise e.validation_failed(e.invalid("PullRequest", "merge_method"))
        if issue.state != "open":
            raise ApiError(405, "Pull Request is not mergeable")
        if pull.draft:
            raise ApiError(405, "Pull Request is still a draft")
        stats = self.pull_stats(repo, issue)
        if sha is not None and sha != stats.head_sha:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        tree = repo.git.merge_tree(stats.base_sha, stats.head_sha)
        if tree is None:
            raise ApiError(405, "Pull Request is not mergeable")
        author = self.identity(actor)
        committer = self.identity(WEB_FLOW)
        if merge_method == "rebase":
            if not repo.git.is_ancestor(stats.base_sha, stats.head_sha):
                raise ApiError(405, "This branch can't be rebased")
            new = stats.head_sha
        else:
            if merge_method == "merge":
                title = (
                    commit_title
                    or f"Merge pull request #{issue.number} from {repo.owner}/{pull.head_ref}"
                )
                message = issue.title if commit_message is None else commit_message
                parents = [stats.base_sha, stats.head_sha]
            else:
                title = commit_title or f"{issue.title} (#{issue.number})"
                if commit_message is None:
                    shas = repo.git.rev_list(stats.head_sha, [stats.base_sha])
                    commit_message = "\n\n".join(
                        "* " + repo.git.read_commit(s).message.strip() for s in reversed(shas)
                    )
                message = commit_message
                parents = [stats.base_sha]
            full = f"{title}\n\n{message}" if message else title
            new = repo.git.write_commit(tree, parents, author, committer, full)
            self.record_commit(repo, new, actor, verified=True)
        try:
            repo.git.update_ref(f"refs/heads/{pull.base_ref}", new, stats.base_sha)
        except GitError as exc:
            raise ApiError(
                405, "Base branch was modified. Review and try the merge again."
            ) from exc
        self._mark_merged(repo, issue, actor, new, base_before=stats.base_sha)
        self._after_ref_change(repo, actor, f"refs/heads/{pull.base_ref}", stats.base_sha, new)
        return new

    def request_reviewers(
        self, repo: Repo, issue: Issue, reviewers: Sequence[str], teams: Sequence[str]
    ) -> None:
        pull = issue.pull
        assert pull is not None
        not_collaborator = ApiError(
            422,
            "Reviews may only be requested from collaborators. One or more of the users or "
            f"teams you specified is not a collaborator of the {repo.full_name} repository.",
        )
        if teams:
            raise not_collaborator
        for login in reviewers:
            user = self.users.get(login.lower())
            if user is None or user.type != "User" or user.login == WEB_FLOW:
                raise not_collaborator
            if user.login == issue.user:
                raise ApiError(422, "Review cannot be requested from pull request author.")
        for login in reviewers:
            canonical = self.users[login.lower()].login
            if canonical not in pull.requested_reviewers:
                pull.requested_reviewers.append(canonical)
        issue.updated_at = self.now()

    # -- issues ----------------------------------------------------------------------
    def create_issue(
        self,
        repo: Repo,
        actor: str,
        *,
        title: str,
        body: str | None,
        labels: Sequence[str],
        assignees: Sequence[str],
    ) -> Issue:
        canonical = self._assignable(assignees)
        issue = self._new_issue(repo, actor, title, body)
        self.set_labels(repo, issue, labels)
        issue.assignees = canonical
        return issue

    def _assignable(self, logins: Sequence[str]) -> list[str]:
        out: list[str] = []
        for login in logins:
            user = self.users.get(login.lower())
            if user is None or user.type == "Organization":
                raise e.validation_failed(e.invalid("Issue", "assignees", value=login))
            if user.login not in out:
                out.append(user.login)
        return out

    def update_issue(
        self,
        repo: Repo,
        issue: Issue,
        actor: str,
        *,
        title: str | None = None,
        body: str | None = None,
        body_set: bool = False,
        state: str | None = None,
        state_reason: str | None = None,
        labels: Sequence[str] | None = None,
        assignees: Sequence[str] | None = None,
    ) -> None:
        canonical = self._assignable(assignees) if assignees is not None else None
        if state is not None:
            self.set_state(repo, issue, actor, state, state_reason)
        if title is not None:
            issue.title = title
        if body_set:
            issue.body = body
        if labels is not None:
            self.set_labels(repo, issue, labels)
        if canonical is not None:
            issue.assignees = canonical
        issue.updated_at = self.now()

    # -- labels ----------------------------------------------------------------------
    def ensure_label(self, repo: Repo, name: str) -> Label:
        label = repo.labels.get(name.lower())
        if label is None:
            label = Label(self.next_id(), name)
            repo.labels[name.lower()] = label
        return label

    def add_labels(self, repo: Repo, issue: Issue, names: Sequence[str]) -> None:
        for name in names:
            key = self.ensure_label(repo, name).name.lower()
            if key not in issue.labels:
                issue.labels.append(key)
        issue.updated_at = self.now()

    def set_labels(self, repo: Repo, issue: Issue, names: Sequence[str]) -> None:
        issue.labels = []
        self.add_labels(repo, issue, names)

    def remove_label(self, issue: Issue, name: str) -> None:
        key = name.lower()
        if key not in issue.labels:
            raise e.not_found("Label does not exist")
        issue.labels.remove(key)
        issue.updated_at = self.now()

    # -- comments --------------------------------------------------------------------
    def add_comment(self, repo: Repo, issue: Issue, actor: str, body: str) -> Comment:
        now = self.now()
        comment = Comment(self.next_id(), issue.number, actor, body, now, now)
        repo.comments[comment.id] = comment
        issue.comments += 1
        issue.updated_at = now
        return comment

    # -- releases --------------------------------------------------------------------
    def create_release(
        self,
        repo: Repo,
        actor: str,
        *,
        tag_name: str,
        target_commitish: str | None,
        name: str | None,
        body: str | None,
        draft: bool,
        prerelease: bool,
    ) -> Release:
        if any(r.tag_name == tag_name for r in repo.releases.values()):
            raise e.validation_failed(
                {"resource": "Release", "code": "already_exists", "field": "tag_name"}
            )
        if not repo.git.valid_ref_name(f"refs/tags/{tag_name}"):
            raise e.validation_failed(e.invalid("Release", "tag_name"))
        target = target_commitish or repo.default_branch
        if repo.git.ref(f"refs/tags/{tag_name}") is None and repo.git.resolve(target) is None:
            raise e.validation_failed(e.invalid("Release", "target_commitish"))
        now = self.now()
        release = Release(
            id=self.next_id(),
            tag_name=tag_name,
            target_commitish=target,
            name=name,
            body=body,
            draft=draft,
            prerelease=prerelease,
            author=actor,
            created_at=now,
            published_at=None,
        )
        repo.releases[release.id] = release
        if not draft:
            self._publish(repo, release, actor)
        return release

    def _publish(self, repo: Repo, release: Release, actor: str) -> None:
        tag_ref = f"refs/tags/{release.tag_name}"
        if repo.git.ref(tag_ref) is None:
            target = repo.git.resolve(release.target_commitish)
            if target is None:
                raise e.validation_failed(e.invalid("Release", "target_commitish"))
            repo.git.update_ref(tag_ref, target, None)
            self._after_ref_change(repo, actor, tag_ref, None, target)
        release.published_at = self.now()

    def release(self, repo: Repo, release_id: int) -> Release:
        release = repo.releases.get(release_id)
        if release is None:
            raise e.not_found()
        return release

    def update_release(
        self,
        repo: Repo,
        release: Release,
        actor: str,
        *,
        tag_name: str | None,
        target_commitish: str | None,
        name: str | None,
        name_set: bool,
        body: str | None,
        body_set: bool,
        draft: bool | None,
        prerelease: bool | None,
    ) -> None:
        if tag_name is not None and tag_name != release.tag_name:
            if any(r.tag_name == tag_name for r in repo.releases.values()):
                raise e.validation_failed(
                    {"resource": "Release", "code": "already_exists", "field": "tag_name"}
                )
            release.tag_name = tag_name
        if target_commitish is not None:
            release.target_commitish = target_commitish
        if name_set:
            release.name = name
        if body_set:
            release.body = body
        if prerelease is not None:
            release.prerelease = prerelease
        if draft is False and release.draft:
            release.draft = False
            self._publish(repo, release, actor)
        elif draft is True:
            release.draft = True
