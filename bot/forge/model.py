"""Values the PR lifecycle works with. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BRANCH_PREFIX = "condabot/"
BOT_LABEL = "condabot"
DASHBOARD_LABEL = "condabot-dashboard"
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

    def open_for(self, group: str) -> PullRequest | None:
        return next((p for p in self.for_group(group) if p.state is PrState.OPEN), None)


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
