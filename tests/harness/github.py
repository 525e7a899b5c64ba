"""Fixtures: the GitHub REST stand-in (one per session), a fresh repository per test,
and GitHub's OpenAPI description for conformance checks.

Tokens known to the stand-in: ``bot-token`` -> ``condabot[bot]`` (a Bot: ``GET /user``
answers 403 as for an installation token), ``human-token`` -> ``alice``,
``maintainer-token`` -> ``bob``. Seed files of a test's repository with
``@pytest.mark.github_repo(files={...}, default_branch="main", owner="acme")``.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from github import Auth, Github
from github.Repository import Repository

from tests.harness.component import unavailable
from tests.support.github_standin import GitHubStandin
from tests.support.github_standin.fetch_openapi import description_path, graphql_schema_path
from tests.support.github_standin.openapi import FETCH_COMMAND, OpenAPIDescription

BOT_TOKEN = "bot-token"
HUMAN_TOKEN = "human-token"
MAINTAINER_TOKEN = "maintainer-token"

# A Dockerfile in the format of Anaconda's own images repository (ContinuumIO/docker-images).
SEED_DOCKERFILE = b"""\
FROM debian:bookworm-slim

# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_LINUX64="https://repo.anaconda.com/miniconda/Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
ARG SHA256SUM_LINUX64="634d76df5e489c44ade4085552b97bebc786d49245ed1a830022b0b406de5817"
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_AARCH64="https://repo.anaconda.com/miniconda/Miniconda3-py311_23.5.2-0-Linux-aarch64.sh"
ARG SHA256SUM_AARCH64="3962738cfac270ae4ff30da0e382aecf6b3305a12064b196457747b157749a7a"
"""
SEED_FILES: dict[str, bytes] = {
    "README.md": b"# images\n",
    "dockerfiles/miniconda3/debian/Dockerfile": SEED_DOCKERFILE,
}
_MIN_GIT = (2, 38)  # git merge-tree --write-tree
_names = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "github_repo(files=None, default_branch='main', owner='acme'): seed the test's GitHub repository",
    )


@dataclass(frozen=True)
class GitHubRepo:
    """A repository on the stand-in, made for one test."""

    owner: str
    name: str
    server: GitHubStandin
    base_url: str
    default_branch: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def client(self, token: str = BOT_TOKEN, **options: Any) -> Github:
        """PyGithub on the stand-in: no throttling, no retries unless ``options`` say so."""
        settings: dict[str, Any] = {
            "seconds_between_requests": 0,
            "seconds_between_writes": 0,
            "retry": None,
            "timeout": 10,
            **options,
        }
        return Github(base_url=self.base_url, auth=Auth.Token(token), **settings)

    def pygithub(self, token: str = BOT_TOKEN, **options: Any) -> Repository:
        return self.client(token, **options).get_repo(self.full_name)

    def read_file(self, path: str, ref: str | None = None) -> bytes:
        return self.server.read_file(self.owner, self.name, ref or self.default_branch, path)

    def files(self, ref: str | None = None) -> dict[str, bytes]:
        return self.server.files(self.owner, self.name, ref or self.default_branch)

    def push_commit(
        self,
        branch: str,
        files: Mapping[str, bytes | None],
        author_login: str = "alice",
        message: str = "Edit by hand",
        *,
        start_from: str | None = None,
    ) -> str:
        return self.server.push_commit(
            self.owner, self.name, branch, files, author_login, message, start_from=start_from
        )

    def ref_sha(self, ref: str) -> str | None:
        return self.server.ref_sha(self.owner, self.name, ref)


def _git_problem() -> str | None:
    git = shutil.which("git")
    if git is None:
        return "git is not installed"
    out = subprocess.run([git, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"(\d+)\.(\d+)", out)
    if m is None or (int(m[1]), int(m[2])) < _MIN_GIT:
        return f"git 2.38 or newer is needed for merge-tree --write-tree, found {out.strip()!r}"
    return None


@pytest.fixture(scope="session")
def github_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubStandin]:
    """The GitHub stand-in on 127.0.0.1 (ephemeral port), shared by the session."""
    problem = _git_problem()
    if problem is not None:
        unavailable("GitHub stand-in", problem, "apt-get install git (Debian 12 ships 2.39)")
    if not graphql_schema_path().is_file():
        # The bot moves refs through GraphQL (compare-and-swap); the stand-in validates
        # every query against GitHub's schema and cannot answer without it.
        unavailable(
            "GitHub stand-in", f"{graphql_schema_path()} is missing", f"run: {FETCH_COMMAND}"
        )
    server = GitHubStandin(tmp_path_factory.mktemp("github-standin"))
    try:
        server.start()
    except OSError as exc:
        unavailable("GitHub stand-in", str(exc), "check that 127.0.0.1 accepts listeners")
    yield server
    server.stop()


@pytest.fixture
def github_repo(github_server: GitHubStandin, request: pytest.FixtureRequest) -> GitHubRepo:
    """A fresh repository seeded with one commit; traffic (log, faults, rate limits) reset."""
    marker = request.node.get_closest_marker("github_repo")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    files = options.get("files") or SEED_FILES
    branch = options.get("default_branch", "main")
    owner = options.get("owner", "acme")
    name = f"images-{next(_names)}"
    github_server.reset_traffic()
    github_server.create_repo(owner, name, files, branch)
    return GitHubRepo(owner, name, github_server, github_server.base_url, branch)


@pytest.fixture(scope="session")
def github_openapi() -> OpenAPIDescription:
    """GitHub's OpenAPI description (npm @octokit/openapi, pinned), loaded once."""
    path = description_path()
    if not path.is_file():
        unavailable("GitHub's OpenAPI description", f"{path} is missing", f"run: {FETCH_COMMAND}")
    return OpenAPIDescription.load(path)
