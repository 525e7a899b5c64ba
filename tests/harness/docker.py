"""Fixtures: the Docker Engine, locally made base images, a loopback file server, a builder.

Nothing is pulled from a remote registry. The Debian base is made here with `debootstrap`
(its packages come from Debian's mirror) and `docker import`ed under a local name; every
build gets it as `BASE_IMAGE` and runs with `pull=False`, on the host network so that
`RUN` steps reach the file server on 127.0.0.1.

Fixtures (session scope):
- `docker_client`: a `docker.DockerClient` connected to DOCKER_HOST or the local socket.
- `base_images`: `LocalBases`, the names of the locally made base images.
- `installer_server`: `FileServer`, static files from a temp dir on 127.0.0.1.
- `image_builder`: `ImageBuilder`, classic-builder builds against the local bases.
- `devcontainer_cli`: `DevcontainerCli`, the Dev Containers CLI (npm `@devcontainers/cli`,
  pinned), installed into `.cache/devcontainers-cli/<version>` with npm on first use.

The helpers below the fixtures' types are plain functions so `bench/` can use them too.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import DockerException, ImageNotFound

from bot.pins import read_pins
from bot.platforms import BY_ARCH
from tests.harness.component import unavailable
from tests.support.installer import GeneratedInstaller, make_installer

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / ".cache" / "images"
DEBIAN_MIRROR = os.environ.get("CONDABOT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# 0.83.0 is the newest release that runs on Debian 12's Node.js 18 (later ones need 20).
DEVCONTAINER_CLI_VERSION = "0.83.0"
DOCKERD_HINT = (
    "start the engine as root: dockerd --storage-driver=overlay2 --iptables=false "
    "--ip-forward=false --bridge=none >/tmp/dockerd.log 2>&1 & then wait until "
    "`docker info` answers; or point DOCKER_HOST at a running engine"
)
# What a slim Debian image leaves out (documentation, manuals, translations); written into
# the made base so that packages installed by a build leave them out too, as on the real one.
_SLIM_DPKG_CONFIG = """\
# condabot test base: leave out what debian:*-slim leaves out.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
"""
_SLIM_REMOVE = ("usr/share/man", "usr/share/info", "usr/share/groff", "usr/share/lintian",
                "usr/share/locale", "var/lib/apt/lists", "var/cache/apt")  # fmt: skip
_BASE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    'CMD ["bash"]',
)


class DockerUnavailable(Exception):
    pass


class CliUnavailable(Exception):
    pass


class BaseImageUnavailable(Exception):
    pass


class BuildFailed(Exception):
    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


@dataclass(frozen=True)
class BaseImage:
    name: str  # local image name, never resolvable on a remote registry
    suite: str  # the Debian suite it is bootstrapped from


DEBIAN_TRIXIE = BaseImage("condabot-test/debian:trixie-slim", "trixie")


@dataclass(frozen=True)
class LocalBases:
    debian: str  # Debian 13 (trixie), minbase, slimmed like debian:trixie-slim


@dataclass(frozen=True)
class Build:
    tag: str
    image_id: str
    log: str
    seconds: float


def connect() -> docker.DockerClient:
    """A client for DOCKER_HOST or the local socket, checked with a ping."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except DockerException as exc:
        raise DockerUnavailable(f"cannot reach the Docker Engine at {where}: {exc}") from exc
    return client


def ensure_base_image(
    client: docker.DockerClient, base: BaseImage = DEBIAN_TRIXIE, cache_dir: Path = CACHE_DIR
) -> str:
    """The local base image's name: already in the engine, imported from the cached
    tarball, or bootstrapped from Debian's mirror (about 30 s) and cached first."""
    try:
        client.images.get(base.name)
        return base.name
    except ImageNotFound:
        pass
    tarball = cache_dir / f"debian-{base.suite}-minbase.tar"
    if not tarball.exists():
        _bootstrap(base.suite, tarball)
    repository, tag = base.name.rsplit(":", 1)
    client.api.import_image_from_file(
        str(tarball), repository=repository, tag=tag, changes=list(_BASE_CHANGES)
    )
    return base.name


def _bootstrap(suite: str, tarball: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise BaseImageUnavailable("debootstrap is not installed (apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise BaseImageUnavailable("debootstrap needs root")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix=f"{suite}-") as work:
        rootfs = Path(work) / "rootfs"
        command = ["debootstrap", "--variant=minbase", suite, str(rootfs), DEBIAN_MIRROR]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise BaseImageUnavailable(
                f"`{' '.join(command)}` failed ({done.returncode}): {' | '.join(tail)}"
            )
        _slim(rootfs)
        partial = tarball.with_suffix(".partial")
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], check=True
        )
        partial.rename(tarball)


def _slim(rootfs: Path) -> None:
    (rootfs / "etc/dpkg/dpkg.cfg.d/condabot-slim").write_text(_SLIM_DPKG_CONFIG)
    for relative in _SLIM_REMOVE:
        target = rootfs / relative
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir()
    (rootfs / "var/lib/apt/lists/partial").mkdir()
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
    doc = rootfs / "usr/share/doc"
    for path in doc.glob("*/*"):
        if path.name != "copyright" and not path.is_symlink() and path.is_file():
            path.unlink()


