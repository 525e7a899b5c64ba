"""The planner against the 2023 fixtures plus newer releases named by the real scheme.

Each failure seen in the wild is its own test. Newer releases are generated stand-in
installers whose listed sha256 and size are their own (`tests/support/upstream_data.py`),
so end-to-end tests can serve and verify them; the fixture files are never edited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, parse_catalog
from bot.errors import PlanError
from bot.pins import Pin, read_pins
from bot.planner import (
    ImagePlan,
    Kind,
    PinChange,
    Withheld,
    format_age,
    plan,
    plan_to_json,
)
from bot.platforms import BY_ARCH
from bot.upstream.listing import parse_listing
from bot.upstream.model import Listing, Product
from bot.versions import Version
from tests.support.upstream_data import synthetic_entry

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
ROOT = "https://repo.anaconda.com"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
ARCHES3 = ("x86_64", "aarch64", "s390x")

# (version, date, flavours, arches, default flavour): s390x ends at 25.1.1-2, ppc64le at 23.10.0-1.
MINICONDA = (
    ("23.10.0-1", "2023-11-16", ("py310", "py311"), (*ARCHES3, "ppc64le"), "py311"),
    ("24.1.2-0", "2024-02-23", ("py310", "py311", "py312"), ARCHES3, "py311"),
    ("25.1.1-2", "2025-02-11", ("py310", "py311", "py312"), ARCHES3, "py312"),
    ("25.3.1-1", "2025-04-10", ("py310", "py311", "py312", "py313"), ARCHES3[:2], "py313"),
)
ANACONDA = (
    ("2024.10-1", "2024-10-23", ARCHES3),
    ("2025.06-0", "2025-05-15", ARCHES3[:2]),
)


# -- listing and catalog builders (also used by test_writer and test_plan_cli) --------------


def entry(filename: str, date: str) -> dict[str, Any]:
    return synthetic_entry(filename, date)


def fixture_documents() -> dict[str, dict[str, Any]]:
    return {
        "miniconda": json.loads((FIXTURES / "miniconda-2023-07-13.files.json").read_text()),
        "archive": json.loads((FIXTURES / "archive-2023-10.files.json").read_text()),
    }


def add_miniconda(
    docs: dict[str, dict[str, Any]],
    version: str,
    date: str,
    flavours: Iterable[str],
    arches: Iterable[str],
    default: str | None = None,
) -> None:
    for python in flavours:
        for arch in arches:
            name = f"Miniconda3-{python}_{version}-Linux-{arch}.sh"
            docs["miniconda"][name] = entry(name, date)
            if python == default:
                docs["miniconda"][f"Miniconda3-latest-Linux-{arch}.sh"] = dict(
                    docs["miniconda"][name]
                )


def newer_documents(until: str = "2099-01-01") -> dict[str, dict[str, Any]]:
    docs = fixture_documents()
    for version, date, flavours, arches, default in MINICONDA:
        if date <= until:
            add_miniconda(docs, version, date, flavours, arches, default)
    for version, date, arches in ANACONDA:
        for arch in arches:
            if date <= until:
                name = f"Anaconda3-{version}-Linux-{arch}.sh"
                docs["archive"][name] = entry(name, date)
    return docs


def make_listing(docs: dict[str, dict[str, Any]] | None = None) -> Listing:
    return parse_listing(docs or newer_documents(), ROOT)


def file_entry(docs: dict[str, dict[str, Any]], filename: str) -> dict[str, Any]:
    directory = "archive" if filename.startswith("Anaconda") else "miniconda"
    value: dict[str, Any] = docs[directory][filename]
    return value


def catalog_text(images: Sequence[dict[str, Any]]) -> str:
    """A catalog YAML; each image dict: name, product, platforms(arches), python, frozen, bot."""
    out = ["version: 1", "registries: {}", "images:"]
    for image in images:
        out += [
            f"  - name: {image['name']}",
            f"    product: {image.get('product', 'miniconda3')}",
            f"    dockerfile: dockerfiles/{image['name']}/Dockerfile",
            "    platforms:",
            *(f"      - {BY_ARCH[a].name}" for a in image.get("arches", ARCHES3)),
            f"    python: {json.dumps(image.get('python', 'default'))}",
            f"    frozen: {str(image.get('frozen', False)).lower()}",
        ]
        bot = image.get("bot")
        if bot:
            out.append("    bot:")
            out += [f"      {key}: {json.dumps(value)}" for key, value in bot.items()]
    return "\n".join(out) + "\n"


def make_catalog(*images: dict[str, Any]) -> Catalog:
    return parse_catalog(catalog_text(images))


def installer_url(filename: str) -> str:
    directory = "archive" if filename.startswith("Anaconda") else "miniconda"
    return f"{ROOT}/{directory}/{filename}"


def miniconda_file(python: str, version: str, arch: str) -> str:
    return f"Miniconda3-{python}_{version}-Linux-{arch}.sh"


def dockerfile(
    pins: Sequence[tuple[str, str]],
    docs: dict[str, dict[str, Any]],
    shas: dict[str, str] | None = None,
    newline: str = "\n",
) -> str:
    """An images-repo style Dockerfile pinning (arch, filename) pairs with upstream's hashes."""
    lines = ["FROM debian:bookworm-slim", "# Leave these args here"]
    for arch, filename in pins:
        suffix = BY_ARCH[arch].arg_suffix
        sha = (shas or {}).get(arch) or file_entry(docs, filename)["sha256"]
        datasource = "anaconda" if filename.startswith("Anaconda") else "miniconda"
        lines += [
            f"# renovate: datasource=custom.{datasource}_installer",
            f'ARG INSTALLER_URL_{suffix}="{installer_url(filename)}"',
            f'ARG SHA256SUM_{suffix}="{sha}"',
        ]
    lines += ['RUN echo "${SHA256SUM} miniconda.sh" > shasum && sha256sum --check shasum']
    return newline.join(lines) + newline


