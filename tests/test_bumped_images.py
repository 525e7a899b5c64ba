"""The bot's first real bump must not turn CI red (issue 10).

A copy of this repository is bumped as the bot would (`condabot bump --local`, against the
loopback mirror's listings up to 2026, first pins for the new Python lines), so its pins
name installers the bundled 2023 listings never had. Then, in that copy:
- a stand-in installer can be made for every pin (the image tests serve one per pin);
- the image tests' fast checks pass (run by pytest in the copy, as CI would run them);
- slow: the bumped Anaconda image, whose installer no table knows, builds and runs on the
  local Docker Engine; the test removes only the image it made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import pytest
from docker.errors import ImageNotFound

from bot.catalog import load_catalog
from bot.cli import main
from bot.pins import read_pins
from tests.harness.docker import (
    BuildFailed,
    FileServer,
    ImageBuilder,
    installer_build_args,
    serve_pinned_installers,
)
from tests.support.installer import make_installer
from tests.support.mirror import Mirror

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-01T00:00:00Z"
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    "node_modules", "*.egg-info",
)  # fmt: skip


@pytest.fixture
def bumped(tmp_path: Path, mirror: Mirror) -> Path:
    copy = tmp_path / "condabot"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED, symlinks=True)
    code = main(["bump", "--local", "--accept-review", "--root", str(copy),
                 "--upstream-url", mirror.url, "--cache-dir", str(tmp_path / "cache"),
                 "--now", NOW])  # fmt: skip
    assert code == 0
    return copy


def pins_in(root: Path) -> dict[str, list[str]]:
    catalog = load_catalog(root / "dockerfiles" / "images.yaml")
    files = sorted({image.pin_file for image in catalog.images})
    return {f: [p.filename for p in read_pins((root / f).read_text(), f)] for f in files}


def test_a_bumped_repository_still_passes_the_image_checks(bumped: Path) -> None:
    before, after = pins_in(ROOT), pins_in(bumped)
    assert after != before
    anaconda = after["dockerfiles/anaconda3/debian/Dockerfile"]
    assert anaconda == [
        "Anaconda3-2025.06-0-Linux-x86_64.sh",
        "Anaconda3-2025.06-0-Linux-aarch64.sh",
    ]
    assert after["dockerfiles/miniconda3/debian/lines/py314.pins"]  # first pins proposed
    for filenames in after.values():
        for filename in filenames:
            make_installer(filename)  # a stand-in for whatever is pinned
    env = {**os.environ, "PYTHONPATH": str(bumped), "CI": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         "tests/test_images.py"],
        cwd=bumped, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and " skipped" not in result.stdout


@pytest.mark.slow
def test_the_bumped_anaconda_image_builds_and_runs(
    bumped: Path,
    image_builder: ImageBuilder,
    installer_server: FileServer,
    docker_client: docker.DockerClient,
) -> None:
    anaconda = load_catalog(bumped / "dockerfiles" / "images.yaml").image("anaconda3")
    dockerfile = bumped / anaconda.dockerfile
    installers = serve_pinned_installers(installer_server, dockerfile)
    tag = "condabot-test/bumped-anaconda3:latest"
    args = installer_build_args(installer_server, installers)
    try:
        try:
            build = image_builder.build(dockerfile, tag, args, bumped / anaconda.context)
        except BuildFailed as exc:
            pytest.fail(f"{exc}\n{exc.log[-4000:]}", pytrace=False)
        output = docker_client.containers.run(
            build.image_id, ["conda", "--version"], remove=True, network_mode="none"
        )
        assert output.decode().strip() == f"conda {installers['x86_64'].conda_version}"
    finally:
        with contextlib.suppress(ImageNotFound):
            docker_client.images.remove(tag, noprune=False)
