"""`condabot release build` on the real Dockerfiles: classic build, smoke test, staging push.

The base is the locally made Debian (`base_images`), the installer a generated stand-in
served on loopback (`installer_server`), both passed as build arguments. One build is for
linux/arm64, on the arm64 Debian base, its RUN steps and smoke test under QEMU user
emulation (`arm64_base`); the others are linux/amd64.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import docker
import pytest

from bot.cli import main
from bot.release.referrers import discover
from bot.release.registry import RegistryClient
from bot.release.staging import Staging
from tests.harness.docker import FileServer, LocalBases
from tests.harness.registry import Registries
from tests.support.installer import make_installer
from tests.support.release_world import LocalImages, _git

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
TAG = "miniconda3-usrlocal-23.5.2-0"
# A Python line: the shared Debian Dockerfile pins py311 by default; the line's pins file
# says py310, and only the build arguments the release derives from it can make it so.
LINE_INSTALLER = "Miniconda3-py310_23.5.2-0-Linux-x86_64.sh"
LINE_TAG = "miniconda3-py310-23.5.2-0"

pytestmark = [pytest.mark.slow]


@pytest.fixture
def checkout(tmp_path: Path, built_images: LocalImages) -> Path:
    """A git checkout of this repository's Dockerfiles and catalog, tagged for release."""
    root = tmp_path / "images"
    shutil.copytree(ROOT / "dockerfiles", root / "dockerfiles")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "images")
    _git(root, "tag", TAG)
    _git(root, "tag", LINE_TAG)
    return built_images.own_checkout(root)


def build(
    capsys: pytest.CaptureFixture[str], root: Path, *args: str, tag: str = TAG
) -> tuple[int, str, str]:
    code = main(["release", "build", "--root", str(root), "--tag", tag,
                 "--platform", "linux/amd64", *args])  # fmt: skip
    out, err = capsys.readouterr()
    return code, out, err


def build_args(
    bases: LocalBases, server: FileServer, content: bytes, installer: str = INSTALLER
) -> list[str]:
    server.put(f"/miniconda/{installer}", content)
    pairs = {
        "BASE_IMAGE": bases.debian,
        "UPSTREAM_URL": server.url,
        "SHA256SUM_LINUX64": hashlib.sha256(content).hexdigest(),
    }
    return [arg for key, value in pairs.items() for arg in ("--build-arg", f"{key}={value}")]


def staged_config(
    env: Registries, root: Path, image: str = "miniconda3-usrlocal"
) -> dict[str, object] | None:
    revision = _git(root, "rev-parse", "HEAD")
    staging = Staging.parse(None)
    client = RegistryClient(staging.host)
    repository = f"{staging.namespace}/{image}"
    manifest = client.get_manifest(repository, f"build-{revision}-amd64")
    if manifest is None:
        return None
    config: dict[str, object] = json.loads(
        client.get_blob(repository, manifest.document["config"]["digest"])
    )
    return config


def test_the_real_dockerfile_builds_passes_its_smoke_test_and_is_staged(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    base_images: LocalBases,
    installer_server: FileServer,
    release_env: Registries,
    checkout: Path,
) -> None:
    content = make_installer(INSTALLER).content
    code, out, err = build(capsys, checkout, *build_args(base_images, installer_server, content))
    assert code == 0, err
    assert "miniconda3-usrlocal linux/amd64:" in out and "built in" in out
    config = staged_config(release_env, checkout)
    assert config is not None
    labels = config["config"]["Labels"]  # type: ignore[index]
    assert labels["org.opencontainers.image.version"] == "23.5.2-0"
    assert labels["org.opencontainers.image.revision"] == _git(checkout, "rev-parse", "HEAD")
    assert config["architecture"] == "amd64"
    # Its SBOM, attached in staging: the Debian packages dpkg lists, with their purls.
    revision = _git(checkout, "rev-parse", "HEAD")
    staging = Staging.parse(None)
    client = RegistryClient(staging.host)
    repository = f"{staging.namespace}/miniconda3-usrlocal"
    image = client.manifest_digest(repository, f"build-{revision}-amd64")
    assert image is not None
    (entry,) = discover(client, repository, image, "application/vnd.cyclonedx+json")
    artifact = client.get_manifest(repository, entry["digest"])
    assert artifact is not None
    sbom = json.loads(client.get_blob(repository, artifact.document["layers"][0]["digest"]))
    purls = {c["name"]: c.get("purl", "") for c in sbom["components"]}
    assert purls["tini"].startswith("pkg:deb/debian/tini@")
    assert purls["tini"].endswith("?arch=amd64&distro=debian-13")
    assert "ca-certificates" in purls and "curl" not in purls  # purged in the same layer
    assert purls[INSTALLER] == ""  # the installer, as a file with its sha256


