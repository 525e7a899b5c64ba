"""The Renovate preset (`renovate/images.json`) against the tags the release planner makes.

Renovate itself is not run (it is a Node.js service); its rule matching and its `regex:`
versioning (lib/modules/versioning/regex: the named groups major, minor, patch, build and
compatibility; an update never changes compatibility; release parts compared as numbers)
are modelled here, and the preset's own regexes are what the model runs. The tags are the
release planner's, for a series of releases of the whole catalog. The preset's schema is
checked with check-jsonschema's bundled Renovate schema.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, Image, load_catalog
from bot.release.pinned import Pinned
from bot.release.plan import make_plan
from bot.release.renovate import PRESET_PATH, render
from bot.release.tagname import resolve_tag
from bot.versions import Version
from tests.harness.component import unavailable

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(ROOT / "dockerfiles" / "images.yaml")
PRESET: dict[str, Any] = json.loads((ROOT / PRESET_PATH).read_text())
REV = "0123456789abcdef0123456789abcdef01234567"
# (release tag, upstream's default flavour then): product releases, one line released on
# its own, Anaconda and the frozen Miniconda2.
RELEASES = (
    ("miniconda3-25.3.1-1", "py313"),
    ("miniconda3-26.5.3-1", "py314"),
    ("miniconda3-py312-26.6.0-0", "py314"),
    ("anaconda3-2025.06-0", None),
    ("anaconda3-2026.03-1", None),
    ("miniconda2-4.8.3", None),
)


@dataclass(frozen=True)
class Published:
    """One tag a release wrote, and what it means (the oracle, from the planner's data)."""

    repository: str  # registry host/path
    tag: str
    immutable: bool
    suffix: str  # the image's variant suffix
    line: str | None  # the Python line the tag names (`py312_...`), if any
    version: Version


def published(catalog: Catalog = CATALOG) -> list[Published]:
    seen: list[str] = []
    out = []
    for tag, default in RELEASES:
        version = re.sub(r"^[a-z0-9-]*?-(?=\d)", "", tag)
        pinned = {i.name: _pinned(i, version, default) for i in catalog.images}
        plan = make_plan(
            catalog, resolve_tag(tag, catalog), pinned, tuple(seen), REV, "2026-10-01T00:00:00Z", ""
        )
        seen.append(tag)
        for release in plan.images:
            image = catalog.image(release.name)
            for target in release.targets:
                for t in release.tags:
                    line = t.name.split("_", 1)[0] if "_" in t.name else None
                    meaning = (image.tags.suffix, line, Version.parse(version))
                    out.append(Published(target.ref, t.name, t.immutable, *meaning))
    return out


def _pinned(image: Image, version: str, default: str | None) -> Pinned:
    flavour = None if image.product.value == "anaconda3" else image.python
    if image.follows_default and flavour is not None:
        flavour = default
    return Pinned(image.name, Version.parse(version), flavour, image.pin_file)


# -- a model of Renovate's rule matching and regex versioning -------------------------------


def _python_regex(javascript: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", javascript))


def _matches(spec: str, value: str) -> bool:
    if len(spec) > 1 and spec.startswith("/") and spec.endswith("/"):
        return _python_regex(spec[1:-1]).search(value) is not None
    return spec == value


def _applies(rule: dict[str, Any], package: str, current: str) -> bool:
    return (
        "docker" in rule.get("matchDatasources", ["docker"])
        and any(_matches(p, package) for p in rule.get("matchPackageNames", [package]))
        and _matches(rule.get("matchCurrentValue", current), current)
    )


def _parse(pattern: re.Pattern[str], tag: str) -> tuple[tuple[int, ...], str | None] | None:
    found = pattern.search(tag)
    if found is None:
        return None
    groups = found.groupdict()
    release = [int(groups.get(k) or 0) for k in ("major", "minor", "patch")]
    if groups.get("build"):
        release.append(int(groups["build"]))
    return tuple(release), groups.get("compatibility")


def renovate_update(package: str, current: str, available: set[str]) -> str | None:
    """The tag Renovate would move `FROM package:current` to, given the preset."""
    rules = [r for r in PRESET["packageRules"] if _applies(r, package, current)]
    scheme = next((r["versioning"] for r in reversed(rules) if "versioning" in r), None)
    if scheme is None:
        return None
    pattern = _python_regex(scheme.removeprefix("regex:"))
    now = _parse(pattern, current)
    if now is None:
        return None  # not a version under this scheme: left alone
    newer = []
    for tag in available:
        parsed = _parse(pattern, tag)
        if parsed is not None and parsed[1] == now[1] and _padded(parsed[0]) > _padded(now[0]):
            newer.append((_padded(parsed[0]), tag))
    return max(newer)[1] if newer else None


def _padded(release: tuple[int, ...]) -> tuple[int, ...]:
    return release + (0,) * (5 - len(release))


# -- the tests ------------------------------------------------------------------------------


def test_the_preset_is_generated_from_the_catalog() -> None:
    assert (ROOT / PRESET_PATH).read_text() == render(CATALOG), (
        "regenerate: python -m bot.release.renovate > renovate/images.json"
    )


def test_the_preset_is_valid_for_renovate() -> None:
    tool = shutil.which("check-jsonschema") or str(ROOT / ".venv/bin/check-jsonschema")
    if not Path(tool).exists():
        unavailable("check-jsonschema", "not installed", "make setup")
    done = subprocess.run(
        [tool, "--builtin-schema", "vendor.renovate", str(ROOT / PRESET_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_image_is_matched_however_its_name_is_written() -> None:
    base = PRESET["packageRules"][0]
    for image in CATALOG.images:
        for name in image.registries:
            registry = CATALOG.registries[name]
            path = f"{registry.namespace}/{image.repository}"
            for package in (path, f"{registry.host}/{path}"):
                assert _applies(base, package, "26.5.3-1"), package
    for stranger in ("continuumio/miniconda3", "condabot/miniconda3-other", "miniconda3"):
        assert not _applies(base, stranger, "26.5.3-1"), stranger


def test_each_immutable_tag_moves_to_the_newest_of_its_own_line_and_variant() -> None:
    tags = published()
    by_repository: dict[str, set[str]] = {}
    for t in tags:
        by_repository.setdefault(t.repository, set()).add(t.tag)
    immutable = {(t.repository, t.tag): t for t in tags if t.immutable}
    checked = 0
    for current in immutable.values():
        successors = [
            t for t in immutable.values()
            if (t.repository, t.suffix, t.line) == (current.repository, current.suffix, current.line)
            and t.version > current.version
        ]  # fmt: skip
        expected = max(successors, key=lambda t: t.version).tag if successors else None
        for package in (current.repository, current.repository.split("/", 1)[1]):
            got = renovate_update(package, current.tag, by_repository[current.repository])
            assert got == expected, (package, current.tag)
        checked += 1
    assert checked > 40
    assert renovate_update("condabot/miniconda3", "py312_26.5.3-1", by_repository[
        "docker.io/condabot/miniconda3"]) == "py312_26.6.0-0"  # fmt: skip
    assert renovate_update("condabot/miniconda3", "25.3.1-1-ubuntu", by_repository[
        "docker.io/condabot/miniconda3"]) == "26.5.3-1-ubuntu"  # fmt: skip
    assert renovate_update("condabot/miniconda3", "py313_25.3.1-1", by_repository[
        "docker.io/condabot/miniconda3"]) == "py313_26.5.3-1"  # fmt: skip


def test_floating_tags_are_left_alone() -> None:
    tags = published()
    every = {t.tag for t in tags}
    floating = {(t.repository, t.tag) for t in tags if not t.immutable} - {
        (t.repository, t.tag) for t in tags if t.immutable
    }
    assert {"latest", "ubuntu", "py312", "26.5", "py312_26"} <= {tag for _, tag in floating}
    for repository, tag in floating:
        assert renovate_update(repository, tag, every) is None, tag


@pytest.mark.parametrize(
    ("current", "not_to"),
    [
        ("py312_26.5.3-1", "py313_26.6.0-0"),  # another Python line
        ("26.5.3-1", "26.6.0-0-ubuntu"),  # another variant
        ("26.5.3-1-ubuntu", "26.6.0-0-usrlocal"),
        ("py314_26.5.3-1-usrlocal", "py314_26.6.0-0"),
        ("26.5.3-1", "py314_26.6.0-0"),  # the default line is not a pinned one
    ],
)
def test_an_update_never_crosses_a_line_or_a_variant(current: str, not_to: str) -> None:
    assert renovate_update("condabot/miniconda3", current, {current, not_to}) is None
