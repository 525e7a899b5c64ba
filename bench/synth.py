"""Synthetic upstream listings of any size, named by the real scheme."""

from __future__ import annotations

import hashlib
from typing import Any

ARCHES = (("Linux", "x86_64", "sh"), ("Linux", "aarch64", "sh"), ("Linux", "s390x", "sh"),
          ("Linux", "ppc64le", "sh"), ("MacOSX", "arm64", "sh"), ("MacOSX", "x86_64", "pkg"),
          ("Windows", "x86_64", "exe"))  # fmt: skip
FLAVOURS = ("py39", "py310", "py311", "py312", "py313", "py314")


def synthetic_listing(entries: int) -> dict[str, dict[str, Any]]:
    """About `entries` installers: Miniconda3 releases x flavours x platforms, plus aliases."""
    miniconda: dict[str, Any] = {}
    release = 0
    while len(miniconda) < entries:
        version = f"{20 + release // 40}.{release // 4 % 10}.{release % 4}-{release % 3}"
        for python in FLAVOURS:
            for os, arch, ext in ARCHES:
                name = f"Miniconda3-{python}_{version}-{os}-{arch}.{ext}"
                digest = hashlib.sha256(name.encode()).hexdigest()
                miniconda[name] = {
                    "sha256": digest,
                    "size": 100_000_000,
                    "mtime": 1.6e9 + release * 1e5,
                }
                if python == FLAVOURS[-1]:
                    miniconda[f"Miniconda3-latest-{os}-{arch}.{ext}"] = dict(miniconda[name])
        release += 1
    miniconda["index.json"] = {"sha256": "0" * 64, "size": 5, "mtime": 1.6e9}
    archive = {
        "Anaconda3-2024.10-1-Linux-x86_64.sh": {"sha256": "1" * 64, "size": 10**9, "mtime": 1.7e9}
    }
    return {"miniconda": miniconda, "archive": archive}