def miniconda_pins(
    python: str, version: str, arches: Sequence[str] = ARCHES3
) -> list[tuple[str, str]]:
    return [(a, miniconda_file(python, version, a)) for a in arches]


def pins_of(text: str, name: str = "img") -> tuple[Pin, ...]:
    return read_pins(text, f"dockerfiles/{name}/Dockerfile")


def plan_one(
    image: dict[str, Any],
    text: str,
    docs: dict[str, dict[str, Any]] | None = None,
    now: datetime = NOW,
) -> ImagePlan:
    result = plan(make_catalog(image), {image["name"]: pins_of(text)}, make_listing(docs), now)
    assert len(result.images) == 1
    return result.images[0]


def version_text(version: Version | None) -> str | None:
    return None if version is None else version.text


def texts(image: ImagePlan) -> list[str]:
    return [n.text for n in image.notes]


def to_labels(image: ImagePlan) -> dict[str, str | None]:
    return {
        c.arch: None if c.to_url is None else c.to_url.rsplit("/", 1)[-1] for c in image.changes
    }


# -- the ordinary cases --------------------------------------------------------------------


def test_bump_moves_every_arch_to_the_newest_default_release() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "24.1.2-0"), docs)
    result = plan_one(
        {"name": "img", "python": "py312"}, text, docs, now=datetime(2025, 3, 1, tzinfo=UTC)
    )
    assert result.kind is Kind.BUMP
    assert (
        version_text(result.from_version),
        version_text(result.to_version),
        result.to_python,
    ) == (
        "24.1.2-0",
        "25.1.1-2",
        "py312",
    )
    assert to_labels(result) == {a: miniconda_file("py312", "25.1.1-2", a) for a in ARCHES3}
    change = result.changes[0]
    upstream = file_entry(docs, miniconda_file("py312", "25.1.1-2", "x86_64"))
    assert (change.to_sha, change.size, change.mtime) == (
        upstream["sha256"],
        upstream["size"],
        upstream["mtime"],
    )
    assert result.age == datetime(2025, 3, 1, tzinfo=UTC) - datetime(2025, 2, 11, tzinfo=UTC)


def test_up_to_date_plans_nothing() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, result.changes, version_text(result.to_version)) == (
        Kind.UP_TO_DATE,
        (),
        None,
    )


