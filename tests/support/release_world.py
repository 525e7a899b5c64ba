"""What release tests build and publish: tiny local bases and a small image repository.

- `ensure_tiny_bases`: one base per platform, about 2 MB each, so builds pull nothing and
  take a second or two: dash, cat, uname, readlink and libc. linux/amd64 from the host's own
  files (the test machines are amd64); linux/arm64 from the files of the arm64 Debian base
  bootstrapped under QEMU (`tests.harness.docker`). Named `condabot-test/tiny:2-<arch>`.
- `SmallRepo`: a real git repository holding a catalog and one trivial Dockerfile that pins
  installers like the real ones (`ARG INSTALLER_URL_<ARCH>` / `SHA256SUM_<ARCH>`), builds
  `FROM` the tiny base of its target platform (`TARGETARCH`, as BuildKit sets it and the
  release's classic builder passes it) and copies in that platform's stand-in conda prefix
  (`conda`, `python`, `.condabot-installer`) plus a payload of incompressible bytes, so the
  smoke test and the byte counts are those of a real release. The stand-in `python` is a
  real ELF executable of the platform (`interpreter_elf`, a few hand-assembled
  instructions that print `Python <version>`): the arm64 image runs under QEMU, and its
  smoke test sees `aarch64` from `uname -m` and an aarch64 ELF interpreter.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from tests.harness.docker import local_names, scratch_image

TINY_BASE = "condabot-test/tiny:2"  # + "-amd64" / "-arm64"
SHA = "0" * 64
ARCHES = {"amd64": "x86_64", "arm64": "aarch64"}  # OCI -> uname -m
_TOOLS = ("dash", "cat", "uname", "readlink")
_HOST_LIBS = {
    "lib/x86_64-linux-gnu/libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
    "lib64/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
}
_ARM64_LIBS = {
    "lib/aarch64-linux-gnu/libc.so.6": "/usr/lib/aarch64-linux-gnu/libc.so.6",
    "lib/ld-linux-aarch64.so.1": "/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
}


def tiny_rootfs(files: Mapping[str, bytes]) -> bytes:
    """A root file system tarball: `files` (path inside -> bytes, all executable)."""
    buffer = io.BytesIO()
    directories = sorted({str(Path(path).parent) for path in files} | {"tmp", "etc", "opt"})
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in directories:
            info = tarfile.TarInfo(directory)
            info.type, info.mtime = tarfile.DIRTYPE, 0
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        for inside, data in sorted(files.items()):
            info = tarfile.TarInfo(inside)
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _binary_name(tool: str) -> str:
    return "bin/sh" if tool == "dash" else f"bin/{tool}"


def host_files() -> dict[str, bytes]:
    files = {_binary_name(t): Path(os.path.realpath(f"/usr/bin/{t}")).read_bytes() for t in _TOOLS}
    files |= {
        inside: Path(os.path.realpath(host)).read_bytes() for inside, host in _HOST_LIBS.items()
    }
    return files


def arm64_files(client: docker.DockerClient, debian_arm64: str) -> dict[str, bytes]:
    """The same tools and libraries, read from the arm64 Debian base (nothing is run)."""
    wanted = {_binary_name(t): f"/usr/bin/{t}" for t in _TOOLS} | _ARM64_LIBS
    container = client.containers.create(debian_arm64, command=["true"])
    try:
        return {inside: _read(container, path) for inside, path in wanted.items()}
    finally:
        container.remove(force=True)


def _read(container: docker.models.containers.Container, path: str) -> bytes:
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        assert member is not None and member.isfile(), path
        handle = tar.extractfile(member)
        assert handle is not None
        return handle.read()


def ensure_tiny_bases(client: docker.DockerClient, debian_arm64: str) -> str:
    """Both tiny bases; returns the name prefix a Dockerfile adds `-<arch>` to."""
    sources = {"amd64": host_files, "arm64": lambda: arm64_files(client, debian_arm64)}
    for arch, files in sources.items():
        name = f"{TINY_BASE}-{arch}"
        try:
            client.images.get(name)
        except ImageNotFound:
            with tempfile.TemporaryDirectory() as work:
                tarball = Path(work) / "rootfs.tar"
                tarball.write_bytes(tiny_rootfs(files()))
                scratch_image(
                    client, name, tarball, f"linux/{arch}", ("ENV PATH=/opt/conda/bin:/bin",)
                )
    return TINY_BASE


_ELF_MACHINES = {"x86_64": 0x3E, "aarch64": 0xB7}
_LOAD_AT = 0x400000


def interpreter_elf(arch: str, output: bytes) -> bytes:
    """A static ELF executable for `arch` that writes `output` and exits 0, whatever its
    arguments: write(1, output, len); exit(0), hand-assembled."""
    n = len(output)
    if arch == "x86_64":
        code = (
            b"\xb8\x01\x00\x00\x00"  # mov eax, 1 (write)
            b"\xbf\x01\x00\x00\x00"  # mov edi, 1
            b"\x48\x8d\x35" + struct.pack("<i", 16)  # lea rsi, [rip + 16]: the message
            + b"\xba" + struct.pack("<I", n)  # mov edx, n
            + b"\x0f\x05"  # syscall
            b"\xb8\x3c\x00\x00\x00"  # mov eax, 60 (exit)
            b"\x31\xff"  # xor edi, edi
            b"\x0f\x05"  # syscall
        )  # fmt: skip
    elif arch == "aarch64":
        words = (
            0xD2800020,  # mov x0, #1
            0x100000E1,  # adr x1, +28: the message
            0xD2800002 | (n << 5),  # mov x2, #n
            0xD2800808,  # mov x8, #64 (write)
            0xD4000001,  # svc #0
            0xD2800000,  # mov x0, #0
            0xD2800BA8,  # mov x8, #93 (exit)
            0xD4000001,  # svc #0
        )
        code = struct.pack("<8I", *words)
    else:
        raise ValueError(f"no stand-in interpreter for {arch}")
    body = code + output
    size = 64 + 56 + len(body)
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, SysV
    header += struct.pack(
        "<HHIQQQIHHHHHH", 2, _ELF_MACHINES[arch], 1, _LOAD_AT + 120, 64, 0, 0, 64, 56, 1, 0, 0, 0
    )
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, _LOAD_AT, _LOAD_AT, size, size, 0x1000)
    return header + segment + body


DOCKERFILE = """\
# A small test image: pins like the real Dockerfiles, a stand-in conda prefix, a payload.
ARG BASE_PREFIX={base}
ARG TARGETARCH=amd64
FROM ${{BASE_PREFIX}}-${{TARGETARCH}}
ARG TARGETARCH=amd64
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_LINUX64="https://repo.anaconda.com/miniconda/Miniconda3-{flavour}_{version}-Linux-x86_64.sh"
ARG SHA256SUM_LINUX64="{sha}"
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_AARCH64="https://repo.anaconda.com/miniconda/Miniconda3-{flavour}_{version}-Linux-aarch64.sh"
ARG SHA256SUM_AARCH64="{sha}"
COPY prefix-${{TARGETARCH}}/ /opt/conda/
COPY payload-${{TARGETARCH}}.bin /payload.bin
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

