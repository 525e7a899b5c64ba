"""ECR's two special cases: ECR Public's authentication, and tag immutability enforced by
ECR itself.

ECR Public: moto does not implement the `ecr-public` API, so its token call is answered by
a STAND-IN (`tests.support.token_server.EcrPublicStandin`: AWS JSON 1.1,
`GetAuthorizationToken`, base64 `AWS:<password>`), which boto3 reaches through
`AWS_ENDPOINT_URL_ECR_PUBLIC`; the images go to a local distribution registry standing in
for public.ecr.aws, in its auth mode (Bearer tokens from a realm, for user `AWS`).

Immutability: moto (5.2) implements `put_image_tag_mutability`, `create_repository` and
`describe_repositories` with `MUTABLE_WITH_EXCLUSION` and its filters, which is what
`condabot release protect` calls; but moto matches the filters as Python regular
expressions, not ECR's `*` wildcards, so what the filter covers is checked here with ECR's
semantics (`*` is any run of characters) over every tag the planner makes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import boto3
import docker
import pytest

from bot.catalog import Image, load_catalog
from bot.release.pinned import Pinned
from bot.release.plan import make_plan
from bot.release.protect import BUILD_TAG_FILTERS, MUTABILITY
from bot.release.registry import Credentials, RegistryClient
from bot.release.tagname import resolve_tag
from bot.versions import Version
from tests.harness.component import unavailable
from tests.harness.registry import AWS_ENV, Registries
from tests.support.registry import DistributionRegistry, RegistryUnavailable, TokenAuth
from tests.support.release_world import LocalImages, SmallRepo
from tests.support.token_server import ISSUER, EcrPublicStandin, TokenServer
from tests.test_release_publish import condabot, publish, stage

ROOT = Path(__file__).resolve().parents[1]


class PublicEcr:
    def __init__(self, registry: DistributionRegistry, tokens: TokenServer, api: EcrPublicStandin):
        self.registry, self.tokens, self.api = registry, tokens, api


@pytest.fixture(scope="module")
def public_ecr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicEcr]:
    password = "ecr-public-" + secrets.token_hex(16)
    api = EcrPublicStandin(password).start()
    tokens = TokenServer(tmp_path_factory.mktemp("ecr-public"), "public.ecr.aws", {"AWS": password})
    tokens.start()
    registry = DistributionRegistry(
        "ecr-public", token=TokenAuth(tokens.realm, tokens.service, ISSUER, tokens.bundle)
    )
    try:
        registry.start()
    except (RegistryUnavailable, OSError) as exc:
        unavailable(
            "distribution registry (ECR Public stand-in)",
            str(exc),
            "apt-get install docker-registry",
        )
    yield PublicEcr(registry, tokens, api)
    registry.close()
    tokens.stop()
    api.stop()


@pytest.fixture
def public_repo(
    release_env: Registries,
    public_ecr: PublicEcr,
    tiny_base: str,
    built_images: LocalImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> SmallRepo:
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR_PUBLIC", public_ecr.api.url)
    public_ecr.api.refuse = False
    repo = SmallRepo(
        tmp_path / "repo", release_env.hub.host, public_ecr.registry.host, base=tiny_base,
        ecr_kind="ecr-public",
    )  # fmt: skip
    return built_images.own_repo(repo).init()


def test_ecr_public_authenticates_through_its_token_call_and_publishes(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    public_repo: SmallRepo,
    public_ecr: PublicEcr,
) -> None:
    tag = public_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, public_repo, tag)
    before = len(public_ecr.api.calls)
    code, out, err = publish(capsys, public_repo, tag)
    assert code == 0, err
    calls = public_ecr.api.calls[before:]
    assert calls == [{
        "target": "SpencerFrontendService.GetAuthorizationToken",
        "key": AWS_ENV["AWS_ACCESS_KEY_ID"], "region": "us-east-1", "service": "ecr-public",
    }]  # fmt: skip
    assert {user for user, _ in public_ecr.tokens.requests} == {"AWS"}
    assert public_ecr.api.password not in out + err
    target = next(t for t in plan.images[0].targets if t.kind == "ecr-public")
    reader = RegistryClient(public_ecr.registry.host, Credentials("AWS", public_ecr.api.password))
    digests = {reader.manifest_digest(target.repository, t.name) for t in plan.images[0].all_tags}
    assert len(digests) == 1 and None not in digests


def test_a_refused_ecr_public_token_stops_the_publish_before_any_write(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    public_repo: SmallRepo,
    public_ecr: PublicEcr,
    release_env: Registries,
) -> None:
    tag = public_repo.release("26.5.3-1")
    stage(capsys, docker_client, public_repo, tag)
    public_ecr.api.refuse = True
    for registry in (release_env.hub, public_ecr.registry):
        registry.mark()
    code, _, err = publish(capsys, public_repo, tag)
    assert code == 15, err
    assert "ecr-public.get_authorization_token failed" in err and "AccessDenied" in err
    assert "ecr-public:GetAuthorizationToken" in err or "ecr:GetAuthorizationToken" in err
    for registry in (release_env.hub, public_ecr.registry):
        assert [a for a in registry.accesses() if a.method in ("PUT", "PATCH", "POST")] == []


# -- ECR enforces that build tags never move ------------------------------------------------


def ecr_client(endpoint: str) -> boto3.client:
    return boto3.client("ecr", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def setting(endpoint: str, repository: str) -> tuple[str, list[dict[str, str]]]:
    found = ecr_client(endpoint).describe_repositories(repositoryNames=[repository])
    repo = found["repositories"][0]
    return repo["imageTagMutability"], repo.get("imageTagMutabilityExclusionFilters", [])


def test_protect_makes_ecr_keep_build_tags_immutable_once(
    capsys: pytest.CaptureFixture[str], small_repo: SmallRepo, moto_ecr: str
) -> None:
    tag = small_repo.release("26.5.3-1")
    repository = f"{small_repo.namespace}/small"
    argv = ("release", "protect", "--root", str(small_repo.root), "--tag", tag)
    code, out, err = condabot(capsys, *argv)
    assert code == 0, err
    assert f"{small_repo.ecr}/{repository}: created with {MUTABILITY}" in out
    assert setting(moto_ecr, repository) == (MUTABILITY, [dict(f) for f in BUILD_TAG_FILTERS])
    code, out, err = condabot(capsys, *argv)
    assert code == 0 and "build tags already immutable" in out
    # A repository someone made all-immutable would refuse every version and floating
    # tag's move: it is set to the rule, and the output says what it was.
    ecr_client(moto_ecr).put_image_tag_mutability(
        repositoryName=repository, imageTagMutability="IMMUTABLE"
    )
    code, out, err = condabot(capsys, *argv)
    assert code == 0 and f"IMMUTABLE -> {MUTABILITY}" in out
    assert setting(moto_ecr, repository)[0] == MUTABILITY


def ecr_wildcard(pattern: str) -> re.Pattern[str]:
    """ECR's filter semantics: `*` matches any run of characters, everything else itself."""
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\Z")


