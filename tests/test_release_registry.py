"""The OCI distribution client: auth challenges (Basic, Bearer with token expiry), mounts,
and which failures are retried. Real registries on loopback; faults from the loopback
mirror (`tests/support/mirror.py`), which answers what it is told and counts requests, and
from a proxy that loses a real registry's answers (`tests/support/fault_proxy.py`)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest

from bot.errors import AuthError, PublishError
from bot.release.registry import (
    OCI_MANIFEST,
    Credentials,
    Manifest,
    RegistryClient,
    sha256_digest,
)
from bot.retry import Policy
from tests.harness.registry import Registries, TokenHub
from tests.support.fault_proxy import FaultProxy
from tests.support.mirror import Fault, Mirror
from tests.support.registry import free_port

FAST = Policy(retries=2, backoff=0.01)


def put_blob(client: RegistryClient, repo: str, data: bytes) -> str:
    """The blob's digest, uploaded as publish does: only if the repository lacks it."""
    digest = sha256_digest(data)
    if not client.has_blob(repo, digest):
        client.upload_blob(repo, digest, len(data), lambda: iter([data[:7], data[7:]]))
    return digest


def image_manifest(client: RegistryClient, repo: str, payload: bytes) -> Manifest:
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": put_blob(client, repo, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": put_blob(client, repo, payload),
                "size": len(payload),
            }
        ],
    }
    return Manifest(OCI_MANIFEST, json.dumps(document).encode())


# -- Docker Hub's auth: Bearer tokens --------------------------------------------------------


def test_bearer_tokens_are_fetched_per_scope_and_reused(token_hub: TokenHub) -> None:
    client = RegistryClient(
        token_hub.registry.host, Credentials(token_hub.user, token_hub.password), policy=FAST
    )
    before = len(token_hub.tokens.requests)
    manifest = image_manifest(client, "acme/one", b"layer bytes" * 100)
    assert client.put_manifest("acme/one", "v1", manifest) == manifest.digest
    assert client.manifest_digest("acme/one", "v1") == manifest.digest
    requests = token_hub.tokens.requests[before:]
    assert {user for user, _ in requests} == {token_hub.user}
    scopes = {scope for _, scope in requests}
    assert ("repository:acme/one:pull,push",) in scopes
    assert len(requests) <= 3  # once per scope, not per request


def test_a_blob_of_another_repository_is_mounted_not_uploaded(token_hub: TokenHub) -> None:
    client = RegistryClient(
        token_hub.registry.host, Credentials(token_hub.user, token_hub.password), policy=FAST
    )
    digest = put_blob(client, "acme/source", b"shared layer" * 1000)
    token_hub.registry.mark()
    assert client.mount_blob("acme/target", digest, "acme/source")
    assert client.has_blob("acme/target", digest)
    assert token_hub.registry.blob_uploads() == []
    assert len(token_hub.registry.mounts()) == 1
    assert client.stats.bytes_uploaded == len(b"shared layer" * 1000)


def test_a_token_is_renewed_before_it_expires(token_hub: TokenHub) -> None:
    token_hub.tokens.lifetime = 2
    try:
        client = RegistryClient(
            token_hub.registry.host, Credentials(token_hub.user, token_hub.password), policy=FAST
        )
        put_blob(client, "acme/expiry", b"first")
        before = len(token_hub.tokens.requests)
        put_blob(client, "acme/expiry", b"second")
        assert len(token_hub.tokens.requests) == before  # still fresh: reused
        time.sleep(1.1)
        put_blob(client, "acme/expiry", b"third")
        assert len(token_hub.tokens.requests) > before
    finally:
        token_hub.tokens.lifetime = 300


def test_a_token_the_registry_refuses_is_fetched_again_once(token_hub: TokenHub) -> None:
    client = RegistryClient(
        token_hub.registry.host, Credentials(token_hub.user, token_hub.password), policy=FAST
    )
    put_blob(client, "acme/revoked", b"first")
    scope = ("repository:acme/revoked:pull",)
    client._tokens[scope] = ("revoked-by-the-registry", time.monotonic() + 300)
    assert client.has_blob("acme/revoked", sha256_digest(b"first"))


def test_a_wrong_token_is_an_auth_error_that_never_shows_the_token(token_hub: TokenHub) -> None:
    client = RegistryClient(
        token_hub.registry.host, Credentials(token_hub.user, "dckr_pat_wrong1234")
    )
    with pytest.raises(AuthError) as caught:
        put_blob(client, "acme/denied", b"x")
    assert caught.value.exit_code == 15
    assert f"refused the credentials of user '{token_hub.user}'" in caught.value.message
    assert "dckr_pat_wrong1234" not in caught.value.message