def test_plan_reads_the_real_2023_fixture_alone() -> None:
    docs = fixture_documents()
    text = dockerfile(miniconda_pins("py311", "23.5.1-0", (*ARCHES3, "ppc64le")), docs)
    image = {"name": "img", "arches": (*ARCHES3, "ppc64le")}
    result = plan_one(image, text, docs, now=datetime(2023, 8, 1, tzinfo=UTC))
    assert result.kind is Kind.BUMP
    assert to_labels(result) == {
        a: miniconda_file("py311", "23.5.2-0", a) for a in (*ARCHES3, "ppc64le")
    }


def test_anaconda_images_follow_calendar_versions() -> None:
    docs = newer_documents()
    pins = [(a, f"Anaconda3-2023.07-2-Linux-{a}.sh") for a in ARCHES3]
    result = plan_one({"name": "img", "product": "anaconda3"}, dockerfile(pins, docs), docs)
    assert (result.kind, version_text(result.to_version)) == (Kind.DROP_ARCH, "2025.06-0")
    assert Kind.BUMP in result.flags
    assert any("s390x: no installer for 2025.06-0; last was 2024.10-1" in n for n in texts(result))


# -- failures seen in the wild -------------------------------------------------------------


def test_human_bump_with_stale_hashes_is_detected_and_fixed() -> None:
    """A PR moved the URLs to 23.5.2-0 but kept every 23.5.1-0 hash."""
    docs = fixture_documents()
    old = {a: file_entry(docs, miniconda_file("py311", "23.5.1-0", a))["sha256"] for a in ARCHES3}
    text = dockerfile(miniconda_pins("py311", "23.5.2-0"), docs, shas=old)
    result = plan_one({"name": "img"}, text, docs, now=datetime(2023, 8, 1, tzinfo=UTC))
    assert result.kind is Kind.STALE_HASH and result.alarming
    assert version_text(result.to_version) is None  # the release is right; only the hashes move
    for change in result.changes:
        assert change.from_url == change.to_url
        assert change.from_sha == old[change.arch]
        assert (
            change.to_sha
            == file_entry(docs, miniconda_file("py311", "23.5.2-0", change.arch))["sha256"]
        )
    stale = [n for n in texts(result) if n.startswith("STALE HASH")]
    assert len(stale) == 3
    assert miniconda_file("py311", "23.5.1-0", "s390x") in " ".join(stale)


def test_mixed_version_file_is_fixed_as_one_move() -> None:
    """x86_64/aarch64 moved to 23.5.2-0; s390x was left on 23.5.1-0."""
    docs = fixture_documents()
    pins = [
        *miniconda_pins("py311", "23.5.2-0", ARCHES3[:2]),
        ("s390x", miniconda_file("py311", "23.5.1-0", "s390x")),
    ]
    result = plan_one(
        {"name": "img"}, dockerfile(pins, docs), docs, now=datetime(2023, 8, 1, tzinfo=UTC)
    )
    assert result.kind is Kind.MIXED_VERSIONS
    assert to_labels(result) == {"s390x": miniconda_file("py311", "23.5.2-0", "s390x")}
    assert any("s390x py311_23.5.1-0" in n for n in texts(result))


def test_mixed_version_file_whose_laggard_has_no_newer_installer_drops_it() -> None:
    """The bot PR that sat for months: s390x had no 25.3.1-1, so it stayed behind."""
    docs = newer_documents()
    pins = [
        *miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]),
        ("s390x", miniconda_file("py312", "25.1.1-2", "s390x")),
    ]
    result = plan_one({"name": "img"}, dockerfile(pins, docs), docs)
    assert result.kind is Kind.DROP_ARCH
    assert Kind.MIXED_VERSIONS in result.flags
    assert result.changes == (
        PinChange("s390x", installer_url(miniconda_file("py312", "25.1.1-2", "s390x")), None,
                  file_entry(docs, miniconda_file("py312", "25.1.1-2", "s390x"))["sha256"], None),
    )  # fmt: skip
    assert result.drop_platforms == ("linux/s390x",)


def test_flavour_switch_is_its_own_flagged_kind() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert result.kind is Kind.FLAVOUR_CHANGE
    assert set(result.flags) == {Kind.FLAVOUR_CHANGE, Kind.BUMP}
    assert (result.from_python, result.to_python, version_text(result.to_version)) == (
        "py312",
        "py313",
        "25.3.1-1",
    )
    assert any(n.startswith("FLAVOUR CHANGE: Python py312 -> py313") for n in texts(result))