def test_a_wrong_python_flavour_fails_the_smoke_test_and_nothing_is_staged(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    base_images: LocalBases,
    release_env: Registries,
    checkout: Path,
) -> None:
    # Upstream replaced the file with one that installs Python 3.12: the pin says py311.
    content = make_installer(INSTALLER, python_version="3.12.1").content
    server = FileServer().start()
    try:
        code, _, err = build(capsys, checkout, *build_args(base_images, server, content))
    finally:
        server.stop()
    assert code == 10, err
    assert "smoke test of miniconda3-usrlocal for linux/amd64 failed" in err
    assert "python is 3.12, not flavour py311" in err
    assert "not pushed" in err
    assert staged_config(release_env, checkout) is None


def test_a_python_line_is_built_from_the_shared_dockerfile_with_its_own_pins(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    base_images: LocalBases,
    installer_server: FileServer,
    release_env: Registries,
    checkout: Path,
) -> None:
    content = make_installer(LINE_INSTALLER).content
    args = build_args(base_images, installer_server, content, LINE_INSTALLER)
    code, out, err = build(capsys, checkout, *args, tag=LINE_TAG)
    assert code == 0, err
    assert "miniconda3-py310 linux/amd64:" in out
    config = staged_config(release_env, checkout, "miniconda3-py310")
    assert config is not None
    labels = config["config"]["Labels"]  # type: ignore[index]
    assert labels["org.opencontainers.image.version"] == "23.5.2-0"


def test_the_real_dockerfile_builds_for_arm64_under_qemu(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    arm64_base: str,
    installer_server: FileServer,
    release_env: Registries,
    checkout: Path,
) -> None:
    """The one real Dockerfile built for arm64 here: its RUN steps (apt-get, the installer)
    run under QEMU on the arm64 Debian base; the pin it picks is the AARCH64 one because
    `uname -m` says aarch64, and the smoke test reads the interpreter's machine."""
    installer = "Miniconda3-py311_23.5.2-0-Linux-aarch64.sh"
    content = make_installer(installer).content
    installer_server.put(f"/miniconda/{installer}", content)
    pairs = {
        "BASE_IMAGE": arm64_base,
        "UPSTREAM_URL": installer_server.url,
        "SHA256SUM_AARCH64": hashlib.sha256(content).hexdigest(),
    }
    args = [arg for key, value in pairs.items() for arg in ("--build-arg", f"{key}={value}")]
    code = main(["release", "build", "--root", str(checkout), "--tag", TAG,
                 "--platform", "linux/arm64", *args])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "miniconda3-usrlocal linux/arm64:" in out
    revision = _git(checkout, "rev-parse", "HEAD")
    staging = Staging.parse(None)
    client = RegistryClient(staging.host)
    repository = f"{staging.namespace}/miniconda3-usrlocal"
    manifest = client.get_manifest(repository, f"build-{revision}-arm64")
    assert manifest is not None
    config = json.loads(client.get_blob(repository, manifest.document["config"]["digest"]))
    assert config["architecture"] == "arm64"
    assert config["config"]["Labels"]["io.condabot.installer"] == installer
