#!/usr/bin/env python3
"""Install GitHub's API descriptions (npm packages, pinned) into the cache.

Usage (from the repository root; needs ``npm`` and the npm registry)::

    python3 tests/support/github_standin/fetch_openapi.py

Two packages, each checked by the sha256 of the one file the stand-in reads:
``@octokit/openapi`` (the REST description, for response conformance) and
``@octokit/graphql-schema`` (the GraphQL schema, against which the stand-in
validates every query the bot sends). Nothing is vendored: ``.cache/`` is
git-ignored. ``OCTOKIT_OPENAPI_CACHE`` overrides the cache directory. Standard
library only, so any python3 can run it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    file: str  # inside the package
    sha256: str
    cache: str  # folder name under the cache root

    def path(self) -> Path:
        override = os.environ.get("OCTOKIT_OPENAPI_CACHE")
        base = Path(override) if override else REPO_ROOT / ".cache" / "octokit-openapi"
        root = base if self.cache == "octokit-openapi" else base.parent / self.cache
        return root / self.version / "node_modules" / self.name / self.file


OPENAPI = Package(
    "@octokit/openapi",
    "23.0.2",
    "generated/api.github.com.json",
    "829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a",
    "octokit-openapi",
)
GRAPHQL = Package(
    "@octokit/graphql-schema",
    "15.26.1",
    "schema.graphql",
    "3c62d0526d133cee53221c89de9b455ade24db78b9e7ad56d642c4c15bce2654",
    "octokit-graphql-schema",
)
VERSION = OPENAPI.version


def description_path() -> Path:
    """Where the (non-dereferenced) api.github.com REST description lands."""
    return OPENAPI.path()


def graphql_schema_path() -> Path:
    """Where GitHub's public GraphQL schema (SDL) lands."""
    return GRAPHQL.path()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(package: Package = OPENAPI) -> Path:
    target = package.path()
    if target.is_file() and _sha256(target) == package.sha256:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed (Debian: apt-get install npm)")
    prefix = target.parents[len(Path(package.name).parts) + len(Path(package.file).parts)]
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
            f"{package.name}@{package.version}",
        ],
        check=True,
    )
    actual = _sha256(target)
    if actual != package.sha256:
        raise SystemExit(
            f"{target}: sha256 {actual}, expected {package.sha256} ({package.name}@{package.version})"
        )
    return target


if __name__ == "__main__":
    for package in (OPENAPI, GRAPHQL):
        print(fetch(package))
    sys.exit(0)
