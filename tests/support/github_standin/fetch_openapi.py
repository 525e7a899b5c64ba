#!/usr/bin/env python3
"""Install GitHub's OpenAPI description (npm ``@octokit/openapi``, pinned) into the cache.

Usage (from the repository root; needs ``npm`` and the npm registry)::

    python3 tests/support/github_standin/fetch_openapi.py

It runs ``npm install --prefix .cache/octokit-openapi/<version>`` for the pinned
version and checks the sha256 of ``generated/api.github.com.json``. Nothing is
vendored: ``.cache/`` is git-ignored. ``OCTOKIT_OPENAPI_CACHE`` overrides the cache
directory. Standard library only, so any python3 can run it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = "23.0.2"
SHA256 = "829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a"
PACKAGE = "@octokit/openapi"
RELATIVE = Path("node_modules/@octokit/openapi/generated/api.github.com.json")
REPO_ROOT = Path(__file__).resolve().parents[3]


def cache_dir() -> Path:
    override = os.environ.get("OCTOKIT_OPENAPI_CACHE")
    base = Path(override) if override else REPO_ROOT / ".cache" / "octokit-openapi"
    return base / VERSION


def description_path() -> Path:
    """Where the (non-dereferenced) api.github.com description lands."""
    return cache_dir() / RELATIVE


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch() -> Path:
    target = description_path()
    if target.is_file() and _sha256(target) == SHA256:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed (Debian: apt-get install npm)")
    prefix = cache_dir()
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-save",
            "--no-package-lock",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"{PACKAGE}@{VERSION}",
        ],
        check=True,
    )
    actual = _sha256(target)
    if actual != SHA256:
        raise SystemExit(f"{target}: sha256 {actual}, expected {SHA256} ({PACKAGE}@{VERSION})")
    return target


if __name__ == "__main__":
    print(fetch())
    sys.exit(0)
