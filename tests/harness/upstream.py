"""Fixture: the loopback upstream mirror, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.http.origins import forget_credentials
from tests.harness.component import unavailable
from tests.support.mirror import Mirror
from tests.support.upstream_data import current_documents, publish_upstream


@pytest.fixture(scope="session")
def mirror_server() -> Iterator[Mirror]:
    mirror = Mirror()
    try:
        mirror.start()
    except OSError as exc:
        unavailable("upstream mirror", str(exc), "check that 127.0.0.1 accepts listeners")
    yield mirror
    mirror.stop()


@pytest.fixture
def mirror(mirror_server: Mirror) -> Mirror:
    """The mirror, reset to the current dataset (2023 fixtures plus synthetic newer releases)."""
    forget_credentials()  # a credentialed URL of an earlier test must not reach this one
    mirror_server.reset()
    publish_upstream(mirror_server, current_documents())
    return mirror_server


@pytest.fixture(params=[True, False], ids=["etag-and-last-modified", "last-modified-only"])
def either_mirror(request: pytest.FixtureRequest, mirror_server: Mirror) -> Mirror:
    """The mirror as a CDN (ETag and Last-Modified), then as a plain static server
    (Last-Modified only, like many corporate mirrors)."""
    forget_credentials()
    mirror_server.reset(etags=request.param)
    publish_upstream(mirror_server, current_documents())
    return mirror_server