CATALOG = """\
version: 1
registries:
  hub: {{kind: dockerhub, host: "{hub}", namespace: {namespace}}}
  ecr: {{kind: {ecr_kind}, host: "{ecr}", namespace: {namespace}}}
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
    ecr_kind: str = "ecr"  # the second registry's kind: "ecr" or "ecr-public"

    def init(self) -> SmallRepo:
        self.root.mkdir(parents=True, exist_ok=True)
        _git(self.root, "init", "-q", "-b", "main")
        image = self.root / "dockerfiles/small"
        rng = random.Random(self.namespace)
        for arch in ARCHES:
            (image / f"prefix-{arch}/bin").mkdir(parents=True)
            (image / f"payload-{arch}.bin").write_bytes(rng.randbytes(self.payload_bytes))
        return self.init_catalog()

    def init_catalog(self) -> SmallRepo:
        catalog = CATALOG.format(
            hub=self.hub, ecr=self.ecr, ecr_kind=self.ecr_kind, namespace=self.namespace
        )
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
        for oci, arch in ARCHES.items():
            prefix = image / f"prefix-{oci}"
            (prefix / "bin/conda").write_text(CONDA.format(conda=conda))
            (prefix / "bin/python").write_bytes(
                interpreter_elf(arch, f"Python {python}\n".encode())
            )
            for name in ("conda", "python"):
                (prefix / "bin" / name).chmod(0o755)
            filename = f"Miniconda3-{flavour}_{version}-Linux-{arch}.sh"
            (prefix / ".condabot-installer").write_text(
                f"filename={filename}\nsha256={sha}\narch={arch}\n"
            )
            write_conda_meta(prefix, arch, {"python": python, "conda": conda})
        _git(self.root, "add", "-A")
        _git(self.root, "commit", "-q", "--allow-empty", "-m", f"pin {version}, build {build}")
        tag = f"small-{version}" + (f"_build{build}" if build > 1 else "")
        _git(self.root, "tag", tag)
        return tag

    def head(self) -> str:
        return _git(self.root, "rev-parse", "HEAD")


SUBDIRS = {"x86_64": "linux-64", "aarch64": "linux-aarch64"}


def write_conda_meta(prefix: Path, arch: str, packages: Mapping[str, str]) -> None:
    """`conda-meta/<name>-<version>-<build>.json` records as conda writes them (the keys the
    SBOM reads, and a file list), plus conda's `history`, which is not a package."""
    meta = prefix / "conda-meta"
    meta.mkdir(exist_ok=True)
    (meta / "history").write_text("==> 2026-06-01 12:00:00 <==\n")
    subdir = SUBDIRS[arch]
    for name, version in packages.items():
        build = f"h{hashlib.sha256(f'{name}{arch}'.encode()).hexdigest()[:7]}_0"
        filename = f"{name}-{version}-{build}.conda"
        record = {
            "name": name,
            "version": version,
            "build": build,
            "build_number": 0,
            "channel": "https://repo.anaconda.com/pkgs/main",
            "subdir": subdir,
            "fn": filename,
            "url": f"https://repo.anaconda.com/pkgs/main/{subdir}/{filename}",
            "sha256": hashlib.sha256(filename.encode()).hexdigest(),
            "md5": hashlib.md5(filename.encode()).hexdigest(),  # noqa: S324 (conda's own field)
            "license": "BSD-3-Clause",
            "files": [f"bin/{name}"],
        }
        (meta / f"{name}-{version}-{build}.json").write_text(json.dumps(record, indent=2))


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
        return [
            name
            for name in local_names(client)
            if name.startswith(tuple(self.prefixes)) or _built_from(name, revisions)
        ]


def _built_from(name: str, revisions: set[str]) -> bool:
    if not name.startswith("condabot-build/"):
        return False
    tag = name.rsplit(":", 1)[-1]
    return tag[:12] in revisions and tag[12:13] == "-"
