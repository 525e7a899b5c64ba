"""The tags a release gives an image: an alias ladder that only ever moves forward. Pure.

For version `26.5.3-1` whose pins install Python flavour `py314`, catalog suffix `s`
(e.g. `-ubuntu`, empty by default):

| tag                  | s = ""           | s = "-ubuntu"           | kind      | who       |
|----------------------|------------------|-------------------------|-----------|-----------|
| `<version><s>`       | `26.5.3-1`       | `26.5.3-1-ubuntu`       | version   | default   |
| `<py>_<version><s>`  | `py314_26.5.3-1` | `py314_26.5.3-1-ubuntu` | version   | flavoured |
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
(`2024.10` is both upstream and series of `2024.10-1`) is given once, a version tag if
either is.

Three kinds of tag (`TagKind`):
- **build** tags, one per build of an installer version: every version tag with
  `_build<N>` before the suffix (`26.5.3-1_build2`, `py314_26.5.3-1_build2-ubuntu`). Build 1
  is the release tag `<name>-<version>`; a rebuild (a newer base, the same installers) is the
  release tag `<name>-<version>_build<N>`, N >= 2. A build tag never moves.
- **version** tags (`26.5.3-1`, `py314_26.5.3-1`): they follow the newest build of their
  version, and may move only to an image whose installers are byte-identical (the recorded
  sha256 of every platform's installer, checked by the publisher).
- **floating** tags: the rest of the ladder.

Forward only: a version or floating tag goes to this release unless an existing release
that would also claim that very name (same repository, computed by these same rules) is
newer: a higher version, or the same version and a higher build. A backport therefore never
takes `latest`, `26` or `py314` from a newer release, but does take its own series (`25.11`)
when it is the newest of that series; an old build never takes its version tags back from a
rebuild. An old release's Python flavour is not recorded in its tag, so a default-flavour
release is assumed to claim the flavour tags of the release being planned: flavour tags
never move backwards.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bot.catalog import Image
from bot.versions import Version

BUILD_MARK = "_build"


class TagKind(enum.Enum):
    BUILD = "build"  # never moves
    VERSION = "version"  # moves only to the same installers, to a newer build
    FLOATING = "floating"


@dataclass(frozen=True)
class Tag:
    name: str
    kind: TagKind

    @property
    def immutable(self) -> bool:
        """Pinned to what it names: a build (its digest) or a version (its installers)."""
        return self.kind is not TagKind.FLOATING


def build_tags(image: Image, version: Version, flavour: str | None, build: int) -> tuple[Tag, ...]:
    """This build's own tags: each version tag with `_build<N>` before the suffix."""
    suffix = image.tags.suffix
    return tuple(
        Tag(f"{tag.name.removesuffix(suffix)}{BUILD_MARK}{build}{suffix}", TagKind.BUILD)
        for tag in candidate_tags(image, version, flavour)
        if tag.kind is TagKind.VERSION
    )


def candidate_tags(image: Image, version: Version, flavour: str | None) -> tuple[Tag, ...]:
    """Every ladder tag `image` at `version` may claim, version tags first."""
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
    for name, version in names:
        merged[name] = merged.get(name, False) or version
    return tuple(
        Tag(name, TagKind.VERSION if version else TagKind.FLOATING)
        for name, version in merged.items()
    )


@dataclass(frozen=True, order=True)
class Build:
    """One build of an installer version: what orders releases for the forward-only rule."""

    version: Version
    number: int = 1

    @property
    def text(self) -> str:
        return self.version.text + (f"{BUILD_MARK}{self.number}" if self.number > 1 else "")


@dataclass(frozen=True)
class Assignment:
    tags: tuple[Tag, ...]  # the ladder this release writes (version and floating tags)
    held: tuple[tuple[str, str], ...]  # (tag, newer release holding it)


def assign_tags(
    image: Image,
    version: Version | Build,
    flavour: str | None,
    others: Iterable[tuple[Version | Build, Image]],
) -> Assignment:
    """This release's ladder, given `others`: (version or build, image) of every existing
    release of an image in the same repository. Build tags are `build_tags`'."""
    mine = _build(version)
    claims = [
        (other, {t.name for t in candidate_tags(j, other.version, _flavour_of(j, flavour))})
        for other, j in ((_build(o), j) for o, j in others)
        if other > mine
    ]
    given: list[Tag] = []
    held: list[tuple[str, str]] = []
    for tag in candidate_tags(image, mine.version, flavour):
        holder = _newest_claim(tag.name, claims)
        if holder is None:
            given.append(tag)
        else:
            held.append((tag.name, holder.text))
    return Assignment(tuple(given), tuple(held))


def _build(value: Version | Build) -> Build:
    return value if isinstance(value, Build) else Build(value)


def _flavour_of(image: Image, assumed: str | None) -> str | None:
    return assumed if image.follows_default else image.python


def _newest_claim(name: str, claims: list[tuple[Build, set[str]]]) -> Build | None:
    holders = [version for version, names in claims if name in names]
    return max(holders) if holders else None
