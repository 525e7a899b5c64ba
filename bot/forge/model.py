"""Values the PR lifecycle works with. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BRANCH_PREFIX = "condabot/"
BOT_LABEL = "condabot"
DASHBOARD_LABEL = "condabot-dashboard"
DASHBOARD_MARKER = "<!-- condabot-dashboard -->"
REBASE_LABEL = "rebase"


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the repository root
    content: bytes | None  # None deletes the file


@dataclass(frozen=True)
class GroupUpdate:
    """What one group's PR must contain now: the desired state."""

    group: str  # branch is condabot/<group>
    title: str
    body: str  # visible part; metadata is appended by the forge
    target: str  # the versions proposed, e.g. "miniconda3=py314_26.5.3-1": what "ignored" names
    digest: str  # of the files' content: the PR is stale when it differs
    files: tuple[FileChange, ...]
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    pins: tuple[tuple[str, str], ...] = ()  # (installer URL, sha256) the PR proposes
    alarms: tuple[str, ...] = ()  # what changed under an open PR that a reviewer must see

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.group


@dataclass(frozen=True)
class Metadata:
    """Hidden in each PR body: what the bot last wrote there."""

    group: str
    target: str
    digest: str
    base: str  # base commit the branch was generated on
    head: str  # the commit the bot pushed; another head means someone else pushed
    ignored_ack: bool = False  # the "closed = ignored" comment was posted
    foreign_ack: bool = False  # the "stopped updating" comment was posted
    cleaned: bool = False  # after a merge: the bot's branch was deleted (or left to its owner)
    pins: tuple[tuple[str, str], ...] = ()  # (installer URL, sha256) proposed at `head`
    alarms: tuple[str, ...] = ()  # kept until the target changes


class PrState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: PrState
    title: str
    body: str
    labels: tuple[str, ...]
    metadata: Metadata | None
    rebase_requested: bool = False


@dataclass(frozen=True)
class Snapshot:
    """The bot's view of the repository at the start of a run."""

    base_sha: str
    base_tree: str
    pulls: tuple[PullRequest, ...]
    dashboard_number: int | None = None
    dashboard_body: str | None = None
    # Declined versions remembered by the dashboard: (group, target) -> PR number. Closed PRs
    # age out of the one page a run reads; this record does not.
    remembered: tuple[tuple[str, str, int], ...] = ()
    duplicate_dashboards: tuple[int, ...] = ()  # left by two runs at once; closed by the next

    def for_group(self, group: str) -> tuple[PullRequest, ...]:
        return tuple(p for p in self.pulls if p.metadata and p.metadata.group == group)

    def declined(self) -> dict[tuple[str, str], int]:
        """Every (group, target) a maintainer closed unmerged and has not reopened or merged."""
        found = {(g, t): n for g, t, n in self.remembered}
        for pr in reversed(self.pulls):  # oldest first, so the newest state wins
            if pr.metadata is None:
                continue
            key = (pr.metadata.group, pr.metadata.target)
            if pr.state is PrState.CLOSED:
                found[key] = pr.number
            else:
                found.pop(key, None)
        return found

    def recorded_heads(self, group: str) -> set[str]:
        """Every head the bot recorded for this group's PRs: commits provably its own."""
        return {p.metadata.head for p in self.for_group(group) if p.metadata}

    def open_for(self, group: str) -> PullRequest | None:
        return next((p for p in self.for_group(group) if p.state is PrState.OPEN), None)


ZERO_OID = "0" * 40


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]


@dataclass(frozen=True)
class RefMove:
    """One ref update of an atomic compare-and-swap batch (GraphQL `updateRefs`)."""

    name: str  # fully qualified: refs/heads/condabot/<group>
    before: str | None  # the value it must hold now; None: it must not exist
    after: str | None  # None deletes it
    checked: bool = True  # False: no expectation (a backup ref named after its own content)

    @classmethod
    def branch(cls, group: str, before: str | None, after: str | None) -> RefMove:
        return cls(f"refs/heads/{BRANCH_PREFIX}{group}", before, after)

    @classmethod
    def backup(cls, group: str, sha: str) -> RefMove:
        # Named after the commit it keeps, so writing it twice is harmless.
        return cls(f"refs/condabot-backup/{group}/{sha}", None, sha, checked=False)


@dataclass(frozen=True)
class Limits:
    max_open: int = 10
    max_new_per_run: int = 5


@dataclass(frozen=True)
class Outcome:
    """One line of the run's report: what happened to a group."""

    group: str
    action: str
    detail: str = ""
    number: int | None = None
    url: str | None = None


def commit_trailer(group: str) -> str:
    """Marks the bot's own commits, so a leftover branch can be recognised as its own."""
    return f"Condabot-Group: {group}"