def test_flavour_switch_within_one_release_is_flagged() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, version_text(result.to_version), result.to_python) == (
        Kind.FLAVOUR_CHANGE,
        "25.3.1-1",
        "py313",
    )


def test_pinned_flavour_is_tracked_and_the_new_default_reported() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py311", "24.1.2-0", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "python": "3.11", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, version_text(result.to_version), result.to_python) == (
        Kind.BUMP,
        "25.3.1-1",
        "py311",
    )
    assert Kind.NEW_FLAVOUR in result.flags
    assert any("default flavour is now py313; staying on py311" in n for n in texts(result))


def test_pinned_flavour_up_to_date_still_reports_the_new_default() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "python": "py312", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, result.changes) == (Kind.NEW_FLAVOUR, ())


def test_frozen_image_never_moves() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py311", "23.5.2-0"), docs)
    result = plan_one({"name": "img", "frozen": True}, text, docs)
    assert (result.kind, result.changes, version_text(result.to_version)) == (Kind.FROZEN, (), None)
    assert any("frozen at py311_23.5.2-0; py313_25.3.1-1 is available" in n for n in texts(result))


def test_frozen_image_reports_a_checksum_change_without_touching_it() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py311", "23.5.2-0"), docs)
    file_entry(docs, miniconda_file("py311", "23.5.2-0", "x86_64"))["sha256"] = "e" * 64
    result = plan_one({"name": "img", "frozen": True}, text, docs)
    assert (result.kind, result.changes) == (Kind.CHECKSUM_CHANGED, ())
    assert Kind.FROZEN in result.flags and result.alarming


def test_frozen_mixed_file_is_reported_not_fixed() -> None:
    docs = fixture_documents()
    pins = [
        *miniconda_pins("py311", "23.5.2-0", ARCHES3[:2]),
        ("s390x", miniconda_file("py311", "23.5.1-0", "s390x")),
    ]
    result = plan_one(
        {"name": "img", "frozen": True},
        dockerfile(pins, docs),
        docs,
        now=datetime(2023, 8, 1, tzinfo=UTC),
    )
    assert (result.kind, result.changes) == (Kind.FROZEN, ())
    assert Kind.MIXED_VERSIONS in result.flags


def test_ignore_list_skips_a_version() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "24.1.2-0"), docs)
    image = {"name": "img", "python": "py312", "bot": {"ignore": ["25.3.1-1"]}}
    result = plan_one(image, text, docs)
    assert (result.kind, version_text(result.to_version)) == (Kind.BUMP, "25.1.1-2")
    assert any("py312_25.3.1-1 (bot.ignore)" in n for n in texts(result))


def test_ignore_by_upstream_release_covers_every_build() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "24.1.2-0"), docs)
    image = {"name": "img", "python": "py312", "bot": {"ignore": ["25.3.1", "25.1.1"]}}
    result = plan_one(image, text, docs)
    assert (result.kind, result.changes) == (Kind.NEW_FLAVOUR, ())
    assert "py312_25.3.1-1 (bot.ignore), py312_25.1.1-2 (bot.ignore)" in result.notes[-1].text


def test_allowed_range_caps_the_bump() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "24.1.2-0"), docs)
    image = {"name": "img", "python": "py312", "bot": {"allow": ">=24,<25.3"}}
    result = plan_one(image, text, docs)
    assert (result.kind, version_text(result.to_version)) == (Kind.BUMP, "25.1.1-2")
    assert any("outside bot.allow >=24,<25.3" in n for n in texts(result))


def test_too_young_release_waits_and_shows_its_age() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), docs)
    image = {
        "name": "img",
        "python": "py312",
        "arches": ARCHES3[:2],
        "bot": {"min_release_age": "7d"},
    }
    result = plan_one(image, text, docs, now=datetime(2025, 4, 13, 6, tzinfo=UTC))
    assert (result.kind, result.changes) == (Kind.WAITING, ())
    (waiting,) = result.waiting
    assert (waiting.release, waiting.age, waiting.reason) == (
        "25.3.1-1",
        timedelta(days=3, hours=6),
        "younger than 7d",
    )
    assert format_age(waiting.age) == "3d6h"


