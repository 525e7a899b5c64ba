"""Read and replace files: exact text in, atomic replacement out.

A process killed between any two file operations leaves the old or the new bytes and at
most one temporary file, which the next write of that file removes (`write_atomic`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import stat
from pathlib import Path

from bot.errors import CatalogError, DockerfileError

FileError = type[DockerfileError | CatalogError]


def read_text(path: Path, error: FileError = DockerfileError) -> str:
    """A file's text exactly as stored: no newline translation, strict UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}", "check the catalog's paths") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not UTF-8 (byte {exc.start})", "save it as UTF-8") from exc


def check_writable(path: Path, name: str, error: FileError = DockerfileError) -> None:
    """Refuse a file without write permission: replacing it by rename would succeed
    (only its folder must be writable) and silently override the owner's choice."""
    target = Path(os.path.realpath(path))
    if stat.S_IMODE(target.stat().st_mode) & 0o222 == 0 or not os.access(target, os.W_OK):
        raise error(
            f"{name} is read-only",
            f"condabot never replaces a read-only file: make it writable (chmod u+w {name}) "
            "and rerun",
        )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise error(f"cannot create files in {target.parent}", "make that folder writable")


# Temporary files are `.<name>.condabot-XXXXXXXX.tmp` beside the file they replace: a rename
# is atomic only within one file system, and a symlink's target may live anywhere.
_TEMP_INFIX, _TEMP_SUFFIX = ".condabot-", ".tmp"


def write_atomic(
    path: Path, data: bytes, error: FileError = DockerfileError, staging: Path | None = None
) -> None:
    """Replace the file `path` leads to (through symlinks) with `data`: temporary file, fsync,
    rename, fsync the folder; mode kept.

    The temporary file goes to `staging` (the repository's `.git` folder) when it is on the
    target's file system, so a kill leaves nothing inside a Docker build context; otherwise
    beside the target, as a rename is atomic only within one file system. A kill leaves the
    old or the new bytes, and at most one temporary file, which the next write removes.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
        folder = _staging_for(target, staging)
        _remove_leftovers(target, folder)
        _replace(target, data, mode, folder)
    except OSError as exc:
        raise error(
            f"cannot write {path}: {exc.strerror or exc}",
            "check its folder's permissions and space",
        ) from exc
    _fsync_dir(target.parent)


def _staging_for(target: Path, staging: Path | None) -> Path:
    if staging is not None and staging.is_dir():
        with contextlib.suppress(OSError):
            if staging.stat().st_dev == target.parent.stat().st_dev:
                return staging
    return target.parent


def _remove_leftovers(target: Path, folder: Path) -> None:
    """Temporary files of this file that a killed run left behind."""
    prefix = f".{target.name}{_TEMP_INFIX}"
    with os.scandir(folder) as entries:
        leftovers = [
            e.path
            for e in entries
            if e.name.startswith(prefix)
            and e.name.endswith(_TEMP_SUFFIX)
            and e.is_file(follow_symlinks=False)
        ]
    for leftover in leftovers:
        os.unlink(leftover)
        _crash_point()


def _replace(target: Path, data: bytes, mode: int, folder: Path) -> None:
    import tempfile  # here, not at the top: commands that only read start faster

    fd, temp = tempfile.mkstemp(
        dir=folder, prefix=f".{target.name}{_TEMP_INFIX}", suffix=_TEMP_SUFFIX
    )
    _crash_point()
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        _crash_point()
        os.replace(temp, target)
        _crash_point()
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not every platform can open a directory; the rename is still atomic
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


CRASH_AFTER = "CONDABOT_TEST_CRASH_AFTER"
_operations = itertools.count(1)


def _crash_point() -> None:
    """Test-only: with CONDABOT_TEST_CRASH_AFTER=N, SIGKILL this process right after its Nth
    file operation (create, write, rename, remove), so a test can stop `bump --local`
    between any two steps deterministically. Unset, it does nothing."""
    limit = os.environ.get(CRASH_AFTER)
    if limit and next(_operations) >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
