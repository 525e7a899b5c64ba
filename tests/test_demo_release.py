"""`make demo-release` (issue 10): the release half, rehearsed for real on this machine.

The demo runs in-process for one product (the whole catalog is `make demo-release`): the
bump, a tagged release, builds on the Docker engine, two local registries (one behind a
login), publish, verify and the report. It must say what is simulated and remove only the
images it made: an image named like a build of another checkout survives it.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.errors import ImageNotFound

from tests.harness.docker import LocalBases, local_names
from tests.support.demo_release import SIMULATED, demo_release

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow]
SOMEONE_ELSES = "condabot-build/anaconda3:0123456789ab-amd64"


@pytest.fixture
def someone_elses_build(
    docker_client: docker.DockerClient, base_images: LocalBases
) -> Iterator[str]:
    """A maintainer's own build, named as the builder names them, of another commit."""
    docker_client.images.get(base_images.debian).tag(SOMEONE_ELSES)
    yield SOMEONE_ELSES
    with contextlib.suppress(ImageNotFound):
        docker_client.images.remove(SOMEONE_ELSES)


def test_the_release_half_builds_publishes_verifies_and_reports(
    docker_client: docker.DockerClient,
    someone_elses_build: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = set(local_names(docker_client))
    assert demo_release(["anaconda3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(SIMULATED)
    for simulated in ("installers: generated stand-ins", "after 2023: synthetic", '"now" is',
                      "behind a login", "only linux/amd64"):  # fmt: skip
        assert simulated in SIMULATED
    assert "$ condabot bump" not in out and "the bump half" in out
    assert "verified 10 tag(s) in 2 registr" in out
    assert "without the login: HTTP 401" in out
    report = out[out.index("## Published images: anaconda3-2025.06-0") :]
    for tag in ("2025.06-0_build1", "2025.06-0", "2025.06", "2025", "latest"):
        row = next(line for line in report.splitlines() if line.startswith(f"| `{tag}` "))
        assert row.count("✓") == 2, row
    after = set(local_names(docker_client))
    assert someone_elses_build in after, "an image it did not make was removed"
    assert after - before == set(), f"left behind: {sorted(after - before)}"
    assert "removed 2 image name(s) this run made" in out


def test_make_demo_release_is_one_command() -> None:
    dry = subprocess.run(["make", "-n", "demo-release"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert "./.ci/components" in dry and "-m tests.support.demo_release" in dry
