"""Release figures (issues #6 and #12), on real registries on loopback.

1. Per registry: the images, platform images and SBOM artifacts a release puts there.
2. Bytes uploaded per registry / unique bytes (compressed layers and SBOM documents):
   target <= 1.05.
3. An identical second publish: 0 blobs uploaded, under 5 s.
4. N tags cost N manifest writes (plus one referrers index per platform image).
5. The arm64 build's share of the build time (built under QEMU user emulation here; on
   GitHub an arm64 runner builds it natively).
6. The size of the catalog's full tag set (pure, from dockerfiles/images.yaml): one release
   of every image, every Python line included, and the tag writes it costs per registry.

Setup: moto (ECR auth) and three `docker-registry` processes (staging, an htpasswd "Docker
Hub", an "ECR"), each target behind a TCP proxy that counts the bytes the registry receives
(HTTP headers included); requests are counted from each registry's own access log. Two
images from one Dockerfile in two repositories (so their layers are shared), two platforms
each, both built by `condabot release build`: amd64 natively, arm64 from an arm64 base and
smoke-tested under QEMU user emulation; the arm64 build's share of the build time is
reported. Needs root (Docker, binfmt_misc), docker-registry, apache2-utils, debootstrap and
qemu-user-static.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import boto3
import docker

from bot.catalog import Image, load_catalog
from bot.cli import main
from bot.pins import read_pins
from bot.release import sbom
from bot.release.context import Options, gather
from bot.release.pinned import Pinned
from bot.release.plan import ReleasePlan, make_plan
from bot.release.publish import assemble
from bot.release.referrers import discover
from bot.release.registry import Credentials, RegistryClient
from bot.release.staging import Staging
from bot.release.tagname import resolve_tag
from bot.versions import Version
from tests.harness.docker import (
    DEBIAN_TRIXIE,
    DEBIAN_TRIXIE_ARM64,
    ROOT,
    FileServer,
    ensure_base_image,
    ensure_binfmt,
    installer_build_args,
    serve_pinned_installers,
)
from tests.support.registry import DistributionRegistry, free_port
from tests.support.release_world import LocalImages, SmallRepo, _git, ensure_tiny_bases

PAYLOAD = 16 * 1024 * 1024


class CountingProxy:
    """Forwards 127.0.0.1:<port> to a registry, counting the bytes the registry receives."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.received = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            client, _ = self._listener.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                if count:
                    with self._lock:
                        self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def start_moto() -> str:
    from moto.server import ThreadedMotoServer

    port = free_port()
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    return f"http://127.0.0.1:{port}"


def ecr_password(endpoint: str) -> str:
    client = boto3.client("ecr", endpoint_url=endpoint, region_name="us-east-1")
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(token).decode().partition(":")[2]


def setup_env(moto: str, staging: DistributionRegistry, hub_token: str, work: Path) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": moto,
            "DOCKERHUB_USERNAME": "bench",
            "DOCKERHUB_TOKEN": hub_token,
            "CONDABOT_STAGING": f"{staging.host}/staging",
            "CONDABOT_BUILDER": "classic",
            "DOCKER_CONFIG": str(work / "docker-config"),
            "GITHUB_REPOSITORY": "bench/condabot",  # the source label
        }
    )
    for name in ("GITHUB_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH"):
        os.environ.pop(name, None)


def unique_bytes(tag: str, root: Path) -> tuple[int, int]:
    """(unique compressed layer bytes, unique SBOM artifact blob bytes) of a release."""
    plan = gather(Options(tag=tag, root=root)).plan
    staging = Staging.parse(None)
    layers: dict[str, int] = {}
    artifacts: dict[str, int] = {}
    for item in assemble(plan, staging, RegistryClient(staging.host)):
        for staged in item.staged:
            for child in staged.children:
                for layer in child.document.get("layers", []):
                    layers[layer["digest"]] = int(layer["size"])
        for artifact in item.referrers:
            for blob in artifact.blobs():
                artifacts[blob["digest"]] = int(blob["size"])
    return sum(layers.values()), sum(artifacts.values())


def contents(registry: RegistryClient, plan: ReleasePlan) -> tuple[int, int, int]:
    """(images, platform images, SBOM artifacts) a registry holds for a release, read back."""
    images = platforms = sboms = 0
    for image in plan.images:
        for target in image.targets:
            if target.host != registry.host:
                continue
            index = registry.get_manifest(target.repository, image.all_tags[0].name)
            if index is None:
                continue
            images += 1
            for entry in index.children():
                platforms += 1
                sboms += len(
                    discover(registry, target.repository, entry["digest"], sbom.MEDIA_TYPE)
                )
    return images, platforms, sboms


