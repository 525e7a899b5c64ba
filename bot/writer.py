"""Rewrite installer pins and catalog platforms, changing only the bytes that must change.

`rewrite` and `drop_platforms` are pure; `apply`, `plan_edits` and `write_edits` are the
I/O edge. Every rewrite re-reads its own output and checks it says what was asked.

A run killed between any two file operations leaves a tree the planner reads and the next
run finishes: see `write_edits` for the order and `write_atomic` for temporary files.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import os
import re
import signal
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import CatalogError, DockerfileError
from bot.pins import Pin, PinFormat, Span, read_pins
from bot.planner import Kind, PinChange, Plan
from bot.platforms import BY_ARCH

if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap


def rewrite(text: str, changes: Iterable[PinChange], path: str = "Dockerfile") -> str:
    """`text` with each change applied. Idempotent: an applied change is a no-op."""
    changes = tuple(changes)
    pins = {p.arch: p for p in read_pins(text, path)}
    edits: dict[Span, str] = {}
    added = [c for c in changes if c.adds and c.arch not in pins]
    if added:
        edits[Span(len(text), len(text))] = _first_pins(text, added, bool(pins), path)
    for change in changes:
        if change in added:
            continue
        for span, value in _edits_for(pins.get(change.arch), change, path):
            if edits.setdefault(span, value) != value:
                raise DockerfileError(
                    f"{path}: two changes want different values at offset {span.start}",
                    "a shared version ARG cannot pin arches at different releases",
                )
    result = _splice(text, edits, path)
    _verify(result, changes, path)
    return result


def _edits_for(pin: Pin | None, change: PinChange, path: str) -> list[tuple[Span, str]]:
    if pin is None:
        if change.removes:
            return []  # already removed
        raise DockerfileError(f"{path}: no {change.arch} installer pin to update", "re-plan")
    if change.to_url is None:
        return [(span, "") for span in _removal(pin)]
    if (pin.url, pin.sha256) == (change.to_url, change.to_sha):
        return []
    if (pin.url, pin.sha256) != (change.from_url, change.from_sha):
        raise DockerfileError(
            f"{path}:{pin.line}: {change.arch} pins {pin.filename} {pin.sha256[:12]}, "
            f"not what the plan was made from",
            "the file changed since planning; re-plan",
        )
    assert change.to_sha is not None
    filename = change.to_url.rsplit("/", 1)[-1]
    return [
        (pin.url_span, pin.value_for(change.to_url)),
        (pin.sha_span, change.to_sha),
        *((span, change.to_url) for span in pin.url_repeats),
        *((span, filename) for span in pin.file_repeats),
    ]


def _first_pins(text: str, changes: Sequence[PinChange], pinned: bool, path: str) -> str:
    """A line's pins file with no pins yet gets one block per arch at its end, in the
    format every pin of this repository has."""
    if pinned:
        raise DockerfileError(
            f"{path}: first pins are only written to a file that holds no pins yet", "re-plan"
        )
    blocks = []
    for change in sorted(changes, key=lambda c: list(BY_ARCH).index(c.arch)):
        assert change.to_url is not None
        assert change.to_sha is not None
        source = "anaconda" if "/archive/" in change.to_url else "miniconda"
        suffix = BY_ARCH[change.arch].arg_suffix
        blocks.append(
            f"# renovate: datasource=custom.{source}_installer\n"
            f'ARG INSTALLER_URL_{suffix}="{change.to_url}"\n'
            f'ARG SHA256SUM_{suffix}="{change.to_sha}"\n'
        )
    newline = "" if not text or text.endswith("\n") else "\n"
    return newline + "".join(blocks)


def _removal(pin: Pin) -> tuple[Span, ...]:
    if pin.format is not PinFormat.ARG_PAIR:
        raise DockerfileError(
            f"{pin.path}:{pin.line}: cannot remove the {pin.arch} installer from the "
            f"{pin.format} form automatically",
            f"remove the {pin.arch} lines by hand, or use the ARG INSTALLER_URL_<ARCH> form",
        )
    return pin.block


def _splice(text: str, edits: Mapping[Span, str], path: str) -> str:
    parts = []
    position = 0
    for span in sorted(edits, key=lambda s: (s.start, s.end)):
        if span.start < position:
            raise DockerfileError(f"{path}: overlapping edits at offset {span.start}", "re-plan")
        parts += [text[position : span.start], edits[span]]
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


def _verify(text: str, changes: Sequence[PinChange], path: str) -> None:
    pins = {p.arch: p for p in read_pins(text, path)}
    for change in changes:
        pin = pins.get(change.arch)
        now = None if pin is None else (pin.url, pin.sha256)
        if now != (None if change.removes else (change.to_url, change.to_sha)):
            raise DockerfileError(
                f"{path}: after rewriting, {change.arch} reads {now}, not the planned values",
                "this is a bug; report it with the Dockerfile",
            )


# -- the catalog ------------------------------------------------------------------------


def drop_platforms(text: str, drops: Mapping[str, Sequence[str]], path: str = "images.yaml") -> str:
    """The catalog with each image's listed platforms removed; every other byte kept."""
    if not any(drops.values()):
        return text
    images = _catalog_images(text, path)
    # Split on YAML's line breaks only, so indices match ruamel's line numbers.
    lines = re.split(r"(?<=\n)|(?<=\r)(?!\n)", text)
    for image, platforms in drops.items():
        node = images.get(image)
        if node is None:
            raise CatalogError(f"{path}: no image named {image!r}", "re-plan")
        _drop_from(lines, node, image, platforms, path)
    result = "".join(lines)
    _verify_catalog(text, result, drops, path)
    return result


