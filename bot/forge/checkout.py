"""The local checkout the bot plans from: its HEAD is the base of every PR commit."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UsageError


@dataclass(frozen=True)
class Checkout:
    root: Path
    branch: str
    head: str
    tree: str


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UsageError(
            f"{root} is not a usable git checkout (git {' '.join(args)} failed)",
            "run condabot bump --repo from a clone of the repository",
        ) from exc
    return result.stdout.strip()


def read_checkout(root: Path, base: str | None) -> Checkout:
    head, tree = _git(root, "rev-parse", "HEAD", "HEAD^{tree}").split()
    branch = (
        base or os.environ.get("GITHUB_REF_NAME") or _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    )
    if branch == "HEAD":
        raise UsageError("the checkout is on a detached HEAD", "pass --base BRANCH")
    return Checkout(root, branch, head, tree)


def require_clean(checkout: Checkout, paths: Iterable[str]) -> None:
    """The PR is HEAD plus the bot's edits: local changes to those files would leak into it."""
    dirty = _git(checkout.root, "status", "--porcelain", "--", *paths)
    if dirty:
        raise UsageError(
            f"uncommitted changes in {', '.join(line[3:] for line in dirty.splitlines())}",
            "commit or stash them first: the pull request would carry them",
        )
