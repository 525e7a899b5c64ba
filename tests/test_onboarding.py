"""The onboarding pull request (issue 10): `bump --repo` on a repository without a catalog
offers the one it discovered, once; closed unmerged, it is never proposed again.

Real parts: the GitHub stand-in (PyGithub, real git repositories), a checkout of it, the
upstream mirror; a maintainer closes and merges through the API as on github.com.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from bot.catalog import parse_catalog
from bot.cli import main
from bot.discovery import discover_tree
from tests.support.bump_world import BOT_TOKEN, BumpWorld
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror

LAYOUT = Path(__file__).parent / "fixtures" / "anaconda-layout"
CATALOG = "dockerfiles/images.yaml"
ONBOARDING = "condabot/onboarding"
_names = iter(range(1, 1000))


@pytest.fixture
def world(
    github_server: GitHubStandin, mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> BumpWorld:
    monkeypatch.setenv("GITHUB_TOKEN", BOT_TOKEN)
    monkeypatch.delenv("CONDABOT_SCHEMA_URL", raising=False)
    files = {str(p.relative_to(LAYOUT)): p.read_bytes() for p in LAYOUT.rglob("*") if p.is_file()}
    name = f"docker-images-{next(_names)}"
    github_server.create_repo("ContinuumIO", name, files)
    github_server.reset_traffic()
    return BumpWorld(github_server, mirror, "ContinuumIO", name, tmp_path)


def bump(world: BumpWorld, capsys: pytest.CaptureFixture[str], *extra: str) -> int:
    world.refresh()
    capsys.readouterr()
    return main([
        "bump", "--repo", world.full_name, "--root", str(world.clone), "--max-new", "10",
        "--github-api-url", world.server.base_url, "--upstream-url", world.mirror.url,
        "--cache-dir", str(world.workdir / "cache"), "--now", world.now, *extra,
    ])  # fmt: skip


def pulls(world: BumpWorld, state: str = "all") -> list[dict[str, Any]]:
    return world.server.get_json(f"/repos/{world.full_name}/pulls?state={state}")


def onboarding(world: BumpWorld, state: str = "all") -> list[dict[str, Any]]:
    return [p for p in pulls(world, state) if p["head"]["ref"] == ONBOARDING]


def maintainer(world: BumpWorld) -> Any:
    client = Github(base_url=world.server.base_url, auth=Auth.Token("maintainer-token"), retry=None)
    return client.get_repo(world.full_name)


def test_one_onboarding_pr_adds_the_discovered_catalog(
    world: BumpWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bump(world, capsys) == 0
    (pr,) = onboarding(world)
    assert pr["title"] == "chore(condabot): add the image catalog"
    assert "never proposes it again" in pr["body"]
    assert "`miniconda3/alpine/Dockerfile:15: installer URL" in pr["body"]
    files = world.server.get_json(f"/repos/{world.full_name}/pulls/{pr['number']}/files")
    assert [f["filename"] for f in files] == [CATALOG]
    content = maintainer(world).get_contents(CATALOG, ref=ONBOARDING).decoded_content.decode()
    assert parse_catalog(content).images == discover_tree(world.clone).catalog.images
    assert content.startswith("# For completion and checks in editors")  # no URL given
    assert len(pulls(world)) == 4  # and one PR per Dockerfile, as before
    # Quiet rerun: nothing written.
    world.server.reset_traffic()
    assert bump(world, capsys) == 0
    assert not world.server.writes()


def test_closed_unmerged_it_is_never_proposed_again(
    world: BumpWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bump(world, capsys) == 0
    (pr,) = onboarding(world)
    maintainer(world).get_pull(pr["number"]).edit(state="closed")
    assert bump(world, capsys) == 0
    assert [p["state"] for p in onboarding(world)] == ["closed"]
    # Even when the Dockerfiles now imply another catalog (a bump PR merged), never again.
    bump_pr = next(
        p for p in pulls(world, "open") if p["head"]["ref"] == "condabot/anaconda3-debian"
    )
    maintainer(world).get_pull(bump_pr["number"]).merge()
    for _ in range(2):
        assert bump(world, capsys) == 0
    assert [p["state"] for p in onboarding(world)] == ["closed"]
    dashboard = next(
        i for i in world.server.get_json(f"/repos/{world.full_name}/issues?state=open")
        if "pull_request" not in i
    )  # fmt: skip
    assert f"`the image catalog` (#{pr['number']})" in dashboard["body"]


def test_merged_the_catalog_is_used_and_nothing_more_is_offered(
    world: BumpWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bump(world, capsys) == 0
    (pr,) = onboarding(world)
    maintainer(world).get_pull(pr["number"]).merge()
    assert bump(world, capsys) == 0
    assert "no catalog at" not in capsys.readouterr().err
    assert [p["state"] for p in onboarding(world)] == ["closed"]
    assert (world.clone / CATALOG).is_file()


def test_no_onboarding_and_a_schema_url(
    world: BumpWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bump(world, capsys, "--no-onboarding") == 0
    assert onboarding(world) == []
    url = "https://raw.githubusercontent.com/acme/condabot/0123abc/bot/catalog.schema.json"
    monkeypatch.setenv("CONDABOT_SCHEMA_URL", url)
    assert bump(world, capsys) == 0
    content = maintainer(world).get_contents(CATALOG, ref=ONBOARDING).decoded_content.decode()
    assert content.startswith(f"# yaml-language-server: $schema={url}\n")
