"""Carry out decided actions through a forge, or only say them (dry run)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from bot.forge.body import compose, visible_part
from bot.forge.decide import Acknowledge, Action, Cleanup, Close, Edit, Open, Regenerate, Skip
from bot.forge.model import (
    REBASE_LABEL,
    Commit,
    FileChange,
    GroupUpdate,
    Metadata,
    Outcome,
    RefMove,
    Snapshot,
    commit_trailer,
)

IGNORED_COMMENT = (
    "condabot will not propose `{target}` again for `{group}`, because this pull request was "
    "closed without merging. Newer versions will get a new pull request.\n\n"
    "To undo this, reopen this pull request: condabot will keep it up to date again."
)
FOREIGN_COMMENT = (
    "Someone other than condabot pushed to `{branch}`, so condabot has stopped updating this "
    "pull request. To have it regenerated from the base branch, add the `rebase` label or tick "
    "the checkbox in the description; the current head is then kept under "
    "`refs/condabot-backup/{group}/`."
)
OBSOLETE_COMMENT = "No longer needed: the base branch already has, or no longer needs, this update."


class Raced(Exception):
    """A ref was not where the decision saw it: someone pushed meanwhile. Decide again."""

    def __init__(self, group: str) -> None:
        super().__init__(f"condabot/{group} moved while condabot was updating it")
        self.group = group


class ForgeWriter(Protocol):
    def head(self, group: str) -> str | None: ...
    def commit(
        self, base_sha: str, base_tree: str, files: Iterable[FileChange], message: str
    ) -> Commit: ...
    def commit_of(self, sha: str) -> Commit: ...
    def create_branch(self, group: str, sha: str) -> bool: ...
    def move_refs(self, moves: Sequence[RefMove]) -> bool: ...
    def open_pull(self, group: str, title: str, body: str) -> tuple[int, str]: ...
    def label(self, number: int, labels: Iterable[str], assignees: Iterable[str]) -> None: ...
    def request_reviews(self, number: int, reviewers: Iterable[str]) -> None: ...
    def edit_pull(self, number: int, title: str | None = None, body: str | None = None) -> None: ...
    def remove_label(self, number: int, label: str) -> None: ...
    def comment(self, number: int, text: str) -> None: ...
    def close(self, number: int) -> None: ...


class Executor:
    def __init__(
        self,
        forge: ForgeWriter,
        snapshot: Snapshot,
        dry_run: bool,
        say: Callable[[str], None],
        run_url: str | None = None,
    ) -> None:
        self.forge, self.snapshot, self.dry_run, self.say = forge, snapshot, dry_run, say
        self.run_url = run_url

    def run(self, actions: Sequence[Action]) -> list[Outcome]:
        return [self._one(action) for action in actions]

    def _one(self, action: Action) -> Outcome:
        if isinstance(action, Skip):
            return Outcome(action.group, "skipped", action.reason, action.number)
        if self.dry_run:
            self.say(f"would {describe(action)}")
            return Outcome(group_of(action), "dry-run", describe(action))
        if isinstance(action, Open):
            return self._open(action)
        if isinstance(action, Regenerate):
            return self._regenerate(action)
        if isinstance(action, Edit):
            return self._edit(action)
        if isinstance(action, Close):
            return self._close(action)
        if isinstance(action, Cleanup):
            return self._cleanup(action)
        return self._acknowledge(action)

    def _commit(self, update: GroupUpdate) -> Commit:
        message = f"{update.title}\n\n{commit_trailer(update.group)}\n"
        base = self.snapshot
        return self.forge.commit(base.base_sha, base.base_tree, update.files, message)

    def _move(self, group: str, moves: Sequence[RefMove]) -> None:
        """Every branch move is a compare-and-swap; a lost race means "decide again"."""
        if not self.forge.move_refs(moves):
            raise Raced(group)

    def _provably_ours(self, group: str, head: str, new: Commit) -> bool:
        """A head the bot recorded, or one whose content is exactly what it writes now."""
        if head in self.snapshot.recorded_heads(group):
            return True
        old = self.forge.commit_of(head)
        return (old.tree, old.parents) == (new.tree, new.parents)

    def _create_branch(self, group: str, new: Commit) -> None:
        if self.forge.create_branch(group, new.sha):
            return
        head = self.forge.head(group)  # left by a crashed run, or by a closed PR
        moves = [RefMove.branch(group, head, new.sha)]
        if head is not None and not self._provably_ours(group, head, new):
            moves.insert(0, RefMove.backup(group, head))
            self.say(f"condabot/{group} held commits condabot did not make; kept under a backup")
        self._move(group, moves)

    def _metadata(self, update: GroupUpdate, head: str) -> Metadata:
        return Metadata(
            update.group,
            update.target,
            update.digest,
            self.snapshot.base_sha,
            head,
            pins=update.pins,
            alarms=update.alarms,
        )

    def _open(self, action: Open) -> Outcome:
        u = action.update
        new = self._commit(u)
        self._create_branch(u.group, new)
        number, url = self.forge.open_pull(
            u.group, u.title, compose(u.body, self._metadata(u, new.sha), self.run_url)
        )
        self.forge.label(number, u.labels, u.assignees)
        self.forge.request_reviews(number, u.reviewers)
        self.say(f"opened #{number} {u.title}")
        return Outcome(u.group, "opened", u.title, number, url)

    def _regenerate(self, action: Regenerate) -> Outcome:
        u, pr = action.update, action.pr
        new = self._commit(u)
        moves = [RefMove.branch(u.group, action.head, new.sha)]
        if action.keep_head and action.head is not None:
            moves.insert(0, RefMove.backup(u.group, action.head))
        self._move(u.group, moves)  # the backup and the branch move together, or not at all
        if action.keep_head:
            self.forge.comment(
                pr.number,
                f"Regenerated on request; the previous head is kept as `{moves[0].name}`.",
            )
        title = u.title if u.title != pr.title else None
        self.forge.edit_pull(
            pr.number, title, compose(u.body, self._metadata(u, new.sha), self.run_url)
        )
        if REBASE_LABEL in pr.labels:
            self.forge.remove_label(pr.number, REBASE_LABEL)
        self.say(f"updated #{pr.number} {u.title} ({action.reason})")
        return Outcome(u.group, "updated", action.reason, pr.number)

    def _edit(self, action: Edit) -> Outcome:
        u, pr = action.update, action.pr
        assert pr.metadata is not None
        body = (
            compose(u.body, pr.metadata)
            if u.body.rstrip() != visible_part(pr.body).rstrip()
            else None
        )
        self.forge.edit_pull(pr.number, u.title if u.title != pr.title else None, body)
        self.say(f"edited #{pr.number} {u.title}")
        return Outcome(u.group, "edited", "title or description", pr.number)

    def _close(self, action: Close) -> Outcome:
        self.forge.comment(action.pr.number, OBSOLETE_COMMENT)
        self.forge.close(action.pr.number)
        if action.delete_head:  # a push since the decision keeps the branch: never lost
            self.forge.move_refs([RefMove.branch(action.group, action.delete_head, None)])
        self.say(f"closed #{action.pr.number} (no longer needed)")
        return Outcome(action.group, "closed", "no longer needed", action.pr.number)

    def _cleanup(self, action: Cleanup) -> Outcome:
        meta = action.pr.metadata
        assert meta is not None
        head = self.forge.head(action.group)
        if head == meta.head:  # only the bot's own commit: merged, nothing to lose
            self.forge.move_refs([RefMove.branch(action.group, head, None)])
        done = compose(visible_part(action.pr.body), dataclasses.replace(meta, cleaned=True))
        self.forge.edit_pull(action.pr.number, body=done)
        return Outcome(action.group, "cleaned up", "branch of merged PR", action.pr.number)

    def _acknowledge(self, action: Acknowledge) -> Outcome:
        pr, meta = action.pr, action.pr.metadata
        assert meta is not None
        if action.kind == "ignored":
            text = IGNORED_COMMENT.format(target=meta.target, group=action.group)
            meta = dataclasses.replace(meta, ignored_ack=True)
        else:
            text = FOREIGN_COMMENT.format(branch=f"condabot/{action.group}", group=action.group)
            meta = dataclasses.replace(meta, foreign_ack=True)
        self.forge.comment(pr.number, text)
        self.forge.edit_pull(pr.number, body=compose(visible_part(pr.body), meta))
        status = "ignored" if action.kind == "ignored" else "left alone"
        return Outcome(action.group, status, "comment posted", pr.number)


def group_of(action: Action) -> str:
    if isinstance(action, Open | Regenerate | Edit):
        return action.update.group
    return action.group


def describe(action: Action) -> str:
    if isinstance(action, Open):
        return f"open a PR on condabot/{action.update.group}: {action.update.title}"
    if isinstance(action, Regenerate):
        return f"regenerate #{action.pr.number} ({action.reason}): {action.update.title}"
    if isinstance(action, Edit):
        return f"edit the title/description of #{action.pr.number}"
    if isinstance(action, Close):
        branch = " and delete its branch" if action.delete_head else ""
        return f"close #{action.pr.number}{branch} (no longer needed)"
    if isinstance(action, Acknowledge):
        return f"comment on #{action.pr.number} ({action.kind})"
    if isinstance(action, Cleanup):
        return f"delete the branch of merged #{action.pr.number}"
    return f"skip {action.group}: {action.reason}"
