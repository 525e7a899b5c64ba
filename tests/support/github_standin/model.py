"""The in-memory records of the stand-in: users, repositories, issues/pulls, labels, releases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .gitstore import GitStore


@dataclass
class User:
    login: str
    id: int
    type: str  # "User" | "Bot" | "Organization"
    name: str | None
    email: str  # the commit e-mail that GitHub maps to this account


@dataclass(frozen=True)
class Label:
    """A label made by labelling an issue (GitHub creates missing ones in grey)."""

    id: int
    name: str


@dataclass
class Comment:
    id: int
    issue_number: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PullStats:
    head_sha: str
    base_sha: str
    merge_base: str | None
    commits: int
    additions: int
    deletions: int
    changed_files: int
    mergeable: bool | None


@dataclass
class PullData:
    head_ref: str
    base_ref: str
    head_sha: str  # last head seen while the pull was open
    base_sha: str
    draft: bool
    maintainer_can_modify: bool
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    requested_reviewers: list[str] = field(default_factory=list)
    frozen: PullStats | None = None  # set when the pull is closed or merged


@dataclass
class Issue:
    """An issue, or a pull request when ``pull`` is set (they share numbers, as on GitHub)."""

    number: int
    id: int
    title: str
    body: str | None
    user: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)  # label keys (lower-case names)
    assignees: list[str] = field(default_factory=list)
    locked: bool = False
    closed_at: datetime | None = None
    closed_by: str | None = None
    comments: int = 0
    pull: PullData | None = None


@dataclass
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    author: str
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class CommitMeta:
    """Who created a commit through the API, and whether GitHub would have signed it."""

    login: str
    verified: bool


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    git: GitStore
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    releases: dict[int, Release] = field(default_factory=dict)
    commit_meta: dict[str, CommitMeta] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def pulls(self) -> list[Issue]:
        return [i for i in self.issues.values() if i.pull is not None]
