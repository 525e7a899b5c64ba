"""What release tests build and publish: a tiny local base and a small image repository.

- `ensure_tiny_base`: a base image `docker import`ed from a rootfs made here of the host's
  own dash, cat and libc (about 2 MB), so builds pull nothing and take a second or two.
- `SmallRepo`: a real git repository holding a catalog and one trivial Dockerfile that pins
  installers like the real ones (`ARG INSTALLER_URL_<ARCH>` / `SHA256SUM_<ARCH>`) and copies
  in a stand-in conda prefix (`conda`, `python`, `.condabot-installer`) plus a payload of
  incompressible bytes, so the smoke test and the byte counts are those of a real release.
- `stage_fake_arm64`: only linux/amd64 can be built here (no QEMU/binfmt). The arm64
  "platform image" is a second small amd64 build whose config is re-labelled
  `architecture: arm64` through the registry API, then staged where an arm64 build would be.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from bot.release.build import ClassicEngine, digest_from_push, requests_for
from bot.release.plan import ReleasePlan
from bot.release.registry import Manifest, Registry
from bot.release.staging import Staging

TINY_BASE = "condabot-test/tiny:1"
_HOST_FILES = {
    "bin/sh": "/usr/bin/dash",
    "bin/cat": "/usr/bin/cat",
    "lib/x86_64-linux-gnu/libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
    "lib64/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
}
SHA = "0" * 64


def tiny_rootfs() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("bin", "lib", "lib/x86_64-linux-gnu", "lib64", "tmp", "etc", "opt"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = (
                tarfile.DIRTYPE,
                0o1777 if directory == "tmp" else 0o755,
                0,
            )
            tar.addfile(info)
        for inside, host in _HOST_FILES.items():
            data = Path(os.path.realpath(host)).read_bytes()
            info = tarfile.TarInfo(inside)
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def ensure_tiny_base(client: docker.DockerClient) -> str:
    try:
        client.images.get(TINY_BASE)
    except ImageNotFound:
        repository, tag = TINY_BASE.rsplit(":", 1)
        client.api.import_image_from_data(
            tiny_rootfs(), repository=repository, tag=tag, changes=["ENV PATH=/opt/conda/bin:/bin"]
        )
    return TINY_BASE


DOCKERFILE = """\
# A small test image: pins like the real Dockerfiles, a stand-in conda prefix, a payload.
ARG BASE_IMAGE={base}
FROM ${{BASE_IMAGE}}
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_LINUX64="https://repo.anaconda.com/miniconda/Miniconda3-{flavour}_{version}-Linux-x86_64.sh"
ARG SHA256SUM_LINUX64="{sha}"
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_AARCH64="https://repo.anaconda.com/miniconda/Miniconda3-{flavour}_{version}-Linux-aarch64.sh"
ARG SHA256SUM_AARCH64="{sha}"
ARG PAYLOAD=a
COPY prefix/ /opt/conda/
COPY payload-${{PAYLOAD}}.bin /payload.bin
# Stands for the base's own content: a rebuild for a base image update changes it.
COPY base-update /etc/base-update
ARG IMAGE_SOURCE=""
ARG IMAGE_VERSION=""
ARG IMAGE_REVISION=""
ARG IMAGE_CREATED=""
LABEL org.opencontainers.image.source="${{IMAGE_SOURCE}}" \\
      org.opencontainers.image.version="${{IMAGE_VERSION}}" \\
      org.opencontainers.image.revision="${{IMAGE_REVISION}}" \\
      org.opencontainers.image.created="${{IMAGE_CREATED}}"
"""

CONDA = """#!/bin/sh
case "$1" in
    --version) echo "conda {conda}" ;;
    info) echo /opt/conda ;;
    *) exit 1 ;;
esac
"""
PYTHON = '#!/bin/sh\necho "Python {python}"\n'

CATALOG = """\
version: 1
registries:
  hub: {{kind: dockerhub, host: "{hub}", namespace: {namespace}}}
  ecr: {{kind: ecr, host: "{ecr}", namespace: {namespace}}}
images:
  - name: small
    product: miniconda3
    dockerfile: dockerfiles/small/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    registries: [hub, ecr]
"""
# A second image in its own repository from the same Dockerfile: its layers are the first
# one's, so publishing both shows blobs mounted across repositories, not uploaded twice.
SECOND_IMAGE = """  - name: small-twin
    product: miniconda3
    dockerfile: dockerfiles/small/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    registries: [hub, ecr]
