"""`condabot init` (issue 10): the discovered catalog written out, every default spelled out
and commented; the bot proposes exactly the same changes before and after.

Real parts: a copy of the Anaconda-layout fixture tree, the loopback upstream mirror with
the stand-in installers, the CLI unpatched.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.catalog import load_catalog, schema
from bot.cli import main
from bot.commands.common import Location
from bot.commands.init import check_round_trip, render_catalog, schema_reference
from bot.discovery import discover, discover_tree
from bot.errors import CatalogError
from tests.support.mirror import Mirror

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "tests" / "fixtures" / "anaconda-layout"
NOW = "2026-11-01T00:00:00Z"
CATALOG = "dockerfiles/images.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "docker-images"
    shutil.copytree(LAYOUT, copy)
    return copy


def cli(repo: Path, *argv: str, mirror: Mirror | None = None) -> int:
    options = ["--root", str(repo)]
    if mirror is not None:
        options += ["--upstream-url", mirror.url, "--cache-dir", str(repo.parent / "cache"),
                    "--now", NOW]  # fmt: skip
    return main([argv[0], *options, *argv[1:]])


def proposals(
    repo: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, object], dict[str, str]]:
    """What the bot would do: the plan, and each Dockerfile's diff (`bump --dry-run`)."""
    capsys.readouterr()
    assert cli(repo, "plan", "--json", mirror=mirror) == 0
    plan = json.loads(capsys.readouterr().out)
    assert cli(repo, "bump", "--local", "--dry-run", mirror=mirror) == 17  # needs review
    diff = capsys.readouterr().out
    files = re.split(r"(?m)^(?=--- a/)", diff)
    return plan, {f.splitlines()[0]: f for f in files if f.startswith("--- a/")}


def test_init_writes_the_discovered_catalog_and_nothing_changes(
    repo: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_before, diffs_before = proposals(repo, mirror, capsys)
    assert cli(repo, "init") == 0
    err = capsys.readouterr().err
    assert f"wrote {CATALOG}: 3 image(s)" in err
    assert "not in the catalog: miniconda3/alpine/Dockerfile:15" in err
    catalog = load_catalog(repo / CATALOG)
    assert catalog.images == discover_tree(repo).catalog.images
    plan_after, diffs_after = proposals(repo, mirror, capsys)
    assert plan_after == plan_before
    dockerfiles = {k: v for k, v in diffs_after.items() if CATALOG not in k}
    assert dockerfiles == diffs_before and len(dockerfiles) == 3
    # With a catalog, a dropped arch also leaves the catalog's platforms; the written
    # catalog is one the writer can edit.
    assert set(diffs_after) - set(diffs_before) == {f"--- a/{CATALOG}"}
    assert cli(repo, "bump", "--local", mirror=mirror) == 17
    images = {i.name: [p.name for p in i.platforms] for i in load_catalog(repo / CATALOG).images}
    assert images["miniconda3-debian"] == ["linux/amd64", "linux/arm64"]
    assert images["anaconda3-amazonlinux"] == ["linux/arm64"]


def test_every_key_is_spelled_out_and_commented(repo: Path) -> None:
    found = discover_tree(repo)
    text = render_catalog(found, "../schema.json")
    assert text.startswith("# yaml-language-server: $schema=../schema.json\n")
    image_keys = set(schema()["$defs"]["image"]["properties"]) - {"pins", "end_of_life"}
    bot_keys = set(schema()["$defs"]["bot"]["properties"])
    for key in image_keys | bot_keys:
        lines = [line for line in text.splitlines() if re.match(rf"^\s+(- )?{key}:", line)]
        assert len(lines) == 3, key  # once per image
        assert all(" # " in line for line in lines), f"{key} has no comment"
    # The two Dockerfiles it could not read are named in the file, with their lines.
    assert "#   miniconda3/alpine/Dockerfile:15: " in text
    assert "#   anaconda-pkg-build/linux/Dockerfile:21: " in text


def test_paths_that_need_quoting_round_trip() -> None:
    text = (LAYOUT / "miniconda3/debian/Dockerfile").read_text()
    found = discover({"my images/true/Dockerfile": text, "1.5/Dockerfile": text})
    rendered = render_catalog(found, "x")
    check_round_trip(rendered, found, "images.yaml")  # raises if it would not load the same
    assert '"my images/true/Dockerfile"' in rendered


def test_a_catalog_that_would_not_load_the_same_is_never_written(repo: Path) -> None:
    found = discover_tree(repo)
    text = render_catalog(found, "x").replace("min_release_age: 0s", "min_release_age: 3d", 1)
    with pytest.raises(CatalogError, match="does not load as the discovered one"):
        check_round_trip(text, found, "images.yaml")


def test_init_never_overwrites_without_force(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "dockerfiles").mkdir()
    (repo / CATALOG).write_text("# mine\n")
    assert cli(repo, "init") == 2
    assert f"a catalog is already at {CATALOG}; edit it, or pass --force" in capsys.readouterr().err
    assert (repo / CATALOG).read_text() == "# mine\n"
    assert cli(repo, "init", "--dry-run") == 0
    assert capsys.readouterr().out.startswith("# yaml-language-server: $schema=")
    assert (repo / CATALOG).read_text() == "# mine\n"
    assert cli(repo, "init", "--force") == 0
    assert len(load_catalog(repo / CATALOG).images) == 3


def test_init_where_nothing_pins_an_installer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, "init") == 3
    assert "no Dockerfile under" in capsys.readouterr().err
    assert not (tmp_path / "dockerfiles").exists()


def test_init_writes_where_it_is_told_and_names_the_schema(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "https://raw.githubusercontent.com/acme/condabot/0123abc/bot/catalog.schema.json"
    monkeypatch.setenv("CONDABOT_SCHEMA_URL", url)
    assert cli(repo, "init", "--catalog", "condabot.yaml") == 0
    assert (
        (repo / "condabot.yaml").read_text().startswith(f"# yaml-language-server: $schema={url}\n")
    )
    assert cli(repo, "plan", "--catalog", "condabot.yaml", "--image", "nope") == 2  # it reads it
    assert "no image named 'nope' in" in capsys.readouterr().err


def test_the_schema_reference_without_a_url(tmp_path: Path) -> None:
    # condabot's own repository: relative, so it works in every clone.
    ours = Location(ROOT, ROOT / CATALOG)
    assert schema_reference(ours) == "../bot/catalog.schema.json"
    # Elsewhere: the installed file (a local run); the bump action passes a URL instead.
    theirs = Location(tmp_path, tmp_path / CATALOG)
    assert schema_reference(theirs) == (ROOT / "bot" / "catalog.schema.json").as_uri()
