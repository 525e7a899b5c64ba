"""Python lines: one image per Python flavour, sharing its variant's Dockerfile.

A line's installer pins live in a small pins file of the Dockerfile ARG format (catalog key
`pins`). Each line moves on its own (its own file, so its own PR), stays on its flavour,
is flagged when upstream stops building that flavour, and gets its first pins proposed
when its file holds none yet. Upstream is the 2023 fixtures plus stand-in releases
(`tests/test_planner.py`); `bump --local` runs against the loopback mirror serving them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, parse_catalog
from bot.errors import CatalogError
from bot.forge.grouping import group_key
from bot.pins import read_pins
from bot.planner import Kind, Plan, plan
from bot.rewrite import rewrite
from tests.support.mirror import Mirror
from tests.support.upstream_data import publish_upstream
from tests.test_planner import (
    add_miniconda,
    dockerfile,
    make_listing,
    miniconda_file,
    miniconda_pins,
    newer_documents,
    version_text,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
ARCHES = ("x86_64", "aarch64")
SHARED = "dockerfiles/miniconda3/Dockerfile"
HEADER = "# Installer pins of a Python line; condabot rewrites them.\n"


def line_catalog(*lines: str, extra: str = "") -> str:
    """The default image on the shared Dockerfile, and one image per line on its pins file."""
    entries = [
        "  - name: miniconda3",
        "    product: miniconda3",
        f"    dockerfile: {SHARED}",
        "    platforms: [linux/amd64, linux/arm64]",
    ]
    for python in lines:
        entries += [
            f"  - name: miniconda3-{python}",
            "    product: miniconda3",
            f"    dockerfile: {SHARED}",
            f"    pins: dockerfiles/miniconda3/lines/{python}.pins",
            "    platforms: [linux/amd64, linux/arm64]",
            f"    python: {python}",
        ]
    return "version: 1\nregistries: {}\nimages:\n" + "\n".join(entries) + "\n" + extra


def pins_file(python: str, version: str, docs: dict[str, dict[str, Any]]) -> str:
    """A line's pins file: the header and the ARG blocks, nothing else."""
    text = dockerfile(miniconda_pins(python, version, ARCHES), docs)
    blocks = [line for line in text.splitlines() if line.startswith(("# renovate", "ARG"))]
    return HEADER + "\n".join(blocks) + "\n"


def plan_lines(
    catalog: Catalog, files: dict[str, str], docs: dict[str, dict[str, Any]], now: datetime = NOW
) -> Plan:
    pins = {
        image.name: read_pins(files[image.pin_file], image.pin_file) for image in catalog.images
    }
    return plan(catalog, pins, make_listing(docs), now)


def files_for(docs: dict[str, dict[str, Any]], **lines: str | None) -> dict[str, str]:
    files = {SHARED: dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES), docs)}
    for python, version in lines.items():
        path = f"dockerfiles/miniconda3/lines/{python}.pins"
        files[path] = HEADER if version is None else pins_file(python, version, docs)
    return files


# -- the catalog ----------------------------------------------------------------------------


