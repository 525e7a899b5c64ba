"""A repository on the GitHub stand-in, its local clone, and the upstream mirror.

This is what the bump workflow sees in Actions: a fresh checkout of the base branch
(`refresh()` re-clones it before every run, as actions/checkout does), a token,
and upstream. Used by the PR tests, the model-based test, the benchmark and the demo.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.cli import main
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror

BOT_TOKEN = "bot-token"
NOW = "2026-11-01T00:00:00Z"

DOCKERFILE = """\
FROM debian:trixie-slim

# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_LINUX64="https://repo.anaconda.com/miniconda/Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
ARG SHA256SUM_LINUX64="634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_AARCH64="https://repo.anaconda.com/miniconda/Miniconda3-py311_23.5.2-0-Linux-aarch64.sh"
ARG SHA256SUM_AARCH64="3962738cfac270ae4ff30da0e382aecf6b3305a12064b196457747b157749a7a"

RUN echo "install $INSTALLER_URL_LINUX64"
"""

CATALOG = """\
version: 1
registries:
  dockerhub: {kind: dockerhub, host: docker.io, namespace: condabot}
images:
  - name: miniconda3
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/debian/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    python: default
    registries: [dockerhub]
    bot: {labels: [dependencies], reviewers: [bob], assignees: [bob], min_release_age: 3d}
"""

SEED = {
    "README.md": b"# images\n",
    "dockerfiles/images.yaml": CATALOG.encode(),
    "dockerfiles/miniconda3/debian/Dockerfile": DOCKERFILE.encode(),
}


@dataclass
class BumpWorld:
    server: GitHubStandin
    mirror: Mirror
    owner: str
    name: str
    workdir: Path
    now: str = NOW

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def clone(self) -> Path:
        return self.workdir / "checkout"

    def bare_path(self) -> Path:
        return self.server.root / "repos" / self.owner / f"{self.name}.git"

    def refresh(self) -> None:
        """A fresh checkout of the base branch, as actions/checkout makes."""
        subprocess.run(["rm", "-rf", str(self.clone)], check=True)
        subprocess.run(
            ["git", "clone", "-q", "--branch", "main", str(self.bare_path()), str(self.clone)],
            check=True,
        )

    def bump(self, *extra: str, token: str = BOT_TOKEN) -> tuple[int, str, str]:
        """One scheduled run of `condabot bump --repo`; returns (exit code, stdout, stderr)."""
        self.refresh()
        out, err = io.StringIO(), io.StringIO()
        with (
            environment({"GITHUB_TOKEN": token}),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main([
                "bump", "--repo", self.full_name,
                "--catalog", str(self.clone / "dockerfiles" / "images.yaml"),
                "--github-api-url", self.server.base_url,
                "--upstream-url", self.mirror.url,
                "--cache-dir", str(self.workdir / "cache"),
                "--now", self.now,
                *extra,
            ])  # fmt: skip
        return code, out.getvalue(), err.getvalue()


def make_world(server: GitHubStandin, mirror: Mirror, workdir: Path, name: str) -> BumpWorld:
    server.create_repo("acme", name, SEED)
    return BumpWorld(server, mirror, "acme", name, workdir)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
