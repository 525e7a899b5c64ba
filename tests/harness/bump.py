"""Fixture: a bump world (a repository on the GitHub stand-in, its checkout, the upstream
mirror), fresh for each test that runs `condabot bump --repo`."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.support.bump_world import BumpWorld, make_world
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror

_names = itertools.count(1)


@pytest.fixture
def world(github_server: GitHubStandin, mirror: Mirror, tmp_path: Path) -> BumpWorld:
    github_server.reset_traffic()
    return make_world(github_server, mirror, tmp_path, f"world-{next(_names)}")
