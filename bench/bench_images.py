"""Image figures (issue #3), on the local Docker Engine.

1. Per catalog image: its size, the size of its conda prefix, and the difference (what the
   image carries besides conda: the base plus our layer), and what our layer adds over the
   base. The builds install generated stand-in installers (real ones are not reachable
   here), so the prefix is tiny; the overhead figures do not depend on it.
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
from tests.harness.docker import (
    ROOT,
    FileServer,
    ImageBuilder,
    connect,
    ensure_base_image,
    installer_build_args,
    serve_pinned_installers,
)

MB = 1_000_000
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


def build_catalog_image(
    builder: ImageBuilder, server: FileServer, image: Image
) -> tuple[str, float]:
    dockerfile = ROOT / image.dockerfile
    args = {
        **installer_build_args(server, serve_pinned_installers(server, dockerfile)),
        **dict(image.build_args),
    }
    tag = f"condabot-bench/{image.name}:latest"
    return tag, builder.build(dockerfile, tag, args).seconds


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
        for image in catalog.images:
            tag = tags[image.name]
            prefix = dict(image.build_args).get("CONDA_PREFIX_DIR", "/opt/conda")
            size, conda = image_bytes(client, tag), prefix_bytes(client, tag, prefix)
            print(
                f"{image.name:28} {size / MB:8.1f} {conda / MB:10.2f} {(size - conda) / MB:12.1f} "
                f"{(size - conda - base_size) / MB:10.1f} {first[image.name]:12.1f} "
                f"{warm[image.name]:7.2f}"
            )
        for name, packages in PEER_PACKAGES.items():
            size = peer_bytes(builder, name, packages)
            print(f"{name:28} {size / MB:8.1f} {'':10} {'':12} {(size - base_size) / MB:10.1f}")
        print(f"\nall {len(catalog.images)} catalog images from a warm cache: {warm_total:.1f} s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
