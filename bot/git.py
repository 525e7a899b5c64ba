"""The local git checkout, through the git CLI: one runner, one failure, named queries.

Every failure is a `GitError` carrying the command and git's own words. It is not a
`CondabotError`: what a failed git call means depends on the caller (a bump's unusable
checkout, a release's unreadable Dockerfile, a fact the release can do without), so each
caller says so in its own "what; hint" message.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path


class GitError(Exception):
    def __init__(self, args: Iterable[str], stderr: str) -> None:
        self.command = " ".join(["git", *args])
        self.stderr = stderr
        super().__init__(f"{self.command} failed: {stderr}")


def run(root: Path, *args: str) -> str:
    """git's stdout, as is."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError as exc:  # no git at all
        raise GitError(args, exc.strerror or str(exc)) from exc
    if done.returncode != 0:
        raise GitError(args, done.stderr.strip())
    return done.stdout


def is_checkout(root: Path) -> bool:
    """Whether `root` is itself a checkout's top, not a folder inside some other one."""
    return (root / ".git").exists()


def rev_parse(root: Path, *revisions: str) -> list[str]:
    return run(root, "rev-parse", *revisions).split()


def commit_of(root: Path, revision: str) -> str | None:
    """The commit `revision` names; None when it names none."""
    try:
        return run(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except GitError as exc:
        if exc.stderr:  # --quiet: a revision that names nothing fails without a word
            raise
        return None


def current_branch(root: Path) -> str:
    """The checked-out branch; "HEAD" when it is detached."""
    return run(root, "rev-parse", "--abbrev-ref", "HEAD").strip()


def status_porcelain(root: Path, paths: Iterable[str]) -> list[str]:
    """`XY path` of each changed file among `paths`."""
    return run(root, "status", "--porcelain", "--", *paths).splitlines()


def show_file(root: Path, revision: str, path: str) -> str:
    return run(root, "show", f"{revision}:{path}")


def commit_time(root: Path, revision: str) -> int:
    """The commit's committer time, in seconds since 1970."""
    return int(run(root, "show", "-s", "--format=%ct", revision))


def tags(root: Path) -> list[str]:
    return run(root, "tag", "--list").splitlines()


def remote_url(root: Path) -> str | None:
    """The fetch URL of `origin`, else of the first remote; None when there is none."""
    names = run(root, "remote").split()
    if not names:
        return None
    return run(root, "remote", "get-url", "origin" if "origin" in names else names[0]).strip()