def test_a_release_dated_after_the_planning_time_says_so() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), docs)
    image = {"name": "img", "python": "py312", "arches": ARCHES3[:2]}
    result = plan_one(image, text, docs, now=datetime(2025, 4, 9, tzinfo=UTC))
    assert (result.kind, result.changes) == (Kind.WAITING, ())
    assert result.waiting[0].reason == "dated after the planning time"


def test_too_young_release_falls_back_to_an_older_eligible_one() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "24.1.2-0", ARCHES3[:2]), docs)
    image = {
        "name": "img",
        "python": "py312",
        "arches": ARCHES3[:2],
        "bot": {"min_release_age": "30d"},
    }
    result = plan_one(image, text, docs, now=datetime(2025, 4, 13, tzinfo=UTC))
    assert (result.kind, version_text(result.to_version)) == (Kind.BUMP, "25.1.1-2")
    assert [w.release for w in result.waiting] == ["25.3.1-1"]


def test_checksum_changed_upstream_is_flagged_loudly() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    name = miniconda_file("py313", "25.3.1-1", "aarch64")
    file_entry(docs, name)["sha256"] = "d" * 64
    alias(docs, "aarch64", name, "2025-04-10")  # upstream re-copies the default's alias too
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert result.kind is Kind.CHECKSUM_CHANGED and result.alarming
    (change,) = result.changes
    assert (change.arch, change.from_url, change.to_url, change.to_sha) == (
        "aarch64", installer_url(name), installer_url(name), "d" * 64,
    )  # fmt: skip
    assert any(n.startswith(f"CHECKSUM CHANGED UPSTREAM: aarch64: {name}") for n in texts(result))


def test_s390x_ending_at_25_1_1_2_is_a_flagged_drop() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.1.1-2"), docs)
    result = plan_one({"name": "img", "python": "py312"}, text, docs)
    assert result.kind is Kind.DROP_ARCH
    assert to_labels(result) == {
        "x86_64": miniconda_file("py312", "25.3.1-1", "x86_64"),
        "aarch64": miniconda_file("py312", "25.3.1-1", "aarch64"),
        "s390x": None,
    }
    assert result.drop_platforms == ("linux/s390x",)
    assert any(
        n.startswith("ARCH DROPPED: s390x: no installer for 25.3.1-1; last was 25.1.1-2")
        for n in texts(result)
    )


def test_ppc64le_ending_at_23_10_0_1_is_a_flagged_drop() -> None:
    docs = newer_documents()
    arches = (*ARCHES3, "ppc64le")
    text = dockerfile(miniconda_pins("py311", "23.10.0-1", arches), docs)
    result = plan_one({"name": "img", "python": "py311", "arches": arches}, text, docs)
    assert (result.kind, version_text(result.to_version)) == (Kind.DROP_ARCH, "25.3.1-1")
    assert to_labels(result)["ppc64le"] is None and to_labels(result)["s390x"] is None
    assert set(result.drop_platforms) == {"linux/ppc64le", "linux/s390x"}
    assert any(
        n.startswith("ARCH DROPPED: ppc64le: no installer for 25.3.1-1; last was 23.10.0-1")
        for n in texts(result)
    )


def test_an_arch_still_uploading_is_not_dropped() -> None:
    """Upstream publishes one arch at a time: a missing arch waits out a grace period."""
    docs = newer_documents()
    add_miniconda(docs, "25.5.0-0", "2025-05-31", ("py313",), ("x86_64",), "py313")
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, result.changes) == (Kind.WAITING, ())
    assert result.waiting[0].reason == "aarch64 not yet published"


def test_never_downgrades() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.3.1-1", ARCHES3[:2]), docs)
    image = {"name": "img", "python": "py312", "arches": ARCHES3[:2], "bot": {"allow": "<25"}}
    assert plan_one(image, text, docs).changes == ()


