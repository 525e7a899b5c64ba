"""Fixtures: the Docker Engine, locally made base images, a loopback file server, a builder.

Nothing is pulled from a remote registry. The Debian base is made here with `debootstrap`
(its packages come from Debian's mirror) and `docker import`ed under a local name; every
build gets it as `BASE_IMAGE` and runs with `pull=False`, on the host network so that
`RUN` steps reach the file server on 127.0.0.1.

arm64 is built for real, under QEMU user emulation: `ensure_binfmt` mounts binfmt_misc and
enables Debian's `qemu-aarch64` handler (package qemu-user-static, registered by
binfmt-support with the F flag, so the emulator is found from inside containers too). The
arm64 Debian base is `debootstrap --foreign --arch arm64`, then its second stage run in a
chroot under QEMU (about 3.5 minutes on 2 cores, once: the tarball is cached beside the
amd64 one), and made an image by a `FROM scratch` build for linux/arm64 (`docker import`
of this engine records the host's architecture whatever the files are).

Fixtures (session scope):
- `docker_client`: a `docker.DockerClient` connected to DOCKER_HOST or the local socket.
- `qemu_arm64`: binfmt_misc ready to run aarch64 binaries (fails under CI=true if it cannot).
- `base_images`: `LocalBases`, the names of the locally made base images.
- `arm64_base`: the name of the arm64 Debian base (bootstrapped under QEMU).
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


class QemuUnavailable(Exception):
    pass


class BuildFailed(Exception):
    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


@dataclass(frozen=True)
class BaseImage:
    name: str  # local image name, never resolvable on a remote registry
    suite: str  # the Debian suite it is bootstrapped from
    arch: str = "amd64"  # Debian's (and the OCI platform's) name of its architecture

    @property
    def foreign(self) -> bool:
        return self.arch != "amd64"

    @property
    def tarball_name(self) -> str:
        return f"debian-{self.suite}-minbase{'-' + self.arch if self.foreign else ''}.tar"


DEBIAN_TRIXIE = BaseImage("condabot-test/debian:trixie-slim", "trixie")
DEBIAN_TRIXIE_ARM64 = BaseImage("condabot-test/debian:trixie-slim-arm64", "trixie", "arm64")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_HINT = (
    "as root: apt-get install qemu-user-static binfmt-support; mount -t binfmt_misc "
    "binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64"
)


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


def local_names(client: docker.DockerClient) -> list[str]:
    """Every local image name, from one call: `images.list()` inspects each image after
    listing them, and fails when another user of the shared engine removes one between."""
    return [name for image in client.api.images() for name in image.get("RepoTags") or ()]


def ensure_binfmt(arch: str = "aarch64") -> None:
    """Make `arch` binaries run here (and in containers) through QEMU user emulation, or
    raise QemuUnavailable saying what is missing. Idempotent: mounts binfmt_misc only when
    it is not mounted, enables the handler only when it is not enabled."""
    entry = BINFMT / f"qemu-{arch}"
    if not (BINFMT / "status").exists():
        _as_root(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)])
    if not _handler_enabled(entry):
        if shutil.which("update-binfmts") is None:
            raise QemuUnavailable("update-binfmts is missing (apt-get install binfmt-support)")
        _as_root(["update-binfmts", "--enable", f"qemu-{arch}"])
    if not _handler_enabled(entry):
        raise QemuUnavailable(
            f"no qemu-{arch} binfmt handler (apt-get install qemu-user-static binfmt-support)"
        )
    flags = next((line for line in entry.read_text().splitlines() if line.startswith("flags:")), "")
    if "F" not in flags:
        raise QemuUnavailable(
            f"qemu-{arch} is registered without the F flag, so containers cannot find the "
            "emulator; register Debian's qemu-user-static handler (fix_binary yes)"
        )


def _handler_enabled(entry: Path) -> bool:
    try:
        return entry.read_text().splitlines()[0].strip() == "enabled"
    except (OSError, IndexError):
        return False


def _as_root(command: list[str]) -> None:
    if os.geteuid() != 0:
        raise QemuUnavailable(f"`{' '.join(command)}` needs root")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise QemuUnavailable(f"`{' '.join(command)}` failed: {done.stderr.strip()[-300:]}")


def ensure_base_image(
    client: docker.DockerClient, base: BaseImage = DEBIAN_TRIXIE, cache_dir: Path = CACHE_DIR
) -> str:
    """The local base image's name: already in the engine, imported from the cached
    tarball, or bootstrapped from Debian's mirror (about 30 s; a foreign architecture about
    3.5 minutes, its second stage under QEMU) and cached first."""
    try:
        client.images.get(base.name)
        return base.name
    except ImageNotFound:
        pass
    tarball = cache_dir / base.tarball_name
    if not tarball.exists():
        _bootstrap(base, tarball)
    if base.foreign:
        return scratch_image(client, base.name, tarball, f"linux/{base.arch}", _BASE_CHANGES)
    repository, tag = base.name.rsplit(":", 1)
    client.api.import_image_from_file(
        str(tarball), repository=repository, tag=tag, changes=list(_BASE_CHANGES)
    )
    return base.name


def scratch_image(
    client: docker.DockerClient,
    name: str,
    rootfs_tar: Path,
    platform: str,
    instructions: tuple[str, ...] = (),
) -> str:
    """An image of one root file system tarball, recorded as `platform`: a `FROM scratch`
    build, since `docker import` here records the host's architecture whatever the files."""
    with tempfile.TemporaryDirectory(dir=rootfs_tar.parent, prefix="scratch-") as work:
        context = Path(work)
        try:
            os.link(rootfs_tar, context / "rootfs.tar")
        except OSError:
            shutil.copyfile(rootfs_tar, context / "rootfs.tar")
        lines = ["FROM scratch", "ADD rootfs.tar /", *instructions]
        (context / "Dockerfile").write_text("\n".join(lines) + "\n")
        image, _ = client.images.build(
            path=str(context), tag=name, platform=platform, pull=False, rm=True, forcerm=True
        )
    architecture = image.attrs.get("Architecture")
    if architecture != platform.split("/")[1]:
        raise BaseImageUnavailable(f"{name} was recorded as {architecture}, not {platform}")
    return name


