"""Release publishing figures (issue #6), on real registries on loopback.

1. Bytes uploaded per registry / unique compressed layer bytes: target <= 1.05.
2. An identical second publish: 0 blobs uploaded, under 5 s.
3. N tags cost N manifest writes.
4. The size of the catalog's full tag set (pure, from dockerfiles/images.yaml): one release
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
import socket
import tempfile
import threading
import time
from pathlib import Path

import boto3
import docker

from bot.catalog import Image, load_catalog
from bot.cli import main
from bot.release.context import Options, gather
from bot.release.pinned import Pinned
from bot.release.plan import make_plan
from bot.release.publish import assemble
from bot.release.registry import Registry
from bot.release.staging import Staging
from bot.versions import Version
from tests.harness.docker import DEBIAN_TRIXIE_ARM64, ensure_base_image, ensure_binfmt
from tests.support.registry import DistributionRegistry, free_port
from tests.support.release_world import LocalImages, SmallRepo, ensure_tiny_bases

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
        }
    )
    for name in ("GITHUB_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH"):
        os.environ.pop(name, None)


def unique_layer_bytes(tag: str, root: Path) -> int:
    plan = gather(Options(tag=tag, root=root)).plan
    staging = Staging.parse(None)
    layers: dict[str, int] = {}
    for item in assemble(plan, staging, Registry(staging.host)):
        for staged in item.staged:
            for child in staged.children:
                for layer in child.document.get("layers", []):
                    layers[layer["digest"]] = int(layer["size"])
    return sum(layers.values())


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
        plan = make_plan(catalog, tag, pinned, (), "0" * 40, "2026-10-01T00:00:00Z", "")
        for image in plan.images:
            images += 1
            for target in image.targets:
                names = per_repository.setdefault(target.repository, set())
                names.update(t.name for t in image.tags)
                writes[target.registry] = writes.get(target.registry, 0) + len(image.tags)
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
            report(repo, tag, plan.images, {"hub": hub, "ecr": ecr}, proxies)
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


def report(repo, tag, images, servers, proxies) -> None:  # type: ignore[no-untyped-def]
    layers = unique_layer_bytes(tag, repo.root)
    for server in servers.values():
        server.mark()
    seconds = publish(repo, tag)
    tags = sum(len(image.tags) for image in images)
    print(f"first publish: {len(images)} images x 2 platforms, {tags} tags per registry, "
          f"{seconds:.2f} s; unique compressed layer bytes {layers}")  # fmt: skip
    for name, server in servers.items():
        ratio = proxies[name].received / layers
        writes = server.manifest_writes()
        by_tag = [a for a in writes if "/manifests/sha256:" not in a.path]
        verdict = "ok" if ratio <= 1.05 else "OVER TARGET"
        print(f"  {name}: received {proxies[name].received} bytes = {ratio:.4f} x unique layer "
              f"bytes (target <= 1.05: {verdict}); {len(server.blob_uploads())} blob uploads, "
              f"{len(server.mounts())} cross-repository mounts; {len(by_tag)} tag manifest "
              f"writes for {tags} tags ({'ok' if len(by_tag) == tags else 'MISMATCH'}), "
              f"+{len(writes) - len(by_tag)} platform manifests by digest")  # fmt: skip
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
