"""Image figures (issue #3), on the local Docker Engine.

1. Per catalog image, every Python line included: its size, the size of its conda prefix,
   and the difference (what the image carries besides conda: the base plus our layer), and
   what our layer adds over the base (target for the slim variants: <= 5 MB). The builds
   install generated stand-in installers (real ones are not reachable here), so the prefix
   is tiny; the overhead figures do not depend on it. A line is built as a release builds
   it: the shared Dockerfile with its pins file as build arguments; a line with no pins
   yet gets the pins its first bot PR would propose (the stand-in listing's newest release
   of its flavour).
2. For comparison, the Debian packages Anaconda's own Dockerfiles install, on the same base.
3. Build time of every catalog image from a warm cache (after a first, possibly cold, round).

Needs what the slow tests need: a running engine, root and debootstrap for the base.
Run: `python -m bench.bench_images` from the repository root.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import docker

from bot.catalog import Image, load_catalog
from bot.pins import Pin, read_pins
from bot.platforms import BY_ARCH
from bot.release.pinned import pin_build_args
from tests.harness.docker import (
    ROOT,
    FileServer,
    ImageBuilder,
    connect,
    ensure_base_image,
    installer_build_args,
)
from tests.support.installer import make_installer
from tests.support.upstream_data import MINICONDA_RELEASES

MB = 1_000_000
SLIM_TARGET_MB = 5.0
NOT_SLIM = {"miniconda3-devcontainer"}  # adds git, ssh, procps and sudo on purpose
# The apt packages of Anaconda's own miniconda3 and anaconda3 Dockerfiles (Debian).
PEER_PACKAGES = {
    "peer: miniconda3 apt set": (
        "bzip2 ca-certificates git libglib2.0-0 libsm6 libxext6 libxrender1 mercurial "
        "openssh-client procps subversion wget"
    ),
    "peer: anaconda3 apt set": (
        "bzip2 ca-certificates git libglib2.0-0 libsm6 libxcomposite1 libxcursor1 "
        "libxdamage1 libxext6 libxfixes3 libxi6 libxinerama1 libxrandr2 libxrender1 "
        "mercurial openssh-client procps subversion wget"
    ),
}


def first_pins(image: Image) -> tuple[Pin, ...]:
    """A new line's pins as its first bot PR would write them, from the stand-in listing."""
    version = next(
        v for v, _, flavours, _ in reversed(MINICONDA_RELEASES) if image.python in flavours
    )
    text = ""
    for arch in image.arches:
        name = f"Miniconda3-{image.python}_{version}-Linux-{arch}.sh"
        suffix = BY_ARCH[arch].arg_suffix
        text += (f'ARG INSTALLER_URL_{suffix}="https://repo.anaconda.com/miniconda/{name}"\n'
                 f'ARG SHA256SUM_{suffix}="{make_installer(name).sha256}"\n')  # fmt: skip
    return read_pins(text, image.pin_file)


def build_catalog_image(
    builder: ImageBuilder, server: FileServer, image: Image
) -> tuple[str, float]:
    dockerfile = ROOT / image.dockerfile
    pins = read_pins((ROOT / image.pin_file).read_text(), image.pin_file) or first_pins(image)
    installers = {pin.arch: make_installer(pin.filename) for pin in pins}
    for installer in installers.values():
        server.put(installer.path, installer.content)
    args = {
        **(dict(pin_build_args(pins)) if image.pins else {}),
        **installer_build_args(server, installers),
        **dict(image.build_args),
    }
    tag = f"condabot-bench/{image.name}:latest"
    return tag, builder.build(dockerfile, tag, args, ROOT / image.context).seconds


def prefix_bytes(client: docker.DockerClient, tag: str, prefix: str) -> int:
    output = client.containers.run(
        tag, ["du", "-sb", prefix], remove=True, network_mode="none", entrypoint=[]
    )
    return int(output.split()[0])


def image_bytes(client: docker.DockerClient, tag: str) -> int:
    return int(client.images.get(tag).attrs["Size"])


def peer_bytes(builder: ImageBuilder, name: str, packages: str) -> int:
    """Size of the base plus a peer's apt package set, installed the lean way."""
    with tempfile.TemporaryDirectory() as context:
        dockerfile = Path(context) / "Dockerfile"
        dockerfile.write_text(
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
            f"RUN apt-get update -q && apt-get install -q -y --no-install-recommends {packages}"
            " && apt-get clean && rm -rf /var/lib/apt/lists/*\n"
        )
        tag = f"condabot-bench/{name.split(': ')[1].replace(' ', '-')}:latest"
        builder.build(dockerfile, tag)
    return image_bytes(builder.client, tag)


def main() -> None:
    client = connect()
    base = ensure_base_image(client)
    builder = ImageBuilder(client, base)
    server = FileServer(preferred_port=47632).start()
    catalog = load_catalog(ROOT / "dockerfiles" / "images.yaml")
    base_size = image_bytes(client, base)
    try:
        first: dict[str, float] = {}
        tags: dict[str, str] = {}
        for image in catalog.images:
            tags[image.name], first[image.name] = build_catalog_image(builder, server, image)
        started = time.monotonic()
        warm: dict[str, float] = {}
        for image in catalog.images:
            _, warm[image.name] = build_catalog_image(builder, server, image)
        warm_total = time.monotonic() - started

        print(f"base {base}: {base_size / MB:.1f} MB\n")
        header = (
            f"{'image':28} {'size MB':>8} {'prefix MB':>10} {'size-prefix':>12} "
            f"{'over base':>10} {'1st build s':>12} {'warm s':>7}"
        )
        print(header)
        print("-" * len(header))
        over_slim: list[str] = []
        for image in catalog.images:
            tag = tags[image.name]
            prefix = dict(image.build_args).get("CONDA_PREFIX_DIR", "/opt/conda")
            size, conda = image_bytes(client, tag), prefix_bytes(client, tag, prefix)
            overhead = (size - conda - base_size) / MB
            if image.name not in NOT_SLIM and overhead > SLIM_TARGET_MB:
                over_slim.append(image.name)
            print(
                f"{image.name:28} {size / MB:8.1f} {conda / MB:10.2f} {(size - conda) / MB:12.1f} "
                f"{overhead:10.1f} {first[image.name]:12.1f} {warm[image.name]:7.2f}"
            )
        for name, packages in PEER_PACKAGES.items():
            size = peer_bytes(builder, name, packages)
            print(f"{name:28} {size / MB:8.1f} {'':10} {'':12} {(size - base_size) / MB:10.1f}")
        print(f"\nall {len(catalog.images)} catalog images from a warm cache: {warm_total:.1f} s")
        verdict = f"over the target: {', '.join(over_slim)}" if over_slim else "all within"
        print(f"slim variants' overhead over the base, target <= {SLIM_TARGET_MB} MB: {verdict}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