def _bootstrap(base: BaseImage, tarball: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise BaseImageUnavailable("debootstrap is not installed (apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise BaseImageUnavailable("debootstrap needs root")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix=f"{base.suite}-") as work:
        rootfs = Path(work) / "rootfs"
        command = ["debootstrap", "--variant=minbase", base.suite, str(rootfs), DEBIAN_MIRROR]
        if base.foreign:
            try:
                ensure_binfmt(_UNAME[base.arch])
            except QemuUnavailable as exc:
                raise BaseImageUnavailable(str(exc)) from exc
            command[1:1] = ["--foreign", f"--arch={base.arch}"]
        _run_bootstrap(command)
        if base.foreign:  # the second stage runs the foreign binaries, under QEMU
            _run_bootstrap(["chroot", str(rootfs), "/debootstrap/debootstrap", "--second-stage"])
        _slim(rootfs)
        partial = tarball.with_suffix(".partial")
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], check=True
        )
        partial.rename(tarball)


_UNAME = {"amd64": "x86_64", "arm64": "aarch64"}


def _run_bootstrap(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise BaseImageUnavailable(
            f"`{' '.join(command)}` failed ({done.returncode}): {' | '.join(tail)}"
        )


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
    """Classic-builder builds (what docker-py drives) of a Dockerfile in its build context
    (default: its own directory), against a local base: BASE_IMAGE is set, nothing is
    pulled, the host network is used."""

    def __init__(self, client: docker.DockerClient, base_image: str) -> None:
        self.client = client
        self.base_image = base_image

    def build(
        self,
        dockerfile: Path,
        tag: str,
        build_args: Mapping[str, str] | None = None,
        context: Path | None = None,
    ) -> Build:
        context = context or dockerfile.parent
        args = {"BASE_IMAGE": self.base_image, **(build_args or {})}
        started = time.monotonic()
        lines: list[str] = []
        image_id = ""
        stream = self.client.api.build(
            path=str(context),
            dockerfile=dockerfile.relative_to(context).as_posix(),
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
def qemu_arm64() -> None:
    try:
        ensure_binfmt("aarch64")
    except QemuUnavailable as exc:
        unavailable("QEMU user emulation for arm64", str(exc), QEMU_HINT)


@pytest.fixture(scope="session")
def arm64_base(docker_client: docker.DockerClient, qemu_arm64: None) -> str:
    try:
        return ensure_base_image(docker_client, DEBIAN_TRIXIE_ARM64)
    except (BaseImageUnavailable, DockerException, OSError) as exc:
        unavailable(
            "local arm64 Debian base image",
            str(exc),
            f"run as root with debootstrap and qemu-user-static installed and {DEBIAN_MIRROR} "
            "reachable",
        )


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
