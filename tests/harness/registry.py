"""Fixtures: registries on loopback, moto for ECR auth, the tiny base, a small image repo.

Session scope (started once):
- `moto_ecr`: a moto server on 127.0.0.1 answering `ecr.get_authorization_token`.
- `registries`: three `docker-registry` processes, each with its own storage and port:
  `staging` (no auth; where builds wait), `hub` (htpasswd user + token, playing Docker
  Hub) and `ecr` (htpasswd user `AWS` with the password moto's token decodes to).
- `token_hub`: a registry in Docker Hub's auth mode (`auth: token`, Bearer challenge) with
  its token service (`tests/support/token_server.py`).
- `tiny_base`: the local base images of the small test images, one per platform: arm64
  images are built for real and run under QEMU (`qemu_arm64`, `arm64_base`).

Function scope:
- `release_env`: the environment a release job has (credentials, staging, AWS endpoint,
  fast retries), every registry running again and its access log marked.
- `built_images`: `LocalImages`, the local image names the test made, removed after it.
- `small_repo`: a fresh git repository with one small image, its own registry namespace.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import docker
import pytest
from docker.errors import DockerException

from tests.harness.component import unavailable
from tests.support.registry import (
    DistributionRegistry,
    RegistryUnavailable,
    TokenAuth,
    free_port,
)
from tests.support.release_world import LocalImages, SmallRepo, ensure_tiny_bases
from tests.support.token_server import ISSUER, TokenServer

HUB_USER = "condabot"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


@dataclass
class Registries:
    staging: DistributionRegistry
    hub: DistributionRegistry
    ecr: DistributionRegistry
    hub_token: str

    def all(self) -> tuple[DistributionRegistry, ...]:
        return (self.staging, self.hub, self.ecr)


@pytest.fixture(scope="session")
def moto_ecr() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        unavailable("moto server", str(exc), "pip install 'moto[server,ecr]'")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def ecr_password(endpoint: str) -> str:
    client = boto3.client("ecr", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert user == "AWS"
    return password


@pytest.fixture(scope="session")
def registries(moto_ecr: str) -> Iterator[Registries]:
    hub_token = "dckr_pat_" + secrets.token_hex(12)
    found = Registries(
        DistributionRegistry("staging"),
        DistributionRegistry("hub", (HUB_USER, hub_token)),
        DistributionRegistry("ecr", ("AWS", ecr_password(moto_ecr))),
        hub_token,
    )
    try:
        for registry in found.all():
            registry.start()
    except (RegistryUnavailable, OSError) as exc:
        for registry in found.all():
            registry.close()
        unavailable(
            "distribution registry", str(exc), "apt-get install docker-registry apache2-utils"
        )
    yield found
    for registry in found.all():
        registry.close()


@dataclass
class TokenHub:
    """A registry in Docker Hub's auth mode: Bearer tokens from a token service."""

    registry: DistributionRegistry
    tokens: TokenServer
    user: str
    password: str


@pytest.fixture(scope="session")
def token_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenHub]:
    password = "dckr_pat_" + secrets.token_hex(12)
    tokens = TokenServer(
        tmp_path_factory.mktemp("tokens"), "condabot-test-hub", {HUB_USER: password}
    )
    tokens.start()
    auth = TokenAuth(tokens.realm, tokens.service, ISSUER, tokens.bundle)
    registry = DistributionRegistry("token-hub", token=auth)
    try:
        registry.start()
    except (RegistryUnavailable, OSError) as exc:
        tokens.stop()
        unavailable(
            "distribution registry (token auth)", str(exc), "apt-get install docker-registry"
        )
    yield TokenHub(registry, tokens, HUB_USER, password)
    registry.close()
    tokens.stop()


@pytest.fixture(scope="session")
def tiny_base(docker_client: docker.DockerClient, arm64_base: str) -> str:
    """The tiny bases' name prefix (`-amd64`, `-arm64`): arm64 images build and run here."""
    try:
        return ensure_tiny_bases(docker_client, arm64_base)
    except (DockerException, OSError) as exc:
        unavailable("tiny base images", str(exc), "check that the Docker Engine can build images")


@pytest.fixture
def release_env(
    registries: Registries, moto_ecr: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Registries:
    for registry in registries.all():
        if not registry.running:
            registry.start()
        registry.mark()
    environment = {
        **AWS_ENV,
        "AWS_ENDPOINT_URL": moto_ecr,
        "DOCKERHUB_USERNAME": HUB_USER,
        "DOCKERHUB_TOKEN": registries.hub_token,
        # Each test stages under its own namespace: a staged build of the same revision
        # is reused, on purpose, and tests must not see each other's.
        "CONDABOT_STAGING": f"{registries.staging.host}/staging-{secrets.token_hex(5)}",
        "CONDABOT_HTTP_RETRIES": "2",
        "CONDABOT_HTTP_BACKOFF": "0.05",
        "CONDABOT_REGISTRY_TIMEOUT": "30",
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
        "CONDABOT_BUILDER": "classic",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    for name in ("GITHUB_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_SHA", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return registries


@pytest.fixture
def built_images(
    docker_client: docker.DockerClient, release_env: Registries
) -> Iterator[LocalImages]:
    """Removes, after the test, the local image names its own builds and pushes made: under
    its staging namespace, its repositories' namespaces, or built from a commit of a
    repository it made (`own_repo`). A maintainer's own builds are never touched."""
    owned = LocalImages(prefixes=[f"{os.environ['CONDABOT_STAGING']}/"])
    yield owned
    for name in owned.names(docker_client):
        with contextlib.suppress(DockerException):  # e.g. in use: harmless
            # noprune: the build steps stay in the engine's cache, so a rerun (the arm64
            # build under QEMU above all) builds only what changed.
            docker_client.images.remove(name, noprune=True)


@pytest.fixture
def small_repo(
    release_env: Registries, tiny_base: str, built_images: LocalImages, tmp_path: Path
) -> SmallRepo:
    repo = SmallRepo(
        tmp_path / "repo", release_env.hub.host, release_env.ecr.host, base=tiny_base
    ).init()
    return built_images.own_repo(repo)
