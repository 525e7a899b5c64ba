"""Zero-config (issue 10): a repository with no catalog, laid out like Anaconda's own
docker-images (`tests/fixtures/anaconda-layout/`), works with `plan`, `bump --local` and
`bump --repo` unchanged.

Real parts: a copy of the fixture tree on disk, the loopback upstream mirror (the 2023
listings plus synthetic releases to 2026, their stand-in installers served so verification
runs), the GitHub stand-in for `bump --repo`; the CLI is `bot.cli.main`, unpatched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.discovery import discover, discover_tree, find_dockerfiles, name_from_path
from bot.upstream.model import Product
from tests.support.bump_world import BOT_TOKEN, BumpWorld
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror

LAYOUT = Path(__file__).parent / "fixtures" / "anaconda-layout"
NOW = "2026-11-01T00:00:00Z"
NEEDS_REVIEW = 17
IMAGES = {
    "anaconda3-amazonlinux": ("anaconda3/amazonlinux/Dockerfile", ["linux/arm64"]),
    "anaconda3-debian": (
        "anaconda3/debian/Dockerfile",
        ["linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"],
    ),
    "miniconda3-debian": (
        "miniconda3/debian/Dockerfile",
        ["linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"],
    ),
}


def copy_layout(tmp_path: Path) -> Path:
    repo = tmp_path / "docker-images"
    shutil.copytree(LAYOUT, repo)
    return repo


def cli(repo: Path, mirror: Mirror, tmp_path: Path, *argv: str) -> int:
    options = ["--root", str(repo), "--upstream-url", mirror.url,
               "--cache-dir", str(tmp_path / "cache"), "--now", NOW]  # fmt: skip
    return main([argv[0], *options, *argv[1:]])


# -- discovery, pure and on the tree --------------------------------------------------------


def test_discovers_every_pinned_dockerfile_of_anacondas_layout() -> None:
    found = discover_tree(LAYOUT)
    images = {i.name: (i.dockerfile, [p.name for p in i.platforms]) for i in found.catalog.images}
    assert images == IMAGES
    products = {i.name: i.product for i in found.catalog.images}
    assert products["miniconda3-debian"] is Product.MINICONDA3
    assert products["anaconda3-debian"] is Product.ANACONDA3
    # Documented default policy: follow upstream's default flavour, no minimum age, one PR
    # per Dockerfile (group image: each image is its own Dockerfile), nothing published.
    for image in found.catalog.images:
        assert image.python == "default" and not image.frozen and image.build_by_default
        assert image.bot.min_release_age.total_seconds() == 0
        assert image.bot.group == "image" and image.bot.labels == ("dependencies",)
        assert image.registries == () and image.repository == image.name
    assert found.catalog.registries == {}
    # Six Dockerfiles searched; cuda pins nothing (ignored), two cannot be read (reported).
    assert found.searched == 6
    assert [e.what.split(": ")[0] for e in found.skipped] == [
        "anaconda-pkg-build/linux/Dockerfile:21",
        "miniconda3/alpine/Dockerfile:15",
    ]
    assert "repo.continuum.io" in found.skipped[1].what


def test_names_come_from_paths() -> None:
    m = Product.MINICONDA3
    assert name_from_path("dockerfiles/miniconda3/debian/Dockerfile", m) == "miniconda3-debian"
    assert name_from_path("Dockerfile", m) == "miniconda3"
    assert name_from_path("Dockerfile.alpine", Product.ANACONDA3) == "anaconda3-alpine"
    assert name_from_path("images/Py_3.12/slim.Dockerfile", m) == "images-py-3-12-slim"
    assert name_from_path("docker/Dockerfile", m) == "miniconda3"
    assert len(name_from_path("a" * 80 + "/Dockerfile", m)) == 63


def test_name_clashes_get_a_number_and_mixed_products_are_set_aside() -> None:
    pins = (LAYOUT / "miniconda3/debian/Dockerfile").read_text()
    x86_only = "".join(
        line for line in pins.splitlines(keepends=True)
        if not line.startswith(("ARG INSTALLER_URL_", "ARG SHA256SUM_")) or "LINUX64" in line
    )  # fmt: skip
    aarch64_anaconda = (LAYOUT / "anaconda3/amazonlinux/Dockerfile").read_text()
    found = discover({
        "a_b/Dockerfile": pins,
        "a-b/Dockerfile": pins,
        "mixed/Dockerfile": x86_only + aarch64_anaconda,
    })  # fmt: skip
    assert [i.name for i in found.catalog.images] == ["a-b", "a-b-2"]
    (mixed,) = found.skipped
    assert mixed.what.startswith("mixed/Dockerfile:") and "anaconda3 and miniconda3" in mixed.what


def test_hidden_and_tool_folders_are_not_searched(tmp_path: Path) -> None:
    text = (LAYOUT / "miniconda3/debian/Dockerfile").read_text()
    for folder in ("img", ".git/x", "node_modules/y", ".venv/z", "img/sub"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "Dockerfile").write_text(text)
    (tmp_path / "img" / "Containerfile.slim").write_text(text)
    assert find_dockerfiles(tmp_path) == (
        "img/Containerfile.slim", "img/Dockerfile", "img/sub/Dockerfile",
    )  # fmt: skip


# -- the commands, with no catalog ----------------------------------------------------------


def test_plan_works_with_no_catalog_and_reports_unreadable_dockerfiles(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_layout(tmp_path)
    assert cli(repo, mirror, tmp_path, "plan", "--json") == 0
    out, err = capsys.readouterr()
    plan = json.loads(out)
    assert {i["image"] for i in plan["images"]} == set(IMAGES)
    assert "no catalog at dockerfiles/images.yaml: 3 image(s) discovered" in err
    assert "skipped anaconda-pkg-build/linux/Dockerfile:21: " in err
    assert "skipped miniconda3/alpine/Dockerfile:15: " in err
    assert "Traceback" not in err


def test_bump_local_moves_every_arch_together_with_no_catalog(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_layout(tmp_path)
    # Flavour change and dropped arches need review: the files are written, exit 17.
    assert cli(repo, mirror, tmp_path, "bump", "--local") == NEEDS_REVIEW
    capsys.readouterr()
    assert not (repo / "dockerfiles").exists(), "no catalog is written by a bump"
    miniconda = (repo / "miniconda3/debian/Dockerfile").read_text()
    anaconda = (repo / "anaconda3/debian/Dockerfile").read_text()
    amazon = (repo / "anaconda3/amazonlinux/Dockerfile").read_text()
    for arch in ("x86_64", "aarch64"):
        assert f"Miniconda3-py314_26.5.3-1-Linux-{arch}.sh" in miniconda
        assert f"Anaconda3-2025.06-0-Linux-{arch}.sh" in anaconda
    assert "Anaconda3-2025.06-0-Linux-aarch64.sh" in amazon
    for text in (miniconda, anaconda):  # ended arches leave, none is left behind
        assert "23.5.2-0" not in text and "2023.09-0" not in text
        assert "S390X" not in text.split("RUN set -x")[0]
    # The unreadable Dockerfiles are untouched; everything else is now current.
    for path in ("miniconda3/alpine/Dockerfile", "anaconda-pkg-build/linux/Dockerfile"):
        assert (repo / path).read_bytes() == (LAYOUT / path).read_bytes()
    assert cli(repo, mirror, tmp_path, "plan", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert {i["kind"] for i in plan["images"]} == {"up-to-date"}


def test_no_pinned_dockerfile_is_a_catalog_error(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    assert cli(tmp_path, mirror, tmp_path, "plan") == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("condabot: error: no catalog at ")
    assert "no Dockerfile under" in err and "(1 Dockerfile(s) searched)" in err
    assert len(err.splitlines()) == 1


def test_only_unreadable_dockerfiles_name_the_first_problem(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "alpine").mkdir()
    shutil.copy(LAYOUT / "miniconda3/alpine/Dockerfile", tmp_path / "alpine" / "Dockerfile")
    assert cli(tmp_path, mirror, tmp_path, "plan") == 3
    err = capsys.readouterr().err
    assert "none of the 1 Dockerfile(s) that pin installers could be read" in err
    assert "alpine/Dockerfile:15" in err


def test_a_named_catalog_must_exist(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    """Discovery stands in for the default catalog only: a catalog named on the command line
    (or in CONDABOT_CATALOG) that is missing is an error, never a silent discovery."""
    repo = copy_layout(tmp_path)
    assert cli(repo, mirror, tmp_path, "plan", "--catalog", "images.yaml") == 3
    err = capsys.readouterr().err
    assert f"cannot read the catalog {repo / 'images.yaml'}: No such file" in err


def test_an_unknown_image_names_the_discovered_ones(
    tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_layout(tmp_path)
    assert cli(repo, mirror, tmp_path, "plan", "--image", "miniconda3") == 2
    err = capsys.readouterr().err
    assert "no image named 'miniconda3' in the discovered images" in err
    assert "miniconda3-debian" in err


def bump_repo(world: BumpWorld, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """One run of the bump workflow's step in a checkout with no catalog: no --catalog."""
    world.refresh()
    capsys.readouterr()
    code = main([
        "bump", "--repo", world.full_name, "--root", str(world.clone), "--max-new", "10",
        "--github-api-url", world.server.base_url, "--upstream-url", world.mirror.url,
        "--cache-dir", str(world.workdir / "cache"), "--now", world.now,
    ])  # fmt: skip
    return code, capsys.readouterr().err