def _catalog_images(text: str, path: str) -> dict[str, CommentedMap]:
    # Loaded here: a plan without a catalog file edits none.
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML", "fix it, then re-plan") from exc
    images = document.get("images") if isinstance(document, CommentedMap) else None
    if not isinstance(images, CommentedSeq):
        raise CatalogError(f"{path}: no images list", "fix it, then re-plan")
    return {n["name"]: n for n in images if isinstance(n, CommentedMap) and "name" in n}


def _drop_from(
    lines: list[str], node: CommentedMap, image: str, platforms: Sequence[str], path: str
) -> None:
    from ruamel.yaml.comments import CommentedSeq

    seq = node.get("platforms")
    if not isinstance(seq, CommentedSeq):
        raise CatalogError(f"{path}: image {image!r} has no platforms list", "re-plan")
    if not set(seq) - set(platforms):
        raise CatalogError(
            f"{path}: dropping {', '.join(platforms)} would leave image {image!r} no platform",
            "retire the image by hand",
        )
    # Bottom-up, so earlier line numbers stay valid.
    for index in sorted((i for i, p in enumerate(seq) if p in platforms), reverse=True):
        line = seq.lc.item(index)[0]
        if seq.fa.flow_style():
            lines[line] = _without_flow_item(lines[line], seq[index], image, path)
        else:
            lines[line] = ""


def _without_flow_item(line: str, value: str, image: str, path: str) -> str:
    item = rf"""(?P<q>["']?){re.escape(value)}(?P=q)"""
    for pattern in (rf",[ \t]*{item}(?=[ \t]*[\],])", rf"{item}[ \t]*,[ \t]*"):
        new, count = re.subn(pattern, "", line, count=1)
        if count:
            return new
    raise CatalogError(
        f"{path}: cannot find {value} in image {image!r}'s platforms line",
        f"remove {value} from it by hand",
    )


def _verify_catalog(before: str, after: str, drops: Mapping[str, Sequence[str]], path: str) -> None:
    old, new = _catalog_images(before, path), _catalog_images(after, path)
    for name, node in old.items():
        expected = [p for p in node["platforms"] if p not in drops.get(name, ())]
        if list(new[name]["platforms"]) != expected:
            raise CatalogError(
                f"{path}: removing platforms from image {name!r} went wrong",
                "remove them by hand; this is a bug, report it with the catalog",
            )


# -- files ------------------------------------------------------------------------------

_SEVERITY = {kind: i for i, kind in enumerate(Kind)}  # Kind is ordered most severe first
_FileError = type[DockerfileError | CatalogError]


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
    def error(self) -> _FileError:
        return CatalogError if self.catalog else DockerfileError

    def write_order(self) -> tuple[bool, int]:
        """The catalog first: it may never list a platform whose pin is gone (the planner
        refuses that tree), so a platform leaves the catalog before its pin leaves the
        Dockerfile. Then Dockerfiles least severe first: a run cut short leaves the change
        a reviewer must see for the rerun to report again."""
        return (not self.catalog, -_SEVERITY[self.kind])


def read_text(path: Path, error: _FileError = DockerfileError) -> str:
    """A file's text exactly as stored: no newline translation, strict UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}", "check the catalog's paths") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not UTF-8 (byte {exc.start})", "save it as UTF-8") from exc


def apply(path: Path, changes: Iterable[PinChange]) -> bool:
    """Rewrite one Dockerfile in place, atomically. True if its bytes changed."""
    before = read_text(path)
    after = rewrite(before, changes, str(path))
    if after == before:
        return False
    check_writable(path, str(path))
    write_atomic(path, after.encode("utf-8"))
    return True


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
        kinds[relative] = min(
            kinds.get(relative, image.kind), image.kind, key=_SEVERITY.__getitem__
        )
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


def check_writable(path: Path, name: str, error: _FileError = DockerfileError) -> None:
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
    path: Path, data: bytes, error: _FileError = DockerfileError, staging: Path | None = None
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
