"""The release planner on the full catalog, `dockerfiles/images.yaml`, Python lines included.

Pins are given as the planner receives them (`Pinned`), one release for every image: the
default images on upstream's default flavour, each line on its own.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from bot.catalog import Catalog, Image, load_catalog, parse_catalog
from bot.errors import DockerfileError, PlanError
from bot.release.pinned import Pinned, read_pinned
from bot.release.plan import ReleasePlan, make_plan
from bot.release.tagname import resolve_tag
from bot.versions import Version

ROOT = Path(__file__).resolve().parents[1]
CATALOG_PATH = ROOT / "dockerfiles" / "images.yaml"
CATALOG = load_catalog(CATALOG_PATH)
LINES = [image.name for image in CATALOG.images if image.pins is not None]
REV = "0123456789abcdef0123456789abcdef01234567"
CREATED = "2026-10-01T00:00:00Z"
SOURCE = "https://github.com/example/condabot"


def pinned_for(catalog: Catalog, version: str, default: str = "py314") -> dict[str, Pinned]:
    def flavour(image: Image) -> str | None:
        if image.product.value == "anaconda3":
            return None
        return default if image.follows_default else image.python

    return {
        image.name: Pinned(image.name, Version.parse(version), flavour(image), image.pin_file)
        for image in catalog.images
    }


def release(catalog: Catalog, tag: str, existing: tuple[str, ...] = ()) -> ReleasePlan:
    version = re.sub(r"^[a-z0-9-]*?-(?=\d)", "", tag)
    release_tag = resolve_tag(tag, catalog)
    return make_plan(
        catalog, release_tag, pinned_for(catalog, version), existing, REV, CREATED, SOURCE
    )


def test_a_product_release_covers_every_line_and_no_tag_is_claimed_twice() -> None:
    plan = release(CATALOG, "miniconda3-26.5.3-1")
    assert [i.name for i in plan.images] == [
        "miniconda3", "miniconda3-usrlocal", "miniconda3-ubuntu", *LINES,
        "miniconda3-devcontainer",
    ]  # fmt: skip
    owners: dict[tuple[str, str], str] = {}
    for image in plan.images:
        for target in image.targets:
            for tag in image.tags:
                assert (target.ref, tag.name) not in owners, (image.name, tag.name)
                owners[(target.ref, tag.name)] = image.name
    for name in LINES:
        python = CATALOG.image(name).python
        assert [t.name for t in plan.image(name).tags] == [
            f"{python}_26.5.3-1", f"{python}_26.5.3", f"{python}_26.5", f"{python}_26", python,
        ]  # fmt: skip
    default = [t.name for t in plan.image("miniconda3").tags]
    assert default == ["26.5.3-1", "26.5.3", "26.5", "26", "latest"]
    assert dict(plan.image("miniconda3").held)["py314"] == (
        "owned by pinned-flavour image miniconda3-py314"
    )


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(LINES, 2)))
def test_two_lines_claiming_one_flavour_are_refused_naming_both(first: str, second: str) -> None:
    text = CATALOG_PATH.read_text()
    theirs, mine = CATALOG.image(first).python, CATALOG.image(second).python
    clash = text.replace(f"    python: {mine}\n", f"    python: {theirs}\n")
    with pytest.raises(PlanError) as caught:
        release(parse_catalog(clash), "miniconda3-26.5.3-1")
    assert f"images {first} and {second} both claim docker.io/condabot/miniconda3:" in (
        caught.value.message
    )


@pytest.mark.parametrize("variant", ["miniconda3-usrlocal", "miniconda3-ubuntu"])
def test_a_variant_losing_its_suffix_is_refused_naming_both(variant: str) -> None:
    suffix = CATALOG.image(variant).tags.suffix
    clash = CATALOG_PATH.read_text().replace(f'suffix: "{suffix}"', 'suffix: ""')
    with pytest.raises(PlanError, match=f"images miniconda3 and {variant} both claim"):
        release(parse_catalog(clash), "miniconda3-26.5.3-1")


def test_a_single_line_release_takes_only_its_own_tags() -> None:
    plan = release(CATALOG, "miniconda3-py312-26.5.3-1", ("miniconda3-26.5.3-1",))
    assert [i.name for i in plan.images] == ["miniconda3-py312"]
    assert plan.image("miniconda3-py312").tags[0].name == "py312_26.5.3-1"


def test_a_new_line_holds_product_releases_until_its_first_pins_are_merged() -> None:
    """py312 to py314 have no pins in this repository yet: a product release says so."""
    release_tag = resolve_tag("miniconda3-23.5.2-0", CATALOG)
    with pytest.raises(DockerfileError, match="miniconda3-py312 is a new line"):
        read_pinned(release_tag.images, ROOT, None)
    pinned = read_pinned((CATALOG.image("miniconda3-py310"),), ROOT, None)["miniconda3-py310"]
    assert (pinned.version.text, pinned.flavour) == ("23.5.2-0", "py310")