def test_bump_repo_opens_one_pr_per_dockerfile_with_no_catalog(
    github_server: GitHubStandin,
    mirror: Mirror,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", BOT_TOKEN)
    files = {str(p.relative_to(LAYOUT)): p.read_bytes() for p in LAYOUT.rglob("*") if p.is_file()}
    github_server.create_repo("ContinuumIO", "docker-images-discovery", files)
    world = BumpWorld(github_server, mirror, "ContinuumIO", "docker-images-discovery", tmp_path)
    code, err = bump_repo(world, capsys)
    assert code == 0, err
    pulls = github_server.get_json(f"/repos/{world.full_name}/pulls?state=open")
    heads = {pr["head"]["ref"]: pr for pr in pulls}
    # One PR per Dockerfile, and the onboarding PR offering the catalog (test_onboarding.py).
    assert set(heads) == {f"condabot/{name}" for name in IMAGES} | {"condabot/onboarding"}
    for name, (dockerfile, _) in IMAGES.items():
        number = heads[f"condabot/{name}"]["number"]
        changed = github_server.get_json(f"/repos/{world.full_name}/pulls/{number}/files")
        assert [c["filename"] for c in changed] == [dockerfile]
    assert "skipped miniconda3/alpine/Dockerfile:15" in err
    # A second run changes nothing: the discovered groups are stable.
    github_server.reset_traffic()
    assert bump_repo(world, capsys)[0] == 0
    assert not github_server.writes()