def publish(repo: SmallRepo, tag: str) -> float:
    started = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(
            ["release", "publish", "--root", str(repo.root), "--tag", tag, "--no-release-body"]
        )
    if code != 0:
        raise SystemExit(f"publish failed with exit code {code}")
    return time.monotonic() - started


# One release of every catalog image: (release tag, upstream's default Python flavour).
CATALOG_RELEASES = (("miniconda3-26.5.3-1", "py314"), ("anaconda3-2025.06-0", None),
                    ("miniconda2-4.8.3", None))  # fmt: skip


def catalog_tag_set() -> None:
    catalog = load_catalog(Path("dockerfiles/images.yaml"))
    per_repository: dict[str, set[str]] = {}
    writes: dict[str, int] = {}
    images = 0
    for tag, default in CATALOG_RELEASES:
        version = Version.parse(re.sub(r"^[a-z0-9-]*?-(?=\d)", "", tag))
        pinned = {i.name: Pinned(i.name, version, _flavour(i, default), i.pin_file)
                  for i in catalog.images}  # fmt: skip
        plan = make_plan(
            catalog, resolve_tag(tag, catalog), pinned, (), "0" * 40, "2026-10-01T00:00:00Z", ""
        )
        for image in plan.images:
            images += 1
            for target in image.targets:
                names = per_repository.setdefault(target.repository, set())
                names.update(t.name for t in image.all_tags)
                writes[target.registry] = writes.get(target.registry, 0) + len(image.all_tags)
    print(f"catalog tag set: one release of each of {images} images")
    for repository, names in sorted(per_repository.items()):
        print(f"  {repository}: {len(names)} tags")
    total = sum(len(n) for n in per_repository.values())
    per_registry = ", ".join(f"{r} {n}" for r, n in sorted(writes.items()))
    print(f"  {total} distinct tags; tag writes per registry: {per_registry}\n")


def _flavour(image: Image, default: str | None) -> str | None:
    if image.product.value == "anaconda3":
        return None
    return default if image.follows_default else image.python


def run() -> None:
    catalog_tag_set()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    client = docker.from_env(timeout=600)
    moto = start_moto()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")  # noqa: S106
    hub_token = "dckr_pat_" + os.urandom(8).hex()
    registries: list[DistributionRegistry] = []
    owned = LocalImages()
    try:
        staging, hub, ecr = (
            DistributionRegistry("staging"),
            DistributionRegistry("hub", ("bench", hub_token)),
            DistributionRegistry("ecr", ("AWS", ecr_password(moto))),
        )
        registries += [staging, hub, ecr]
        for registry in registries:
            registry.start()
        proxies = {"hub": CountingProxy(hub.port), "ecr": CountingProxy(ecr.port)}
        with tempfile.TemporaryDirectory() as work:
            setup_env(moto, staging, hub_token, Path(work))
            owned.prefixes.append(f"{os.environ['CONDABOT_STAGING']}/")
            ensure_binfmt("aarch64")
            bases = ensure_tiny_bases(client, ensure_base_image(client, DEBIAN_TRIXIE_ARM64))
            repo = SmallRepo(
                Path(work) / "repo", proxies["hub"].host, proxies["ecr"].host,
                payload_bytes=PAYLOAD, base=bases, twin=True,
            ).init()  # fmt: skip
            owned.own_repo(repo)
            repo.release("26.5.3-1")
            tag = "miniconda3-26.5.3-1"  # the product: both images
            build_times = {p: build_platform(repo, tag, p) for p in ("linux/amd64", "linux/arm64")}
            total = sum(build_times.values())
            print("builds (2 images per platform, smoke tests included): "
                  + ", ".join(f"{p} {t:.1f} s" for p, t in build_times.items())
                  + f"; arm64 is {build_times['linux/arm64'] / total:.0%} of the build time")  # fmt: skip
            plan = gather(Options(tag=tag, root=repo.root)).plan
            readers = {
                "hub": RegistryClient(proxies["hub"].host, Credentials("bench", hub_token)),
                "ecr": RegistryClient(proxies["ecr"].host, Credentials("AWS", ecr_password(moto))),
            }
            report(repo, tag, plan, {"hub": hub, "ecr": ecr}, proxies, readers)
            real_build_share(client, Path(work), owned)
            # Only the names this bench made (its namespaces, its repository's commits).
            for name in owned.names(client):
                with contextlib.suppress(docker.errors.DockerException):
                    client.images.remove(name)
    finally:
        for registry in registries:
            registry.close()