def flavour(image: Image, default: str | None) -> str | None:
    if image.product.value == "anaconda3":
        return None
    return default if image.follows_default else image.python


def test_the_filter_covers_exactly_the_build_tags_of_the_whole_catalog() -> None:
    catalog = load_catalog(ROOT / "dockerfiles/images.yaml")
    (pattern,) = [ecr_wildcard(f["filter"]) for f in BUILD_TAG_FILTERS]
    seen: list[str] = []
    checked = 0
    for tag, default in (("miniconda3-26.5.3-1", "py314"), ("miniconda3-26.5.3-1_build2", "py314"),
                         ("anaconda3-2025.06-0", None), ("miniconda2-4.8.3", None)):  # fmt: skip
        version = Version.parse(re.sub(r"^[a-z0-9-]*?-(?=\d)|_build\d+$", "", tag))
        pinned = {i.name: Pinned(i.name, version, flavour(i, default), i.pin_file)
                  for i in catalog.images}  # fmt: skip
        plan = make_plan(
            catalog,
            resolve_tag(tag, catalog),
            pinned,
            tuple(seen),
            "0" * 40,
            "2026-10-01T00:00:00Z",
            "x",
        )
        seen.append(tag)
        for image in plan.images:
            assert image.build_tags
            for built in image.build_tags:
                assert pattern.match(built.name), built.name
                checked += 1
            for other in image.tags:
                assert not pattern.match(other.name), other.name
                checked += 1
    assert checked > 100
