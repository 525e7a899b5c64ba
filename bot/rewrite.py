"""Rewrite installer pins in a Dockerfile or pins file, changing only the bytes that must
change. Pure: every rewrite re-reads its own output and checks it says what was asked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.errors import DockerfileError
from bot.pins import Pin, PinFormat, Span, read_pins
from bot.planner import PinChange
from bot.platforms import BY_ARCH


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
