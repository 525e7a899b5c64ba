"""Find the installer pins in a Dockerfile, with the exact span of every value. Pure.

Three forms are read:

- `arg-pair`: Anaconda's images-repo format, one block per arch:
  `# renovate: datasource=custom.miniconda_installer`, `ARG INSTALLER_URL_<SUFFIX>=...`,
  `ARG SHA256SUM_<SUFFIX>=...` (quoted or not).
- `inline`: an installer URL literal anywhere (`wget https://...sh`), tied to the 64-hex
  sha256 on the same or the nearest line (at most `NEARBY_LINES` away).
- `templated`: as `inline`, but the URL holds one `${VAR}` (or `$VAR`) whose value is an
  earlier `ARG VAR=...` / `ENV VAR=...` default, e.g. `Miniconda3-${CONDA_VERSION}-Linux-x86_64.sh`.
  The URL span is then the span of that default, shared by every arch.

Offsets are indices into the decoded text (equal to byte offsets for ASCII files).
Anything that looks like a pin but is not a safe, well-formed one is a `DockerfileError`
naming the file and line: a pin the bot cannot vouch for must never be passed over silently.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.errors import DockerfileError
from bot.platforms import BY_ARCH, BY_SUFFIX
from bot.upstream.model import InstallerName, Named
from bot.upstream.names import parse_installer_name

PIN_ROOT = "https://repo.anaconda.com"
NEARBY_LINES = 4
_HINT = "pin https://repo.anaconda.com/<miniconda|archive>/<versioned Linux .sh> with its sha256"

_PIN_URL = re.compile(r"^https://repo\.anaconda\.com/(?P<dir>miniconda|archive)/(?P<file>[^/]+)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VALUE = r"""(?P<value>"[^"\r\n]*"|'[^'\r\n]*'|[^\s"'\\]*)"""
_ARG_PAIR = re.compile(
    rf"^[ \t]*ARG[ \t]+(?P<kind>INSTALLER_URL|SHA256SUM)_(?P<suffix>[A-Z0-9]+)"
    rf"[ \t]*=[ \t]*{_VALUE}",
    re.MULTILINE,
)
_MARKER = re.compile(r"^[ \t]*#[ \t]*renovate:[ \t]*datasource=custom\.\w+_installer\b")
# Any URL whose last path segment names an installer; validated strictly afterwards.
_URL = re.compile(r"""https?://[^\s"'`\\;|&<>()]*/(?:Mini|Ana)conda\d?-[^\s"'`\\;|&<>()/]*""")
_HEX64 = re.compile(r"(?<![0-9A-Za-z:])[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_VAR_REF = re.compile(r"\$\{(?P<braced>[A-Za-z_]\w*)\}|\$(?P<bare>[A-Za-z_]\w*)")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._-]+$")


class PinFormat(StrEnum):
    ARG_PAIR = "arg-pair"
    INLINE = "inline"
    TEMPLATED = "templated"


@dataclass(frozen=True)
class Span:
    """A value's place in a file's text: [start, end) in characters."""

    start: int
    end: int