def test_a_line_keeps_its_pins_in_its_own_file() -> None:
    catalog = parse_catalog(line_catalog("py310"))
    line, default = catalog.image("miniconda3-py310"), catalog.image("miniconda3")
    assert (line.dockerfile, line.pin_file) == (SHARED, "dockerfiles/miniconda3/lines/py310.pins")
    assert default.pin_file == SHARED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("python: py310", "python: default"), "a pins file holds one Python line"),
        (("lines/py310.pins", "Dockerfile"), "is the image's own Dockerfile"),
    ],
)
def test_a_pins_file_must_name_one_line_of_its_own(change: tuple[str, str], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(line_catalog("py310").replace(*change))


def test_end_of_life_names_a_date_and_a_living_replacement() -> None:
    eol = "    end_of_life: {date: 2020-01-01, replacement: miniconda3}\n"
    catalog = parse_catalog(line_catalog("py310") + eol)
    assert catalog.image("miniconda3-py310").end_of_life is not None
    end = catalog.image("miniconda3-py310").end_of_life
    assert end is not None
    assert (end.date, end.replacement) == ("2020-01-01", "miniconda3")
    with pytest.raises(CatalogError, match="'miniconda9' is not a catalog image"):
        parse_catalog(line_catalog("py310") + eol.replace("miniconda3}", "miniconda9}"))
    with pytest.raises(CatalogError, match="must be a date"):
        parse_catalog(line_catalog("py310") + eol.replace("2020-01-01", "soon"))


# -- the planner ----------------------------------------------------------------------------


def test_a_line_moves_on_its_own_flavour() -> None:
    docs = newer_documents()
    catalog = parse_catalog(line_catalog("py310", "py311"))
    result = plan_lines(catalog, files_for(docs, py310="24.1.2-0", py311="25.3.1-1"), docs)
    by_name = {i.image: i for i in result.images}
    py310 = by_name["miniconda3-py310"]
    assert (py310.kind, py310.from_python, py310.to_python, version_text(py310.to_version)) == (
        Kind.BUMP, "py310", "py310", "25.3.1-1",
    )  # fmt: skip
    assert py310.dockerfile == "dockerfiles/miniconda3/lines/py310.pins"
    assert Kind.FLAVOUR_CHANGE not in py310.flags
    assert by_name["miniconda3-py311"].changes == ()
    assert by_name["miniconda3"].changes == ()


def test_a_line_whose_flavour_upstream_stops_building_is_flagged() -> None:
    """Upstream's newest release ships py311 to py313 only: the py310 line cannot follow.
    Like a dropped arch, that is a loud, flagged finding, with what to do."""
    docs = newer_documents()
    add_miniconda(docs, "25.5.0-0", "2025-05-20", ("py311", "py312", "py313"), ARCHES, "py313")
    catalog = parse_catalog(line_catalog("py310"))
    result = plan_lines(catalog, files_for(docs, py310="25.3.1-1"), docs)
    line = next(i for i in result.images if i.image == "miniconda3-py310")
    assert line.kind is Kind.FLAVOUR_ENDED
    assert line.changes == ()
    loud = [n.text for n in line.notes if n.loud]
    assert loud == [
        "FLAVOUR ENDED: py310: upstream's newest release 25.5.0-0 has no py310 installer; "
        "last was py310_25.3.1-1. The line stays there; to retire it, set frozen: true "
        "(a product release then leaves it out)"
    ]


def test_an_ended_line_still_takes_the_last_release_of_its_flavour() -> None:
    docs = newer_documents()
    add_miniconda(docs, "25.5.0-0", "2025-05-20", ("py311", "py312", "py313"), ARCHES, "py313")
    catalog = parse_catalog(line_catalog("py310"))
    result = plan_lines(catalog, files_for(docs, py310="24.1.2-0"), docs)
    line = next(i for i in result.images if i.image == "miniconda3-py310")
    assert (line.to_python, version_text(line.to_version)) == ("py310", "25.3.1-1")
    assert {Kind.FLAVOUR_ENDED, Kind.BUMP} <= set(line.flags)


def test_a_release_still_uploading_its_flavours_is_waited_for() -> None:
    docs = newer_documents()
    add_miniconda(docs, "25.5.0-0", "2025-05-31", ("py311", "py312", "py313"), ARCHES, "py313")
    catalog = parse_catalog(line_catalog("py310"))
    result = plan_lines(catalog, files_for(docs, py310="25.3.1-1"), docs)
    line = next(i for i in result.images if i.image == "miniconda3-py310")
    assert line.kind is Kind.WAITING
    assert [(w.release, w.reason.split(" (")[0]) for w in line.waiting] == [
        ("25.5.0-0", "py310 not yet published")
    ]


def test_a_new_line_gets_its_first_pins_proposed() -> None:
    docs = newer_documents()
    catalog = parse_catalog(line_catalog("py312"))
    result = plan_lines(catalog, files_for(docs, py312=None), docs)
    line = next(i for i in result.images if i.image == "miniconda3-py312")
    assert (line.kind, line.to_python, version_text(line.to_version)) == (
        Kind.FIRST_PINS,
        "py312",
        "25.3.1-1",
    )
    assert [(c.arch, c.from_url, c.to_url.rsplit("/", 1)[-1] if c.to_url else None)
            for c in line.changes] == [
        (arch, "", miniconda_file("py312", "25.3.1-1", arch)) for arch in ARCHES
    ]  # fmt: skip
    assert not line.needs_review


def test_a_new_line_of_a_flavour_upstream_never_built_waits() -> None:
    docs = newer_documents()
    catalog = parse_catalog(line_catalog("py314"))
    result = plan_lines(catalog, files_for(docs, py314=None), docs)
    line = next(i for i in result.images if i.image == "miniconda3-py314")
    assert (line.kind, line.changes) == (Kind.WAITING, ())
    assert "no py314 release" in line.waiting[0].reason


# -- the writer and the groups ---------------------------------------------------------------


def test_first_pins_are_written_in_the_pin_format_and_read_back() -> None:
    docs = newer_documents()
    catalog = parse_catalog(line_catalog("py312"))
    result = plan_lines(catalog, files_for(docs, py312=None), docs)
    line = next(i for i in result.images if i.image == "miniconda3-py312")
    written = rewrite(HEADER, line.changes, line.dockerfile)
    assert written == pins_file("py312", "25.3.1-1", docs)
    assert rewrite(written, line.changes, line.dockerfile) == written  # idempotent


def test_each_line_is_its_own_pull_request_and_the_variants_of_one_dockerfile_share_one() -> None:
    extra = "\n".join([
        "  - name: miniconda3-usrlocal",
        "    product: miniconda3",
        f"    dockerfile: {SHARED}",
        "    platforms: [linux/amd64, linux/arm64]",
        "    tags: {suffix: -usrlocal}",
        "",
    ])  # fmt: skip
    catalog = parse_catalog(line_catalog("py310", "py311", extra=extra))
    groups = {image.name: group_key(image, catalog) for image in catalog.images}
    assert groups == {
        "miniconda3": "miniconda3",
        "miniconda3-usrlocal": "miniconda3",
        "miniconda3-py310": "miniconda3-py310",
        "miniconda3-py311": "miniconda3-py311",
    }


def test_bump_local_rewrites_each_lines_pins_file_and_leaves_the_dockerfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    docs = newer_documents()
    repo = tmp_path / "repo"
    files = files_for(docs, py310="24.1.2-0", py312=None)
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text)
    (repo / "dockerfiles/images.yaml").write_text(line_catalog("py310", "py312"))
    mirror = Mirror()
    mirror.start()
    try:
        publish_upstream(mirror, docs)
        code = main(["bump", "--local", "--catalog", str(repo / "dockerfiles/images.yaml"),
                     "--upstream-url", mirror.url, "--cache-dir", str(tmp_path / "cache"),
                     "--now", "2025-06-01T00:00:00Z"])  # fmt: skip
    finally:
        mirror.stop()
    err = capsys.readouterr().err
    assert code == 0, err
    assert (repo / SHARED).read_text() == files[SHARED]
    lines = repo / "dockerfiles/miniconda3/lines"
    assert (lines / "py310.pins").read_text() == pins_file("py310", "25.3.1-1", docs)
    assert (lines / "py312.pins").read_text() == pins_file("py312", "25.3.1-1", docs)


def test_a_first_pins_pull_request_says_there_were_none() -> None:
    from bot.forge.grouping import body, title

    docs = newer_documents()
    catalog = parse_catalog(line_catalog("py312"))
    result = plan_lines(catalog, files_for(docs, py312=None), docs)
    members = [i for i in result.images if i.changes]
    assert title("miniconda3-py312", members) == (
        "chore(deps): update miniconda3-py312 (py312) to 25.3.1-1"
    )
    text = body(members)
    assert "### `miniconda3-py312`: (none) → py312_25.3.1-1" in text
    assert "| x86_64 | (none: first pins) | [Miniconda3-py312_25.3.1-1" in text