class FileServer:
    """Static files from a temporary directory, over HTTP on 127.0.0.1."""

    def __init__(self, preferred_port: int = 0) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="condabot-files-")
        self.root = Path(self._tmp.name)
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", preferred_port), handler)
        except OSError:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def put(self, path: str, body: bytes) -> str:
        """Serve `body` at `path` (e.g. `/miniconda/<file>`); returns its URL."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        return f"{self.url}/{path.lstrip('/')}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._tmp.cleanup()


def serve_pinned_installers(server: FileServer, dockerfile: Path) -> dict[str, GeneratedInstaller]:
    """A generated installer for each arch the Dockerfile pins, served under its real name
    (`/miniconda/<file>`, `/archive/<file>`); keyed by arch."""
    pins = read_pins(dockerfile.read_text(), str(dockerfile))
    installers = {pin.arch: make_installer(pin.filename) for pin in pins}
    for installer in installers.values():
        server.put(installer.path, installer.content)
    return installers


def installer_build_args(
    server: FileServer, installers: Mapping[str, GeneratedInstaller]
) -> dict[str, str]:
    """Build args that make a Dockerfile install `installers` from `server`: the mirror URL,
    and each arch's sha256 in place of the pinned one (the pinned URLs stay as written)."""
    args = {"UPSTREAM_URL": server.url}
    for arch, installer in installers.items():
        args[f"SHA256SUM_{BY_ARCH[arch].arg_suffix}"] = installer.sha256
    return args


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class ImageBuilder:
    """Classic-builder builds (what docker-py drives) of a Dockerfile in its own directory,
    against a local base: BASE_IMAGE is set, nothing is pulled, the host network is used."""

    def __init__(self, client: docker.DockerClient, base_image: str) -> None:
        self.client = client
        self.base_image = base_image

    def build(
        self, dockerfile: Path, tag: str, build_args: Mapping[str, str] | None = None
    ) -> Build:
        args = {"BASE_IMAGE": self.base_image, **(build_args or {})}
        started = time.monotonic()
        lines: list[str] = []
        image_id = ""
        stream = self.client.api.build(
            path=str(dockerfile.parent),
            dockerfile=dockerfile.name,
            tag=tag,
            buildargs=args,
            network_mode="host",
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
        )
        for chunk in stream:
            if "stream" in chunk:
                lines.append(chunk["stream"])
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if "error" in chunk:
                lines.append(chunk["error"])
                log = "".join(lines)
                raise BuildFailed(f"building {dockerfile} failed: {chunk['error'].strip()}", log)
        return Build(tag, image_id, "".join(lines), time.monotonic() - started)


@dataclass(frozen=True)
class DevcontainerCli:
    executable: Path
    docker_path: str  # the docker CLI it drives

    def command(self, *args: str) -> list[str]:
        return [str(self.executable), *args, "--docker-path", self.docker_path]


def ensure_devcontainer_cli(
    version: str = DEVCONTAINER_CLI_VERSION, cache_dir: Path = ROOT / ".cache"
) -> DevcontainerCli:
    """The pinned Dev Containers CLI, installed with npm into the cache if missing."""
    prefix = cache_dir / "devcontainers-cli" / version
    executable = prefix / "node_modules" / ".bin" / "devcontainer"
    docker_cli = os.environ.get("CONDABOT_DOCKER_CLI") or shutil.which("docker")
    if docker_cli is None:
        raise CliUnavailable("no docker CLI on PATH (apt-get install docker.io)")
    if not executable.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise CliUnavailable("node and npm are not installed (apt-get install nodejs npm)")
        prefix.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
                   f"@devcontainers/cli@{version}"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not executable.exists():
            raise CliUnavailable(f"`{' '.join(command)}` failed: {done.stderr.strip()[-500:]}")
    return DevcontainerCli(executable, docker_cli)


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = connect()
    except DockerUnavailable as exc:
        unavailable("Docker Engine", str(exc), DOCKERD_HINT)
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_images(docker_client: docker.DockerClient) -> LocalBases:
    try:
        debian = ensure_base_image(docker_client, DEBIAN_TRIXIE)
    except (BaseImageUnavailable, DockerException, OSError) as exc:
        unavailable(
            "local Debian base image",
            str(exc),
            f"run as root with debootstrap installed and {DEBIAN_MIRROR} reachable",
        )
    return LocalBases(debian=debian)


@pytest.fixture(scope="session")
def installer_server() -> Iterator[FileServer]:
    # A fixed port when free keeps build arguments (UPSTREAM_URL) stable between runs, so a
    # rerun finds the engine's build cache warm.
    try:
        server = FileServer(preferred_port=47631).start()
    except OSError as exc:
        unavailable("loopback file server", str(exc), "check that 127.0.0.1 accepts listeners")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def devcontainer_cli() -> DevcontainerCli:
    try:
        return ensure_devcontainer_cli()
    except CliUnavailable as exc:
        unavailable(
            f"Dev Containers CLI {DEVCONTAINER_CLI_VERSION}",
            str(exc),
            f"npm install --prefix .cache/devcontainers-cli/{DEVCONTAINER_CLI_VERSION} "
            f"@devcontainers/cli@{DEVCONTAINER_CLI_VERSION}",
        )


@pytest.fixture(scope="session")
def image_builder(docker_client: docker.DockerClient, base_images: LocalBases) -> ImageBuilder:
    return ImageBuilder(docker_client, base_images.debian)
