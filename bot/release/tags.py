"""The tags a release gives an image: an alias ladder that only ever moves forward. Pure.

For version `26.5.3-1` whose pins install Python flavour `py314`, catalog suffix `s`
(e.g. `-ubuntu`, empty by default):

| tag                  | s = ""           | s = "-ubuntu"           | kind      | who       |
|----------------------|------------------|-------------------------|-----------|-----------|
| `<version><s>`       | `26.5.3-1`       | `26.5.3-1-ubuntu`       | immutable | default   |
| `<py>_<version><s>`  | `py314_26.5.3-1` | `py314_26.5.3-1-ubuntu` | immutable | flavoured |
| `<upstream><s>`      | `26.5.3`         | `26.5.3-ubuntu`         | floating  | default   |
| `<series><s>`        | `26.5`           | `26.5-ubuntu`           | floating  | default   |
| `<major><s>`         | `26`             | `26-ubuntu`             | floating  | default   |
| `<py><s>`            | `py314`          | `py314-ubuntu`          | floating  | flavoured |
| `latest` or `<s>`    | `latest`         | `ubuntu`                | floating  | latest    |
| `<py>_<upstream><s>` | `py312_26.5.3`   | `py312_26.5.3-ubuntu`   | floating  | pinned    |
| `<py>_<series><s>`   | `py312_26.5`     | `py312_26.5-ubuntu`     | floating  | pinned    |
| `<py>_<major><s>`    | `py312_26`       | `py312_26-ubuntu`       | floating  | pinned    |

who: `default` = images following upstream's default flavour (`python: default`);
`pinned` = pinned-flavour images (`python: py312`, their `<py>` is the pinned one);
`flavoured` = both, when the pins carry a flavour; `latest` = default images whose
catalog entry keeps `tags.latest: true`.

A pinned-flavour image (`python: py312`) gets only flavour-prefixed tags and never
`latest`. Products without flavours (Anaconda) get no `py` tags. A name produced twice
(`2024.10` is both upstream and series of `2024.10-1`) is given once, immutable if either is.

Forward only: a floating tag goes to this release unless an existing release that would
also claim that very name (same repository, computed by these same rules) is newer. A
backport therefore never takes `latest`, `26` or `py314` from a newer release, but does take
its own series (`25.11`) when it is the newest of that series. An old release's Python
flavour is not recorded in its tag, so a default-flavour release is assumed to claim the
flavour tags of the release being planned: flavour tags never move backwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.catalog import Image
from bot.versions import Version


@dataclass(frozen=True)
class Tag:
    name: str
    immutable: bool


def candidate_tags(image: Image, version: Version, flavour: str | None) -> tuple[Tag, ...]:
    """Every tag `image` at `version` may claim, immutable ones first."""
    suffix = image.tags.suffix
    major = str(version.release[0])
    ladder = (version.upstream, version.series, major)
    if not image.follows_default:
        prefix = f"{image.python}_"
        names = [(f"{prefix}{version.text}{suffix}", True)]
        names += [(f"{prefix}{step}{suffix}", False) for step in ladder]
        names.append((f"{image.python}{suffix}", False))
        return _unique(names)
    names = [(f"{version.text}{suffix}", True)]
    if flavour:
        names.append((f"{flavour}_{version.text}{suffix}", True))
    names += [(f"{step}{suffix}", False) for step in ladder]
    if flavour:
        names.append((f"{flavour}{suffix}", False))
    if image.tags.latest:
        names.append((suffix.removeprefix("-") or "latest", False))
    return _unique(names)


def _unique(names: Iterable[tuple[str, bool]]) -> tuple[Tag, ...]:
    merged: dict[str, bool] = {}
    for name, immutable in names:
        merged[name] = merged.get(name, False) or immutable
    return tuple(Tag(name, immutable) for name, immutable in merged.items())


@dataclass(frozen=True)
class Assignment:
    tags: tuple[Tag, ...]  # what this release writes
    held: tuple[tuple[str, str], ...]  # (floating tag, newer release version holding it)


def assign_tags(
    image: Image,
    version: Version,
    flavour: str | None,
    others: Iterable[tuple[Version, Image]],
) -> Assignment:
    """This release's tags, given `others`: (version, image) of every existing release of an
    image in the same repository."""
    claims = [
        (other, {t.name for t in candidate_tags(j, other, _flavour_of(j, flavour))})
        for other, j in others
        if other > version
    ]
    given: list[Tag] = []
    held: list[tuple[str, str]] = []
    for tag in candidate_tags(image, version, flavour):
        holder = None if tag.immutable else _newest_claim(tag.name, claims)
        if holder is None:
            given.append(tag)
        else:
            held.append((tag.name, holder.text))
    return Assignment(tuple(given), tuple(held))


def _flavour_of(image: Image, assumed: str | None) -> str | None:
    return assumed if image.follows_default else image.python


def _newest_claim(name: str, claims: list[tuple[Version, set[str]]]) -> Version | None:
    holders = [version for version, names in claims if name in names]
    return max(holders) if holders else None
