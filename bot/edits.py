"""The files a plan changes: computed with nothing written (`plan_edits`), then written
all or nothing (`write_edits`).

A run killed between any two file operations leaves a tree the planner reads and the next
run finishes: see `write_edits` for the order and `bot.files.write_atomic` for one file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.catalog_edit import drop_platforms
from bot.errors import CatalogError, DockerfileError
from bot.files import FileError, check_writable, read_text, write_atomic
from bot.planner import Kind, PinChange, Plan
from bot.rewrite import rewrite


@dataclass(frozen=True)
class FileEdit:
    """One file's planned new content; `path` is relative to the repository root, with
    symlinks resolved: the file written is the link's target, never the link."""

    path: str
    before: str
    after: str
    catalog: bool = False
    kind: Kind = Kind.BUMP  # the most severe headline among the images that write it

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                f"a/{self.path}",
                f"b/{self.path}",
            )
        )

    @property
    def error(self) -> FileError:
        return CatalogError if self.catalog else DockerfileError

    def write_order(self) -> tuple[bool, int]:
        """The catalog first: it may never list a platform whose pin is gone (the planner
        refuses that tree), so a platform leaves the catalog before its pin leaves the
        Dockerfile. Then Dockerfiles least severe first: a run cut short leaves the change
        a reviewer must see for the rerun to report again."""
        return (not self.catalog, -self.kind.rank)


def plan_edits(plan: Plan, root: Path, catalog: Path) -> tuple[FileEdit, ...]:
    """Every file the plan changes, before and after; nothing is written.

    Dockerfile paths that lead to one file through symlinks make one edit of that file.
    """
    by_file: dict[str, list[PinChange]] = {}
    kinds: dict[str, Kind] = {}
    drops: dict[str, tuple[str, ...]] = {}
    for image in plan.with_changes():
        relative = _relative(root / image.dockerfile, root)
        by_file.setdefault(relative, []).extend(image.changes)
        kinds[relative] = min(kinds.get(relative, image.kind), image.kind, key=lambda k: k.rank)
        if image.drop_platforms:
            drops[image.image] = image.drop_platforms
    edits = []
    for relative, changes in by_file.items():
        before = read_text(root / relative)
        after = rewrite(before, changes, relative)
        edits.append(FileEdit(relative, before, after, kind=kinds[relative]))
    if drops:
        before = read_text(catalog, CatalogError)
        name = _relative(catalog, root)
        after = drop_platforms(before, drops, name)
        edits.append(FileEdit(name, before, after, catalog=True, kind=Kind.DROP_ARCH))
    return tuple(e for e in edits if e.before != e.after)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def write_edits(edits: Iterable[FileEdit], root: Path) -> None:
    """Write every edit, or none when one of them cannot be written.

    First every file is checked (unchanged since it was read, writable), then each is
    replaced atomically in `FileEdit.write_order`: a run killed between any two writes
    leaves a tree the planner accepts, and the rerun writes what is left.
    """
    ordered = sorted(edits, key=FileEdit.write_order)
    for edit in ordered:
        path = root / edit.path
        if read_text(path, edit.error) != edit.before:
            raise edit.error(f"{edit.path} changed while planning", "rerun")
        check_writable(path, edit.path, edit.error)
    for edit in ordered:
        write_atomic(root / edit.path, edit.after.encode("utf-8"), edit.error, root / ".git")