def test_anonymous_push_is_refused_with_a_hint(token_hub: TokenHub) -> None:
    with pytest.raises(AuthError, match="requires credentials and none were found"):
        put_blob(RegistryClient(token_hub.registry.host, policy=FAST), "acme/anonymous", b"x")


def test_basic_auth_registry(release_env: Registries) -> None:
    user, password = release_env.ecr.auth or ("", "")
    client = RegistryClient(release_env.ecr.host, Credentials(user, password), policy=FAST)
    manifest = image_manifest(client, "acme/basic", b"basic" * 10)
    assert client.put_manifest("acme/basic", "v1", manifest) == manifest.digest
    with pytest.raises(AuthError):
        RegistryClient(release_env.ecr.host, Credentials(user, "wrong"), policy=FAST).ping()


# -- which failures are retried --------------------------------------------------------------


@pytest.fixture
def fake(mirror_server: Mirror) -> Iterator[tuple[Mirror, RegistryClient]]:
    mirror_server.reset()
    host = mirror_server.url.removeprefix("http://")
    body = b'{"schemaVersion":2,"mediaType":"%s"}' % OCI_MANIFEST.encode()
    mirror_server.publish("/v2/acme/app/manifests/v1", body, OCI_MANIFEST)
    yield mirror_server, RegistryClient(host, policy=FAST)
    mirror_server.reset()


PATH = "/v2/acme/app/manifests/v1"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(fake: tuple[Mirror, RegistryClient], status: int) -> None:
    mirror, client = fake
    mirror.inject(Fault(PATH, status, headers=(("Retry-After", "0"),)), times=2)
    assert client.manifest_digest("acme/app", "v1") is not None
    assert len(mirror.requests(PATH)) >= 3  # two faults, then the answer


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, PublishError), (403, AuthError), (401, AuthError)],
)
def test_client_errors_are_never_retried(
    fake: tuple[Mirror, RegistryClient], status: int, error: type[Exception]
) -> None:
    mirror, client = fake
    mirror.inject(Fault(PATH, status, body=b'{"errors":[{"code":"X","message":"no"}]}'), times=5)
    with pytest.raises(error):
        client.get_manifest("acme/app", "v1")
    assert len(mirror.requests(PATH)) == 1


def test_not_found_is_an_answer_not_a_failure(fake: tuple[Mirror, RegistryClient]) -> None:
    mirror, client = fake
    assert client.get_manifest("acme/app", "missing") is None
    assert len(mirror.requests("/v2/acme/app/manifests/missing")) == 1


def test_an_unreachable_registry_fails_after_every_retry() -> None:
    client = RegistryClient(f"127.0.0.1:{free_port()}", policy=FAST)
    with pytest.raises(PublishError, match="failed after 3 attempts"):
        client.manifest_digest("acme/app", "v1")


def test_a_retry_after_longer_than_the_policy_waits_is_not_slept(
    fake: tuple[Mirror, RegistryClient],
) -> None:
    mirror, client = fake
    mirror.inject(Fault(PATH, 503, headers=(("Retry-After", "3600"),)), times=5)
    started = time.monotonic()
    with pytest.raises(PublishError, match="HTTP 503") as caught:
        client.get_manifest("acme/app", "v1")
    assert time.monotonic() - started < 5
    assert "asks to wait 3600 s" in caught.value.hint
    assert len(mirror.requests(PATH)) == 1


def test_an_upload_whose_patch_fails_restarts_from_its_post(release_env: Registries) -> None:
    data = os.urandom(4096)
    with FaultProxy(release_env.staging.host, lose={"PATCH": 1}) as proxy:
        client = RegistryClient(proxy.host, policy=FAST)
        digest = put_blob(client, "acme/restarted", data)
    # The first HEAD is publish's; after the failure the client asks again, then uploads anew.
    assert proxy.seen == ["HEAD", "POST", "PATCH", "HEAD", "POST", "PATCH", "PUT"]
    assert client.stats.blob_uploads == 1
    assert RegistryClient(release_env.staging.host).get_blob("acme/restarted", digest) == data


def test_an_upload_stored_before_its_answer_was_lost_is_not_sent_again(
    release_env: Registries,
) -> None:
    data = os.urandom(4096)
    with FaultProxy(release_env.staging.host, lose={"PUT": 1}) as proxy:
        client = RegistryClient(proxy.host, policy=FAST)
        digest = put_blob(client, "acme/stored", data)
    assert proxy.seen == ["HEAD", "POST", "PATCH", "PUT", "HEAD"]
    assert client.stats.bytes_uploaded == len(data)
    assert RegistryClient(release_env.staging.host).get_blob("acme/stored", digest) == data