def build_platform(repo: SmallRepo, tag: str, platform: str) -> float:
    started = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["release", "build", "--root", str(repo.root), "--tag", tag,
                     "--platform", platform])  # fmt: skip
    if code != 0:
        raise SystemExit(f"build of {platform} failed with exit code {code}")
    return time.monotonic() - started


def real_build_share(client: docker.DockerClient, work: Path, owned: LocalImages) -> None:
    """The real Debian Dockerfile (`miniconda3-usrlocal`), one release build per platform
    as the build jobs run it, from an empty build cache: the stand-in installers are served
    from a fresh port, so the RUN step (apt-get, the installer) is built anew each time."""
    root = work / "images"
    shutil.copytree(ROOT / "dockerfiles", root / "dockerfiles")
    dockerfile = root / "dockerfiles/miniconda3/debian/Dockerfile"
    version = read_pins(dockerfile.read_text(), str(dockerfile))[0].version.text
    tag = f"miniconda3-usrlocal-{version}"
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "images")
    _git(root, "tag", tag)
    owned.own_checkout(root)
    bases = {
        "linux/amd64": ensure_base_image(client, DEBIAN_TRIXIE),
        "linux/arm64": ensure_base_image(client, DEBIAN_TRIXIE_ARM64),
    }
    server = FileServer().start()
    try:
        args = installer_build_args(server, serve_pinned_installers(server, dockerfile))
        times = {}
        for platform, base in bases.items():
            extra = [f"--build-arg={k}={v}" for k, v in {**args, "BASE_IMAGE": base}.items()]
            started = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):
                code = main(["release", "build", "--root", str(root), "--tag", tag,
                             "--platform", platform, "--rebuild", *extra])  # fmt: skip
            if code != 0:
                raise SystemExit(f"the real {platform} build failed with exit code {code}")
            times[platform] = time.monotonic() - started
    finally:
        server.stop()
    total = sum(times.values())
    print(f"real Dockerfile ({tag}), uncached release build, smoke test and SBOM: "
          + ", ".join(f"{p} {t:.0f} s" for p, t in times.items())
          + f"; arm64 (under QEMU here) is {times['linux/arm64'] / total:.0%} of the time")  # fmt: skip


def report(repo, tag, plan, servers, proxies, readers) -> None:  # type: ignore[no-untyped-def]
    images = plan.images
    layers, artifacts = unique_bytes(tag, repo.root)
    unique = layers + artifacts
    for server in servers.values():
        server.mark()
    seconds = publish(repo, tag)
    tags = sum(len(image.all_tags) for image in images)
    print(f"first publish: {len(images)} images x 2 platforms, {tags} tags per registry, "
          f"{seconds:.2f} s; unique bytes {unique} ({layers} in compressed layers, "
          f"{artifacts} in SBOM artifacts)")  # fmt: skip
    for name, server in servers.items():
        ratio = proxies[name].received / unique
        writes = server.manifest_writes()
        name_of = [a.path.rsplit("/", 1)[1] for a in writes]
        by_tag = [n for n in name_of if not n.startswith("sha256")]
        indexes = [n for n in name_of if n.startswith("sha256-")]
        verdict = "ok" if ratio <= 1.05 else "OVER TARGET"
        held = contents(readers[name], plan)
        print(f"  {name}: holds {held[0]} images, {held[1]} platform images, {held[2]} SBOM "
              f"artifacts; received {proxies[name].received} bytes = {ratio:.4f} x unique bytes "
              f"(target <= 1.05: {verdict}); {len(server.blob_uploads())} blob uploads, "
              f"{len(server.mounts())} cross-repository mounts; {len(by_tag)} tag manifest "
              f"writes for {tags} tags ({'ok' if len(by_tag) == tags else 'MISMATCH'}), "
              f"{len(indexes)} referrers indexes, "
              f"+{len(writes) - len(by_tag) - len(indexes)} manifests by digest "
              f"(platform images and SBOMs)")  # fmt: skip
        proxies[name].received = 0
        server.mark()
    seconds = publish(repo, tag)
    verdict = "ok" if seconds < 5 else "OVER TARGET"
    print(f"second, identical publish: {seconds:.2f} s (target < 5 s: {verdict})")
    for name, server in servers.items():
        uploads = len(server.blob_uploads())
        print(f"  {name}: {uploads} blob uploads (target 0: {'ok' if uploads == 0 else 'NOT 0'}), "
              f"{len(server.manifest_writes())} manifest writes, {proxies[name].received} bytes "
              f"received (HEAD requests only)")  # fmt: skip


if __name__ == "__main__":
    run()
