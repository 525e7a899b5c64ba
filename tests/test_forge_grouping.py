"""Plans become one PR per group: images sharing a Dockerfile share a PR; product grouping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.catalog import parse_catalog
from bot.forge.grouping import WARNINGS, body, group_plans, group_updates
from bot.planner import ImagePlan, Kind, Note, PinChange, Plan, Severity, Withheld, plan
from bot.upstream.model import Product
from bot.versions import Version

CATALOG = """\
version: 1
registries: {hub: {kind: dockerhub, host: docker.io, namespace: x}}
images:
  - {name: miniconda3, product: miniconda3, dockerfile: d/m/Dockerfile, platforms: [linux/amd64],
     bot: {labels: [deps], reviewers: [bob]}}
  - {name: miniconda3-usrlocal, product: miniconda3, dockerfile: d/m/Dockerfile, platforms: [linux/amd64],
     bot: {labels: [usrlocal]}}
  - {name: anaconda3, product: anaconda3, dockerfile: d/a/Dockerfile, platforms: [linux/amd64], bot: {group: product}}
  - {name: anaconda3-ubuntu, product: anaconda3, dockerfile: d/au/Dockerfile, platforms: [linux/amd64],
     bot: {group: product}}
"""


def image_plan(
    name: str, dockerfile: str, product: Product, version: str, python: str | None
) -> ImagePlan:
    change = PinChange("x86_64", "https://repo.anaconda.com/a/old.sh", f"https://repo.anaconda.com/a/{version}.sh",
                       "0" * 64, "1" * 64, 10**8, 1.7e9)  # fmt: skip
    return ImagePlan(name, dockerfile, product, Kind.BUMP, (Kind.BUMP,), Version.parse("1.0.0-0"), python,
                     Version.parse(version), python, None, (change,))  # fmt: skip


def test_shared_dockerfiles_and_product_groups() -> None:
    catalog = parse_catalog(CATALOG)
    plan = Plan(datetime(2026, 11, 1, tzinfo=UTC), (
        image_plan("miniconda3", "d/m/Dockerfile", Product.MINICONDA3, "26.5.3-1", "py314"),
        image_plan("miniconda3-usrlocal", "d/m/Dockerfile", Product.MINICONDA3, "26.5.3-1", "py314"),
        image_plan("anaconda3", "d/a/Dockerfile", Product.ANACONDA3, "2025.06-0", None),
        image_plan("anaconda3-ubuntu", "d/au/Dockerfile", Product.ANACONDA3, "2025.06-0", None),
    ))  # fmt: skip
    groups = group_plans(plan, catalog)
    assert {g: [i.image for i in sub.images] for g, sub in groups.items()} == {
        "anaconda3": ["anaconda3", "anaconda3-ubuntu"],
        "miniconda3": ["miniconda3", "miniconda3-usrlocal"],
    }
    edits = {
        group: {(i.dockerfile, f"pinned {i.to_version}\n") for i in sub.images}
        for group, sub in groups.items()
    }
    updates = {u.group: u for u in group_updates(groups, edits, catalog)}
    assert sorted(updates) == ["anaconda3", "miniconda3"]
    mini = updates["miniconda3"]
    assert mini.title == "chore(deps): update miniconda3 (py314) to 26.5.3-1"
    assert [f.path for f in mini.files] == ["d/m/Dockerfile"]
    assert mini.labels == ("deps", "usrlocal") and mini.reviewers == ("bob",)
    assert mini.body.count("### ") == 1 and "`miniconda3`, `miniconda3-usrlocal`" in mini.body
    ana = updates["anaconda3"]
    assert [f.path for f in ana.files] == ["d/a/Dockerfile", "d/au/Dockerfile"]
    assert ana.target == "anaconda3=2025.06-0;anaconda3-ubuntu=2025.06-0"


def test_installer_sizes_read_well_at_any_scale() -> None:
    from bot.forge.grouping import _size

    assert _size(1_080_000_000) == "1080.0 MB"
    assert _size(8_552) == "8.6 kB"  # a stand-in installer, not "0.0 MB"


def test_each_warning_is_said_once_in_a_pr_body() -> None:
    """A kind with a warning block leaves its own loud notes out of the list below it."""
    import dataclasses

    from bot.forge.grouping import body

    flagged = (Kind.CHECKSUM_CHANGED, Kind.DROP_ARCH, Kind.FLAVOUR_CHANGE, Kind.STALE_HASH)
    notes = tuple(Note(Severity.WARNING, f"{k.tag}: x86_64: details", k) for k in flagged)
    plan = dataclasses.replace(
        image_plan("miniconda3", "d/m/Dockerfile", Product.MINICONDA3, "26.5.3-1", "py314"),
        kind=flagged[0], flags=flagged, notes=notes,
    )  # fmt: skip
    text = body([plan])
    for kind in flagged:
        assert text.count(kind.tag) == 0, kind  # the warning block says it, in its own words
    assert text.count("[!WARNING]") == len(flagged)


def _needing_review(kind: Kind) -> ImagePlan:
    """A plan the planner makes, flagged with `kind`, from the scenarios of test_planner."""
    from tests.test_planner import (
        ARCHES3,
        NOW,
        alias,
        dockerfile,
        file_entry,
        fixture_documents,
        make_catalog,
        make_listing,
        miniconda_file,
        miniconda_pins,
        newer_documents,
        pins_of,
        plan_one,
    )  # fmt: skip

    docs = newer_documents()
    if kind is Kind.STALE_HASH:  # a human moved the URLs and kept the old hashes
        docs = fixture_documents()
        old = {a: file_entry(docs, miniconda_file("py311", "23.5.1-0", a))["sha256"]
               for a in ARCHES3}  # fmt: skip
        text = dockerfile(miniconda_pins("py311", "23.5.2-0"), docs, shas=old)
        return plan_one({"name": "img"}, text, docs, now=datetime(2023, 8, 1, tzinfo=UTC))
    if kind is Kind.DROP_ARCH:  # s390x ends at 25.1.1-2
        text = dockerfile(miniconda_pins("py312", "25.1.1-2"), docs)
        return plan_one({"name": "img", "python": "py312"}, text, docs)
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), docs)
    image = {"name": "img", "arches": ARCHES3[:2]}
    if kind is Kind.FLAVOUR_CHANGE:  # the default moved from py312 to py313
        return plan_one(image, text, docs)
    name = miniconda_file("py313", "25.3.1-1", "aarch64")
    if kind is Kind.UNVERIFIED:  # the proposed installer's bytes are not the listing's
        bad = Withheld(name, file_entry(docs, name)["sha256"], "other bytes were served", True)
        catalog, pins = make_catalog(image), {"img": pins_of(text)}
        return plan(catalog, pins, make_listing(docs), NOW, withheld=[bad]).images[0]
    assert kind is Kind.CHECKSUM_CHANGED  # same name, new bytes upstream
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    file_entry(docs, name)["sha256"] = "d" * 64
    alias(docs, "aarch64", name, "2025-04-10")
    return plan_one(image, text, docs)


REVIEWED = (Kind.CHECKSUM_CHANGED, Kind.STALE_HASH, Kind.UNVERIFIED, Kind.DROP_ARCH,
            Kind.FLAVOUR_CHANGE)  # fmt: skip


def test_every_kind_that_needs_review_is_covered_below() -> None:
    assert set(REVIEWED) == {k for k in Kind if k.needs_review or k.alarming}


@pytest.mark.parametrize("kind", REVIEWED, ids=str)
def test_a_pr_body_says_each_warning_exactly_once(kind: Kind) -> None:
    """The planner's warning for a kind is said once: by the kind's warning block when it
    has one (its notes are then left out), else by its note."""
    image = _needing_review(kind)
    assert kind in image.flags
    text = body([image])
    for flagged in image.flags:
        said = text.count(flagged.tag)  # notes start with the tag
        if flagged in WARNINGS:
            said += text.count(WARNINGS[flagged].split("**")[1])  # the block's heading
        elif not any(n.loud and n.kind is flagged for n in image.notes):
            continue  # nothing to warn about: said nowhere
        assert said == 1, (flagged, text)