@dataclass(frozen=True)
class Pin(Named):
    """One installer pinned in a Dockerfile or pins file: its URL, sha256 and their places."""

    path: str
    line: int  # 1-based line of the URL
    name: InstallerName
    url: str  # fully expanded, always under PIN_ROOT
    sha256: str
    url_span: Span  # the URL value; for `templated`, the variable's default
    sha_span: Span
    format: PinFormat
    # `templated`: the URL text around the variable, so a new URL maps back to a new value.
    template: tuple[str, str] | None = None
    # `arg-pair`: whole lines (marker, URL ARG, sha ARG) to delete when the arch is dropped.
    block: tuple[Span, ...] = ()
    # `inline`: the same URL again without a hash of its own, and the bare filename
    # (`echo "<sha>  Miniconda3-...sh" | sha256sum -c`): rewritten with the pin.
    url_repeats: tuple[Span, ...] = ()
    file_repeats: tuple[Span, ...] = ()

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def value_for(self, url: str) -> str:
        """The text to put in `url_span` so that this pin reads `url`."""
        if self.template is None:
            return url
        prefix, suffix = self.template
        value = url[len(prefix) : len(url) - len(suffix)]
        if not (url.startswith(prefix) and url.endswith(suffix) and _SAFE_VALUE.match(value)):
            raise DockerfileError(
                f"{self.path}:{self.line}: {url} does not fit the URL template "
                f"{prefix}${{...}}{suffix}",
                "write the new URL by hand, or use the INSTALLER_URL_<ARCH> ARG form",
            )
        return value


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def number(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def span(self, number: int) -> Span:
        """The whole line `number` (1-based), its terminator included."""
        end = self.starts[number] if number < len(self.starts) else len(self.text)
        return Span(self.starts[number - 1], end)

    def content(self, number: int) -> str:
        span = self.span(number)
        return self.text[span.start : span.end].rstrip("\r\n")

    def is_comment(self, offset: int) -> bool:
        return self.content(self.number(offset)).lstrip().startswith("#")


def read_pins(text: str, path: str = "Dockerfile") -> tuple[Pin, ...]:
    """Every installer pin in `text`, in file order. Raises DockerfileError on a bad one."""
    lines = _Lines(text)
    pins, claimed = _arg_pairs(text, path, lines)
    pins += _inline(text, path, lines, claimed)
    pins.sort(key=lambda p: (p.line, p.sha_span.start))
    seen: dict[str, Pin] = {}
    for pin in pins:
        if pin.arch in seen:
            raise DockerfileError(
                f"{path}:{pin.line}: a second {pin.arch} installer pin "
                f"(the first is on line {seen[pin.arch].line})",
                "keep one pin per architecture",
            )
        seen[pin.arch] = pin
    return tuple(pins)


def _fail(path: str, line: int, problem: str, hint: str = _HINT) -> DockerfileError:
    return DockerfileError(f"{path}:{line}: {problem}", hint)


def _unquoted(match: re.Match[str]) -> tuple[str, Span]:
    raw = match["value"]
    start, end = match.span("value")
    if raw[:1] in "\"'" and len(raw) >= 2:
        return raw[1:-1], Span(start + 1, end - 1)
    return raw, Span(start, end)


def _installer(url: str, path: str, line: int) -> InstallerName:
    match = _PIN_URL.match(url)
    if not match:
        raise _fail(
            path, line, f"installer URL {url[:200]!r} is not on {PIN_ROOT}/miniconda|archive/"
        )
    filename = match["file"]
    name = parse_installer_name(filename)
    if name is None:
        raise _fail(path, line, f"{filename[:200]!r} is not a versioned installer filename")
    if match["dir"] != name.product.directory:
        raise _fail(path, line, f"{filename} belongs under /{name.product.directory}/")
    if (name.os, name.ext) != ("Linux", "sh") or name.arch not in BY_ARCH:
        raise _fail(path, line, f"{filename} is not a Linux installer for {sorted(BY_ARCH)}")
    return name


def _sha(value: str, path: str, line: int) -> str:
    if not _SHA256.match(value):
        raise _fail(path, line, f"sha256 {value[:80]!r} is not 64 lowercase hex digits")
    return value


def _arg_pairs(text: str, path: str, lines: _Lines) -> tuple[list[Pin], list[Span]]:
    urls: dict[str, re.Match[str]] = {}
    shas: dict[str, re.Match[str]] = {}
    for match in _ARG_PAIR.finditer(text):
        table = urls if match["kind"] == "INSTALLER_URL" else shas
        line = lines.number(match.start())
        if match["suffix"] in table:
            raise _fail(path, line, f"{match['kind']}_{match['suffix']} is set twice", "keep one")
        table[match["suffix"]] = match
    pins = []
    for suffix in sorted(urls.keys() | shas.keys()):
        url_match, sha_match = urls.get(suffix), shas.get(suffix)
        if url_match is None or sha_match is None:
            present = url_match or sha_match
            assert present is not None
            raise _fail(
                path,
                lines.number(present.start()),
                f"INSTALLER_URL_{suffix} and SHA256SUM_{suffix} must both be set",
            )
        pins.append(_arg_pair(path, lines, suffix, url_match, sha_match))
    claimed = [s for p in pins for s in (p.url_span, p.sha_span)]
    return pins, claimed


def _arg_pair(
    path: str, lines: _Lines, suffix: str, url_match: re.Match[str], sha_match: re.Match[str]
) -> Pin:
    line = lines.number(url_match.start())
    platform = BY_SUFFIX.get(suffix)
    if platform is None:
        raise _fail(path, line, f"unknown ARG suffix {suffix!r}; expected one of {list(BY_SUFFIX)}")
    url, url_span = _unquoted(url_match)
    name = _installer(url, path, line)
    if name.arch != platform.arch:
        raise _fail(
            path,
            line,
            f"INSTALLER_URL_{suffix} names a {name.arch} installer, not {platform.arch}",
            "each ARG suffix must pin its own architecture",
        )
    sha, sha_span = _unquoted(sha_match)
    sha_line = lines.number(sha_match.start())
    block = [lines.span(line), lines.span(sha_line)]
    if line > 1 and _MARKER.match(lines.content(line - 1)):
        block.append(lines.span(line - 1))
    return Pin(
        path=path,
        line=line,
        name=name,
        url=url,
        sha256=_sha(sha, path, sha_line),
        url_span=url_span,
        sha_span=sha_span,
        format=PinFormat.ARG_PAIR,
        block=_merge(block),
    )


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for span in sorted(set(spans), key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return tuple(merged)


def _inside(offset: int, spans: list[Span]) -> bool:
    return any(s.start <= offset < s.end for s in spans)


def _inline(text: str, path: str, lines: _Lines, claimed: list[Span]) -> list[Pin]:
    urls = [
        m for m in _URL.finditer(text) if not _inside(m.start(), claimed) and not _comment(lines, m)
    ]
    shas = [
        m
        for m in _HEX64.finditer(text)
        if not _inside(m.start(), claimed) and not _comment(lines, m)
    ]
    if not urls:
        return []
    url_lines = [lines.number(m.start()) for m in urls]
    tied: dict[int, list[re.Match[str]]] = {i: [] for i in range(len(urls))}
    for sha in shas:
        best, distance = _nearest(url_lines, lines.number(sha.start()))
        if distance <= NEARBY_LINES:
            tied[best].append(sha)
    hashed = {url.group() for i, url in enumerate(urls) if tied[i]}
    repeats: dict[str, list[Span]] = {}
    pins = []
    for i, url in enumerate(urls):
        if not tied[i] and url.group() in hashed:
            repeats.setdefault(url.group(), []).append(Span(*url.span()))
        else:
            pins.append(_inline_pin(text, path, lines, url, url_lines[i], tied[i]))
    url_spans = [Span(*u.span()) for u in urls]
    return [_with_repeats(text, lines, pin, repeats, url_spans) for pin in pins]


def _with_repeats(
    text: str, lines: _Lines, pin: Pin, repeats: dict[str, list[Span]], url_spans: list[Span]
) -> Pin:
    if pin.format is not PinFormat.INLINE:
        return pin  # a templated URL repeats its variable, which moves with it
    bare = re.compile(rf"(?<![\w.-]){re.escape(pin.filename)}(?![\w.-])")
    files = tuple(
        Span(*m.span())
        for m in bare.finditer(text)
        if not _inside(m.start(), url_spans) and not _comment(lines, m)
    )
    return replace(pin, url_repeats=tuple(repeats.get(pin.url, ())), file_repeats=files)


def _nearest(url_lines: list[int], sha_line: int) -> tuple[int, int]:
    """The URL nearest to a sha256; on a tie, the URL above it (checks follow downloads)."""
    best = min(
        range(len(url_lines)),
        key=lambda i: (abs(url_lines[i] - sha_line), sha_line < url_lines[i]),
    )
    return best, abs(url_lines[best] - sha_line)


def _comment(lines: _Lines, match: re.Match[str]) -> bool:
    return lines.is_comment(match.start())


def _inline_pin(
    text: str,
    path: str,
    lines: _Lines,
    url_match: re.Match[str],
    line: int,
    shas: list[re.Match[str]],
) -> Pin:
    raw = url_match.group()
    url, url_span, template = raw, Span(*url_match.span()), None
    if "$" in raw:
        url, url_span, template = _expand(text, path, lines, url_match, line)
    name = _installer(url, path, line)
    filename = url.rsplit("/", 1)[-1]
    if not shas:
        raise _fail(
            path,
            line,
            f"no sha256 within {NEARBY_LINES} lines of {filename}",
            "check every installer with sha256sum --check, its hash next to its URL",
        )
    if len(shas) > 1:
        others = ", ".join(str(lines.number(s.start())) for s in shas)
        raise _fail(
            path,
            line,
            f"several sha256 values (lines {others}) are nearest to {filename}",
            "put each arch's hash on the line next to its URL",
        )
    sha_line = lines.number(shas[0].start())
    return Pin(
        path=path,
        line=line,
        name=name,
        url=url,
        sha256=_sha(shas[0].group(), path, sha_line),
        url_span=url_span,
        sha_span=Span(*shas[0].span()),
        format=PinFormat.TEMPLATED if template else PinFormat.INLINE,
        template=template,
    )


def _expand(
    text: str, path: str, lines: _Lines, url_match: re.Match[str], line: int
) -> tuple[str, Span, tuple[str, str]]:
    raw = url_match.group()
    refs = list(_VAR_REF.finditer(raw))
    if len(refs) != 1 or "$" in raw.replace(refs[0].group(), ""):
        raise _fail(
            path,
            line,
            f"installer URL {raw[:200]!r} needs more than one variable to read",
            "write the arch literally; only one ${VERSION}-style variable is supported",
        )
    ref = refs[0]
    variable = ref["braced"] or ref["bare"]
    value, span = _default_of(text, variable, url_match.start(), path, line)
    prefix, suffix = raw[: ref.start()], raw[ref.end() :]
    return f"{prefix}{value}{suffix}", span, (prefix, suffix)


def _default_of(text: str, variable: str, before: int, path: str, line: int) -> tuple[str, Span]:
    pattern = re.compile(
        rf"^[ \t]*(?:ARG|ENV)[ \t]+{re.escape(variable)}(?:[ \t]*=[ \t]*|[ \t]+){_VALUE}",
        re.MULTILINE,
    )
    found = [m for m in pattern.finditer(text, 0, before) if m["value"]]
    if not found:
        raise _fail(
            path,
            line,
            f"the installer URL uses ${{{variable}}} but no ARG/ENV {variable}=... precedes it",
            f"give {variable} a default, or write the URL literally",
        )
    value, span = _unquoted(found[-1])
    return value, span