def alias(docs: dict[str, dict[str, Any]], arch: str, target: str | None, date: str) -> None:
    """Point the arch's `-latest-` alias at a listed file, or (None) at bytes not listed yet."""
    name = f"Miniconda3-latest-Linux-{arch}.sh"
    if target is None:
        unlisted = synthetic_entry(f"Miniconda3-py314_25.5.0-0-Linux-{arch}.sh", date)
        docs["miniconda"][name] = unlisted  # the versioned file itself is not uploaded yet
    else:
        docs["miniconda"][name] = dict(file_entry(docs, target))


def test_mid_upload_aliases_wait_instead_of_falling_back_to_an_ended_arch() -> None:
    """x86_64 and aarch64 carry new bytes whose files are not listed; s390x ended on py312."""
    docs = newer_documents()
    for arch in ARCHES3[:2]:
        alias(docs, arch, None, "2025-05-31")
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, result.changes, result.to_python) == (Kind.WAITING, (), None)
    (waiting,) = result.waiting
    assert waiting.reason.startswith("upstream is mid-upload: Miniconda3-latest-Linux-x86_64.sh")
    assert waiting.age == timedelta(days=1)
    assert result.held and not result.needs_review


def test_primary_aliases_naming_different_flavours_are_mid_upload() -> None:
    docs = newer_documents()
    alias(docs, "aarch64", miniconda_file("py312", "25.3.1-1", "aarch64"), "2025-04-10")
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, result.changes) == (Kind.WAITING, ())
    assert "x86_64 names py313, aarch64 names py312" in result.waiting[0].reason


def test_an_upload_stuck_for_days_is_said_loudly() -> None:
    docs = newer_documents()
    alias(docs, "x86_64", None, "2025-05-20")
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert result.kind is Kind.WAITING
    assert [n.text for n in result.notes if n.loud] == [
        "UPLOAD STUCK: upstream has been mid-upload for 12d: Miniconda3-latest-Linux-x86_64.sh "
        "holds bytes no listed installer has; ask Anaconda, or pin the image's python"
    ]


def test_a_default_line_never_moves_to_a_lower_python() -> None:
    """Upstream points the primary aliases back at py312: a py313 line stays on py313."""
    docs = newer_documents()
    for arch in ARCHES3[:2]:
        alias(docs, arch, miniconda_file("py312", "25.3.1-1", arch), "2025-04-10")
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, result.changes, result.to_python) == (Kind.UP_TO_DATE, (), None)
    assert any(
        "names py312, older than the pinned py313: staying on py313" in n for n in texts(result)
    )


def test_the_catalog_may_ask_for_a_lower_line() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    result = plan_one({"name": "img", "python": "py312", "arches": ARCHES3[:2]}, text, docs)
    assert (result.kind, result.to_python, version_text(result.to_version)) == (
        Kind.FLAVOUR_CHANGE, "py312", "25.3.1-1",
    )  # fmt: skip


_ADVICE = re.compile(
    r"to keep it, set (?:python to (?P<python>\S+) and )?bot\.allow to (?P<allow>\S+)$"
)


@pytest.mark.parametrize("python", ["py312", "default"])
def test_following_the_drop_arch_advice_keeps_the_arch(python: str) -> None:
    """Two releases after s390x ended: advice built from the target would drop it again."""
    docs = newer_documents()
    add_miniconda(docs, "25.5.0-0", "2025-05-20", ("py312", "py313"), ARCHES3[:2], "py313")
    text = dockerfile(miniconda_pins("py312", "25.1.1-2"), docs)
    image: dict[str, Any] = {"name": "img", "python": python, "bot": {"allow": ">=24"}}
    first = plan_one(image, text, docs)
    assert first.kind is Kind.DROP_ARCH and version_text(first.to_version) == "25.5.0-0"
    (note,) = [n for n in texts(first) if n.startswith("ARCH DROPPED: s390x")]
    advice = _ADVICE.search(note)
    assert advice is not None, note
    image["bot"]["allow"] = advice["allow"]
    image["python"] = advice["python"] or python
    again = plan_one(image, text, docs)
    assert Kind.DROP_ARCH not in again.flags
    assert all(c.to_url for c in again.changes)
    assert advice["allow"] == ">=24,<=25.1.1-2"


