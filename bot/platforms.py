"""Container platforms and how upstream and Dockerfiles name them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    """One platform an image is built for, under each of its names."""

    name: str  # OCI platform, e.g. "linux/amd64"
    arch: str  # upstream installer arch and `uname -m`, e.g. "x86_64"
    arg_suffix: str  # Dockerfile ARG suffix, e.g. "LINUX64"


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("linux/amd64", "x86_64", "LINUX64"),
        Platform("linux/arm64", "aarch64", "AARCH64"),
        Platform("linux/ppc64le", "ppc64le", "PPC64LE"),
        Platform("linux/s390x", "s390x", "S390X"),
    )
}
BY_ARCH: dict[str, Platform] = {p.arch: p for p in PLATFORMS.values()}
BY_SUFFIX: dict[str, Platform] = {p.arg_suffix: p for p in PLATFORMS.values()}