"""


def _git(root: Path, *args: str) -> str:
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": "2026-06-01T12:00:00Z",
        "GIT_COMMITTER_DATE": "2026-06-01T12:00:00Z",
    }
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=environment
    )
    return done.stdout.strip()


@dataclass
class SmallRepo:
    """A git checkout with one small image; `release(version)` commits pins and tags."""

    root: Path
    hub: str
    ecr: str
    payload_bytes: int = 256 * 1024
    twin: bool = False  # also catalog `small-twin` (release both with `miniconda3-<version>`)
    namespace: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    base: str = TINY_BASE

    def init(self) -> SmallRepo:
        self.root.mkdir(parents=True, exist_ok=True)
        _git(self.root, "init", "-q", "-b", "main")
        image = self.root / "dockerfiles/small"
        (image / "prefix/bin").mkdir(parents=True)
        rng = random.Random(self.namespace)
        for variant in ("a", "b"):
            (image / f"payload-{variant}.bin").write_bytes(rng.randbytes(self.payload_bytes))
        catalog = CATALOG.format(hub=self.hub, ecr=self.ecr, namespace=self.namespace)
        (self.root / "dockerfiles/images.yaml").write_text(
            catalog + (SECOND_IMAGE if self.twin else "")
        )
        return self

    def release(
        self,
        version: str,
        flavour: str = "py314",
        python: str = "3.14.1",
        *,
        build: int = 1,
        sha: str = SHA,
        base_update: str = "",
    ) -> str:
        """Pin `version` (installers of sha256 `sha`), commit, tag `small-<version>` (or
        `small-<version>_build<N>`, a rebuild; `base_update` stands for a newer base's
        content); returns the tag."""
        image = self.root / "dockerfiles/small"
        (image / "Dockerfile").write_text(
            DOCKERFILE.format(base=self.base, flavour=flavour, version=version, sha=sha)
        )
        (image / "base-update").write_text(base_update + "\n")
        conda = ".".join(version.split("-")[0].split(".")[:3])
        for name, text in (
            ("conda", CONDA.format(conda=conda)),
            ("python", PYTHON.format(python=python)),
        ):
            path = image / "prefix/bin" / name
            path.write_text(text)
            path.chmod(0o755)
        filename = f"Miniconda3-{flavour}_{version}-Linux-x86_64.sh"
        (image / "prefix/.condabot-installer").write_text(
            f"filename={filename}\nsha256={sha}\narch=x86_64\n"
        )
        _git(self.root, "add", "-A")
        _git(self.root, "commit", "-q", "--allow-empty", "-m", f"pin {version}, build {build}")
        tag = f"small-{version}" + (f"_build{build}" if build > 1 else "")
        _git(self.root, "tag", tag)
        return tag

    def head(self) -> str:
        return _git(self.root, "rev-parse", "HEAD")


@dataclass
class LocalImages:
    """The local image names a test (or bench) made: those under one of its own name
    prefixes (its staging namespace, its repositories' namespaces), and the builder's
    `condabot-build/<image>:<revision>-...` names of commits in repositories it made. Only
    these are removed after it; a maintainer's own builds never match."""

    prefixes: list[str] = field(default_factory=list)
    repos: list[Path] = field(default_factory=list)

    def own_repo(self, repo: SmallRepo) -> SmallRepo:
        self.repos.append(repo.root)
        self.prefixes += [f"{repo.hub}/{repo.namespace}/", f"{repo.ecr}/{repo.namespace}/"]
        return repo

    def own_checkout(self, root: Path) -> Path:
        self.repos.append(root)
        return root

    def names(self, client: docker.DockerClient) -> list[str]:
        revisions = {
            line[:12]
            for root in self.repos
            if (root / ".git").exists()
            for line in _git(root, "rev-list", "--all").splitlines()
        }
        found = []
        for image in client.images.list():
            for name in image.tags:
                if name.startswith(tuple(self.prefixes)) or _built_from(name, revisions):
                    found.append(name)
        return found


def _built_from(name: str, revisions: set[str]) -> bool:
    if not name.startswith("condabot-build/"):
        return False
    tag = name.rsplit(":", 1)[-1]
    return tag[:12] in revisions and tag[12:13] == "-"


def stage_fake_arm64(
    client: docker.DockerClient,
    plan: ReleasePlan,
    staging: Staging,
    registry: Registry,
    root: Path,
    image_name: str | None = None,
) -> str:
    """Build the small image with the other payload, re-label its config as arm64 and stage
    it as the arm64 build of one image of `plan` (the first by default). Returns the staged
    manifest digest."""
    image = plan.image(image_name) if image_name else plan.images[0]
    amd64 = next(p for p in image.platforms if p.platform == "linux/amd64")
    arm64 = next(p for p in image.platforms if p.platform == "linux/arm64")
    request = requests_for(
        plan, staging, root, image=image.name, platform=amd64.platform, extra_args={"PAYLOAD": "b"}
    )[0]
    repository = staging.repository(image)
    scratch = f"scratch-{plan.revision[:12]}-b"
    engine = ClassicEngine(client)
    engine.build(request)
    client.api.tag(request.local_tag, request.staging_repository, scratch)
    digest_from_push(
        client.api.push(request.staging_repository, tag=scratch, stream=True, decode=True),
        scratch,
    )
    manifest = registry.get_manifest(repository, scratch)
    assert manifest is not None
    document = manifest.document
    config = json.loads(registry.get_blob(repository, document["config"]["digest"]))
    config["architecture"], config["variant"] = "arm64", "v8"
    body = json.dumps(config).encode()
    document["config"]["digest"] = registry.push_bytes(repository, body)
    document["config"]["size"] = len(body)
    relabelled = Manifest(manifest.media_type, json.dumps(document).encode())
    return registry.put_manifest(repository, staging.tag(plan.revision, arm64), relabelled)
