"""Turn raw `.files.json` documents into a validated `Listing`. Pure.

Validation comes before trust: a filename must be strictly safe, a sha256 exactly
64 lowercase hex digits, a size a positive integer below 1 TiB and an mtime a time
between 1970 and 9999 (so that every later date computation works). An entry the
decoder refused (a duplicate key, a number of thousands of digits, deep nesting:
see `document.py`) fails too. Entries that fail are kept as `InvalidEntry` so
they can be reported, never used.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any

from bot.upstream.document import Duplicate, Refused
from bot.upstream.model import Installer, InvalidEntry, LatestAlias, Listing
from bot.upstream.names import parse_alias_name, parse_installer_name

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_SIZE = 2**40  # 1 TiB; the largest installer is about 1 GB
MAX_MTIME = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime can hold
_MARKERS = frozenset({Refused, Duplicate})


def _entry_problem(entry: Any) -> str | None:
    # No filename check here: the installer and alias patterns admit only [A-Za-z0-9._-].
    if isinstance(entry, Duplicate):
        return f"listed {entry.count} times"
    if isinstance(entry, Refused):
        return entry.reason
    if not isinstance(entry, dict):
        return "entry is not an object"
    if not _MARKERS.isdisjoint(map(type, entry.values())):  # the common case, cheaply
        return _refused_value(entry)
    sha256, size, mtime = entry.get("sha256"), entry.get("size"), entry.get("mtime")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        return "sha256 is not 64 lowercase hex digits"
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size < MAX_SIZE:
        return "size is not a positive integer below 1 TiB"
    if isinstance(mtime, bool) or not isinstance(mtime, int | float):
        return "mtime is not a number"
    if not (math.isfinite(mtime) and 0 <= mtime <= MAX_MTIME):
        return "mtime is not a time between 1970 and 9999"
    return None


def _refused_value(entry: dict[str, Any]) -> str:
    key, value = next((k, v) for k, v in entry.items() if isinstance(v, Refused))
    return value.reason if isinstance(value, Duplicate) else f"{key} is {value.reason}"


def parse_listing(documents: Mapping[str, Mapping[str, Any]], base_url: str) -> Listing:
    """Parse `{directory: files.json document}` into one Listing.

    `base_url` is the upstream root (e.g. https://repo.anaconda.com); installer URLs
    are built from it, so a mirror yields mirror URLs.
    """
    installers: list[Installer] = []
    raw_aliases: list[tuple[str, Mapping[str, Any]]] = []
    invalid: list[InvalidEntry] = []
    unrecognized: list[str] = []
    root = base_url.rstrip("/")
    for directory, document in documents.items():
        for filename, entry in document.items():
            name = parse_installer_name(filename)
            alias = None if name else parse_alias_name(filename)
            if name is None and alias is None:
                unrecognized.append(f"{directory}/{filename}")
                continue
            problem = _entry_problem(entry)
            if problem:
                invalid.append(InvalidEntry(directory, filename, problem))
                continue
            if name is None:
                raw_aliases.append((filename, entry))
                continue
            installers.append(
                Installer(
                    filename=filename,
                    name=name,
                    sha256=entry["sha256"],
                    size=entry["size"],
                    mtime=float(entry["mtime"]),
                    url=f"{root}/{directory}/{filename}",
                )
            )
    if unrecognized:
        log.debug("%d listing names match no installer scheme: %s", len(unrecognized), unrecognized)
    installers.sort(key=_by_filename)
    return Listing(
        installers=tuple(installers),
        aliases=_resolve_aliases(raw_aliases, installers),
        invalid=tuple(invalid),
        unrecognized=tuple(unrecognized),
    )


def _by_filename(installer: Installer) -> str:
    return installer.filename


def _resolve_aliases(
    raw: list[tuple[str, Mapping[str, Any]]], installers: list[Installer]
) -> tuple[LatestAlias, ...]:
    by_sha: dict[str, Installer] = {}
    for installer in installers:
        by_sha.setdefault(installer.sha256, installer)
    aliases = []
    for filename, entry in raw:
        parsed = parse_alias_name(filename)
        assert parsed is not None  # only alias names reach here
        product, os, arch, ext = parsed
        target = by_sha.get(entry["sha256"])
        if target is not None and (target.product, target.os, target.arch) != parsed[:3]:
            target = None  # same bytes under another platform's name: not a usable alias
        aliases.append(
            LatestAlias(filename, product, os, arch, ext, entry["sha256"], entry["mtime"], target)
        )
    return tuple(sorted(aliases, key=lambda a: a.filename))