def test_an_installer_that_failed_verification_is_not_proposed() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), docs)
    name = miniconda_file("py313", "25.3.1-1", "aarch64")
    bad = Withheld(name, file_entry(docs, name)["sha256"], "upstream served other bytes", True)
    result = plan(
        make_catalog({"name": "img", "arches": ARCHES3[:2]}),
        {"img": pins_of(text)},
        make_listing(docs),
        NOW,
        withheld=[bad],
    ).images[0]
    assert (result.kind, result.changes, version_text(result.to_version)) == (
        Kind.UNVERIFIED,
        (),
        None,
    )
    assert result.flags == (Kind.UNVERIFIED,)  # no bump, no flavour change: nothing moves
    assert result.alarming and result.needs_review and result.held
    assert [n.text for n in result.notes if n.loud] == [
        f"NOT VERIFIED: aarch64: {name}: upstream served other bytes; not proposed, "
        "the pins stay at py312_25.1.1-2"
    ]


def test_an_installer_that_could_not_be_downloaded_waits() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), docs)
    name = miniconda_file("py313", "25.3.1-1", "x86_64")
    failed = Withheld(name, file_entry(docs, name)["sha256"], "upstream answered 503", False)
    result = plan(
        make_catalog({"name": "img", "arches": ARCHES3[:2]}),
        {"img": pins_of(text)},
        make_listing(docs),
        NOW,
        withheld=[failed],
    ).images[0]
    assert (result.kind, result.changes) == (Kind.WAITING, ())
    assert not result.alarming and not result.needs_review and result.held
    (waiting,) = result.waiting
    assert (waiting.release, waiting.python) == ("25.3.1-1", "py313")
    assert waiting.reason == f"{name} could not be verified: upstream answered 503"


@pytest.mark.parametrize(
    ("flags", "review"),
    [
        ((Kind.BUMP,), False),
        ((Kind.MIXED_VERSIONS, Kind.BUMP), False),
        ((Kind.WAITING,), False),
        ((Kind.FLAVOUR_CHANGE, Kind.BUMP), True),
        ((Kind.DROP_ARCH, Kind.BUMP), True),
        ((Kind.CHECKSUM_CHANGED,), True),
        ((Kind.STALE_HASH,), True),
        ((Kind.UNVERIFIED,), True),
    ],
)
def test_which_findings_need_review(flags: tuple[Kind, ...], review: bool) -> None:
    image = ImagePlan("img", "d/Dockerfile", Product.MINICONDA3, flags[0], flags, "1.0.0-0",
                      "py312", None, None, None)  # fmt: skip
    assert image.needs_review is review


# -- errors and the JSON form --------------------------------------------------------------


def test_a_catalog_platform_without_a_pin_is_a_plan_error() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:1]), docs)
    with pytest.raises(PlanError, match="builds linux/arm64 but the Dockerfile pins no installer"):
        plan_one({"name": "img", "arches": ARCHES3[:2]}, text, docs)


def test_a_product_mismatch_is_a_plan_error() -> None:
    docs = newer_documents()
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), docs)
    with pytest.raises(PlanError, match="is anaconda3"):
        plan_one({"name": "img", "product": "anaconda3", "arches": ARCHES3[:2]}, text, docs)


def test_naive_time_is_refused() -> None:
    with pytest.raises(PlanError, match="time zone"):
        plan(make_catalog({"name": "img"}), {}, make_listing(), datetime(2025, 1, 1))


def test_json_form_is_stable() -> None:
    docs = newer_documents()
    catalog = make_catalog({"name": "a", "python": "py312"}, {"name": "b", "frozen": True})
    pins = {
        "a": pins_of(dockerfile(miniconda_pins("py312", "25.1.1-2"), docs), "a"),
        "b": pins_of(dockerfile(miniconda_pins("py311", "23.5.2-0"), docs), "b"),
    }
    result = plan(catalog, pins, make_listing(docs), NOW)
    data = plan_to_json(result)
    assert list(data) == ["schema", "now", "images"]
    assert data["now"] == "2025-06-01T00:00:00Z"
    assert list(data["images"][0]) == [
        "image", "dockerfile", "product", "kind", "flags", "from", "to", "age_seconds",
        "changes", "drop_platforms", "waiting", "notes",
    ]  # fmt: skip
    assert data["images"][0]["changes"][2]["to_url"] is None
    assert json.loads(json.dumps(data)) == data
