"""The local checkout the bot plans from: its HEAD is the base of every PR commit."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot import git
from bot.errors import UsageError


@dataclass(frozen=True)
class Checkout:
    root: Path
    branch: str
    head: str
    tree: str


def read_checkout(root: Path, base: str | None) -> Checkout:
    try:
        head, tree = git.rev_parse(root, "HEAD", "HEAD^{tree}")
        branch = base or os.environ.get("GITHUB_REF_NAME") or git.current_branch(root)
    except git.GitError as exc:
        raise _unusable(root, exc) from exc
    if branch == "HEAD":
        raise UsageError("the checkout is on a detached HEAD", "pass --base BRANCH")
    return Checkout(root, branch, head, tree)


def require_clean(checkout: Checkout, paths: Iterable[str]) -> None:
    """The PR is HEAD plus the bot's edits: local changes to those files would leak into it."""
    try:
        dirty = git.status_porcelain(checkout.root, paths)
    except git.GitError as exc:
        raise _unusable(checkout.root, exc) from exc
    if dirty:
        raise UsageError(
            f"uncommitted changes in {', '.join(line[3:] for line in dirty)}",
            "commit or stash them first: the pull request would carry them",
        )


def _unusable(root: Path, exc: git.GitError) -> UsageError:
    return UsageError(
        f"{root} is not a usable git checkout ({exc.command} failed)",
        "run condabot bump --repo from a clone of the repository",
    )
