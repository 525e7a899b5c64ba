"""Parse release tags: `<image or product>-<version>`, e.g. `miniconda3-ubuntu-26.5.3-1`. Pure.

A rebuild of the same installers (a base image's security update) is the same tag with
`_build<N>`, N >= 2: `miniconda3-26.5.3-1_build2` (build 1 is the tag without it).

A product name wins over an image of the same name: `miniconda3-26.5.3-1` releases every
buildable miniconda3 image (not frozen, `build_by_default`), so a tag never silently
leaves a variant behind; a single image is released by its own, longer name. A product
with no buildable image (`miniconda2`, frozen) falls back to the image of that name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.catalog import Catalog, Image
from bot.errors import ReleaseTagError
from bot.release.tags import Build
from bot.versions import Version

_TAG = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9-]*?)-(?P<version>\d+(?:\.\d+){1,3}(?:-\d+)?)"
    r"(?:_build(?P<build>\d{1,4}))?$",
    re.ASCII,
)
_EXAMPLE = "miniconda3-26.5.3-1"
_FORM = "<image or product>-<version>[_build<N>]"
# Far beyond any real `<name>-<version>`; bounds every message that quotes a tag.
MAX_TAG = 128
_SHOWN = 60


@dataclass(frozen=True)
class ReleaseTag:
    text: str
    name: str  # the image or product the tag names
    version: Version
    images: tuple[Image, ...]
    by_product: bool
    build: int = 1  # 1: the release itself; N >= 2: a rebuild of the same installers

    @property
    def key(self) -> Build:
        return Build(self.version, self.build)


def split_tag(text: str) -> tuple[str, Version] | None:
    """(name, version) of a well-formed tag, or None."""
    parts = _split(text)
    return None if parts is None else parts[:2]


def _split(text: str) -> tuple[str, Version, int | None] | None:
    """(name, version, the `_build<N>` number or None) of a well-formed tag, or None."""
    match = _TAG.fullmatch(text)
    if not match:
        return None
    build = int(match["build"]) if match["build"] else None
    return match["name"], Version.parse(match["version"]), build


def shown(text: str) -> str:
    """User-given text for a one-line message: quoted, and cut with its length if long."""
    if len(text) <= _SHOWN:
        return repr(text)
    return f"{text[:_SHOWN]!r}... ({len(text)} characters)"


def resolve_tag(text: str, catalog: Catalog) -> ReleaseTag:
    """The images a release tag names. Raises ReleaseTagError, never returns an empty set."""
    if len(text) > MAX_TAG:
        raise ReleaseTagError(
            f"release tag {shown(text)} is longer than {MAX_TAG} characters",
            f"name it {_FORM}, like {_EXAMPLE}",
        )
    parts = _split(text)
    if parts is None:
        raise ReleaseTagError(
            f"release tag {shown(text)} is not {_FORM}",
            f"name it like {_EXAMPLE}; valid names: {_listing(valid_names(catalog))}",
        )
    name, version, number = parts
    build = 1 if number is None else number
    if number is not None and number < 2:
        plain = text.rsplit("_build", 1)[0]
        raise ReleaseTagError(
            f"release tag {shown(text)} names build {build}; build 1 is the release itself",
            f"tag it {plain}, and a rebuild of the same installers {plain}_build2",
        )
    of_product = tuple(i for i in catalog.images if i.product.value == name and _buildable(i))
    if of_product:
        return ReleaseTag(text, name, version, of_product, by_product=True, build=build)
    for image in catalog.images:
        if image.name == name:
            return ReleaseTag(text, name, version, (image,), by_product=False, build=build)
    if any(image.product.value == name for image in catalog.images):
        raise ReleaseTagError(
            f"release tag {shown(text)} names product {name}, which has no buildable image",
            "tag a single image by its name, or set build_by_default in images.yaml",
        )
    raise ReleaseTagError(
        f"release tag {shown(text)} names no image or product ({shown(name)})",
        f"closest valid names: {_listing(closest(name, catalog))}; "
        f"delete the release and tag it as <name>-{version}",
    )


def try_resolve(text: str, catalog: Catalog) -> ReleaseTag | None:
    """`resolve_tag`, or None for a tag that is not one of ours (e.g. `v1.2`)."""
    try:
        return resolve_tag(text, catalog)
    except ReleaseTagError:
        return None


def valid_names(catalog: Catalog) -> list[str]:
    products = sorted({image.product.value for image in catalog.images})
    return products + [n for n in catalog.names() if n not in products]


def closest(name: str, catalog: Catalog) -> list[str]:
    names = valid_names(catalog)
    return difflib.get_close_matches(name, names, n=3, cutoff=0.5) or names


def _buildable(image: Image) -> bool:
    return image.build_by_default and not image.frozen


def _listing(names: Iterable[str]) -> str:
    return ", ".join(names)
