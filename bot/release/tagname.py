"""Parse release tags: `<image or product>-<version>`, e.g. `miniconda3-ubuntu-26.5.3-1`. Pure.

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
from bot.versions import Version

_TAG = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9-]*?)-(?P<version>\d+(?:\.\d+){1,3}(?:-\d+)?)$", re.ASCII
)
_EXAMPLE = "miniconda3-26.5.3-1"
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


def split_tag(text: str) -> tuple[str, Version] | None:
    """(name, version) of a well-formed tag, or None."""
    match = _TAG.fullmatch(text)
    if not match:
        return None
    return match["name"], Version.parse(match["version"])


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
            f"name it <image or product>-<version>, like {_EXAMPLE}",
        )
    parts = split_tag(text)
    if parts is None:
        raise ReleaseTagError(
            f"release tag {shown(text)} is not <image or product>-<version>",
            f"name it like {_EXAMPLE}; valid names: {_listing(valid_names(catalog))}",
        )
    name, version = parts
    of_product = tuple(i for i in catalog.images if i.product.value == name and _buildable(i))
    if of_product:
        return ReleaseTag(text, name, version, of_product, by_product=True)
    for image in catalog.images:
        if image.name == name:
            return ReleaseTag(text, name, version, (image,), by_product=False)
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
