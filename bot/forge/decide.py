"""The PR lifecycle as a pure function: desired updates + what exists -> actions.

Rules (see README "Pull requests"):
- one open PR per group, on branch condabot/<group>, holding one bot commit;
- same target, up to date: nothing at all (zero writes);
- newer target: regenerate the branch; edit title/body only when they changed;
- target no longer needed: close with a comment, delete the branch (unless
  someone else pushed to it: their commits stay);
- closed unmerged by a human: that target is ignored (one comment says how to
  undo: reopen it); newer targets are proposed again; never reopened by the bot;
- someone else pushed to the branch: stop updating, comment once; regenerate only
  when the `rebase` label or the checkbox asks (their head is kept under a backup ref);
- base moved and the PR conflicts: regenerate;
- limits on open PRs and on new PRs per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.forge.body import visible_part
from bot.forge.model import GroupUpdate, Limits, PrState, PullRequest, Snapshot


class Probe(Protocol):
    """Facts fetched only when a decision needs them (each costs a request)."""

    def head(self, group: str) -> str | None: ...

    def mergeable(self, number: int) -> bool | None: ...


@dataclass(frozen=True)
class Open:
    update: GroupUpdate


@dataclass(frozen=True)
class Regenerate:
    update: GroupUpdate
    pr: PullRequest
    head: str | None  # the branch head this decision saw: the ref moves only from there
    reason: str = ""
    keep_head: bool = False  # the head is someone else's: kept under a backup ref


@dataclass(frozen=True)
class Edit:
    update: GroupUpdate
    pr: PullRequest


@dataclass(frozen=True)
class Close:
    pr: PullRequest
    group: str
    delete_head: str | None  # the bot's own head, deleted only if the branch still holds it


@dataclass(frozen=True)
class Acknowledge:
    """Post the one-time comment for an ignored (closed) or foreign-edited PR."""

    pr: PullRequest
    group: str
    kind: str  # "ignored" | "foreign"


@dataclass(frozen=True)
class Cleanup:
    """After a merge: delete the bot's branch, so the next PR starts with a plain create."""

    pr: PullRequest
    group: str


@dataclass(frozen=True)
class Skip:
    group: str
    reason: str
    number: int | None = None


Action = Open | Regenerate | Edit | Close | Acknowledge | Cleanup | Skip


def decide(
    desired: Sequence[GroupUpdate],
    snapshot: Snapshot,
    probe: Probe,
    limits: Limits | None = None,
    held: frozenset[str] = frozenset(),
) -> list[Action]:
    """`held`: groups whose plan cannot be trusted this run (upstream mid-upload, an installer
    not verified): their PRs are left exactly as they are, neither closed nor regenerated."""
    limits = limits or Limits()
    wanted = {u.group: u for u in desired}
    open_groups = {p.metadata.group for p in snapshot.pulls if p.metadata and _is_open(p)}
    groups = sorted(set(wanted) | open_groups)
    open_count = sum(1 for p in snapshot.pulls if _is_open(p))
    actions: list[Action] = []
    new = 0
    for group in groups:
        pr = snapshot.open_for(group)
        update = wanted.get(group)
        if group in held:
            number = pr.number if pr else None
            actions.append(Skip(group, "held: upstream is not settled for it", number))
        elif pr is not None:
            actions.extend(_open_pr(group, pr, update, snapshot, probe))
        elif update is not None:
            action = _no_pr(update, snapshot)
            if isinstance(action, Open):
                if open_count >= limits.max_open or new >= limits.max_new_per_run:
                    action = Skip(group, "limit reached: waits for a later run")
                else:
                    open_count, new = open_count + 1, new + 1
            actions.append(action)
    actions.extend(_cleanups(snapshot))
    return actions


def _cleanups(snapshot: Snapshot) -> list[Action]:
    latest: dict[str, PullRequest] = {}
    for pr in snapshot.pulls:  # newest first, as listed
        if pr.metadata and pr.metadata.group not in latest:
            latest[pr.metadata.group] = pr
    return [
        Cleanup(pr, group)
        for group, pr in sorted(latest.items())
        if pr.state is PrState.MERGED and pr.metadata and not pr.metadata.cleaned
    ]


def _is_open(pr: PullRequest) -> bool:
    return pr.state is PrState.OPEN and pr.metadata is not None


def _open_pr(
    group: str, pr: PullRequest, update: GroupUpdate | None, snapshot: Snapshot, probe: Probe
) -> list[Action]:
    meta = pr.metadata
    assert meta is not None
    if update is None:
        head = probe.head(group)
        return [Close(pr, group, delete_head=head if head == meta.head else None)]
    stale = update.target != meta.target or update.digest != meta.digest
    regenerate = stale or pr.rebase_requested
    if not regenerate and meta.base != snapshot.base_sha:
        regenerate = probe.mergeable(pr.number) is False  # conflicts after the base moved
    if not regenerate:
        return [Edit(update, pr)] if _text_differs(update, pr) else []
    head = probe.head(group)
    if head is not None and head != meta.head:  # someone else pushed
        if pr.rebase_requested:
            return [Regenerate(update, pr, head, "rebase requested", keep_head=True)]
        return [] if meta.foreign_ack else [Acknowledge(pr, group, "foreign")]
    return [Regenerate(update, pr, head, _reason(update, pr, stale))]


def _reason(update: GroupUpdate, pr: PullRequest, stale: bool) -> str:
    assert pr.metadata is not None
    if update.alarms and update.alarms != pr.metadata.alarms:
        return "checksum changed upstream"
    if pr.rebase_requested:
        return "rebase requested"
    return "newer target" if stale else "conflict"


def _no_pr(update: GroupUpdate, snapshot: Snapshot) -> Action:
    for pr in snapshot.for_group(update.group):
        meta = pr.metadata
        assert meta is not None
        if meta.target != update.target:
            continue
        if pr.state is PrState.CLOSED:
            if not meta.ignored_ack:
                return Acknowledge(pr, update.group, "ignored")
            return Skip(update.group, "closed by a maintainer: ignored", pr.number)
        if pr.state is PrState.MERGED:
            return Skip(update.group, "merged; the base branch does not show it yet", pr.number)
    number = snapshot.declined().get((update.group, update.target))
    if number is not None:  # closed long ago: remembered by the dashboard
        return Skip(update.group, "closed by a maintainer: ignored", number)
    return Open(update)


def _text_differs(update: GroupUpdate, pr: PullRequest) -> bool:
    return update.title != pr.title or update.body.rstrip() != visible_part(pr.body).rstrip()
