"""Rewrite installer pins and catalog platforms, changing only the bytes that must change.

`rewrite` and `drop_platforms` are pure; `apply`, `plan_edits` and `write_edits` are the
I/O edge. Every rewrite re-reads its own output and checks it says what was asked.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from bot.errors import CatalogError, DockerfileError
from bot.pins import Pin, PinFormat, Span, read_pins
from bot.planner import PinChange, Plan


def rewrite(text: str, changes: Iterable[PinChange], path: str = "Dockerfile") -> str:
    """`text` with each change applied. Idempotent: an applied change is a no-op."""
    changes = tuple(changes)
    pins = {p.arch: p for p in read_pins(text, path)}
    edits: dict[Span, str] = {}
    for change in changes:
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


@dataclass(frozen=True)
class FileEdit:
    """One file's planned new content; `path` is relative to the repository root."""

    path: str
    before: str
    after: str

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                f"a/{self.path}",
                f"b/{self.path}",
            )
        )


def read_text(path: Path, error: type[DockerfileError | CatalogError] = DockerfileError) -> str:
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
    write_atomic(path, after.encode("utf-8"))
    return True


def plan_edits(plan: Plan, root: Path, catalog: Path) -> tuple[FileEdit, ...]:
    """Every file the plan changes, before and after; nothing is written."""
    by_file: dict[str, list[PinChange]] = {}
    drops: dict[str, tuple[str, ...]] = {}
    for image in plan.with_changes():
        by_file.setdefault(image.dockerfile, []).extend(image.changes)
        if image.drop_platforms:
            drops[image.image] = image.drop_platforms
    edits = []
    for relative, changes in by_file.items():
        before = read_text(root / relative)
        edits.append(FileEdit(relative, before, rewrite(before, changes, relative)))
    if drops:
        before = read_text(catalog, CatalogError)
        name = _relative(catalog, root)
        edits.append(FileEdit(name, before, drop_platforms(before, drops, name)))
    return tuple(e for e in edits if e.before != e.after)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def write_edits(edits: Iterable[FileEdit], root: Path) -> None:
    """Write each edit atomically, refusing a file that changed since it was read."""
    for edit in edits:
        path = root / edit.path
        if read_text(path) != edit.before:
            raise DockerfileError(f"{edit.path} changed while planning", "rerun")
        write_atomic(path, edit.after.encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: temp file in the same directory, fsync, rename; mode kept."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not every platform can open a directory; the rename is still atomic
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
