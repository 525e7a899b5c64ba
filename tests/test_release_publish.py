"""Release build -> publish -> verify against real registries on loopback.

Components: the Docker Engine (classic builder), three `docker-registry` processes
(staging; an htpasswd "Docker Hub"; an "ECR" whose password is the one moto's
`get_authorization_token` returns), moto on 127.0.0.1, and the GitHub stand-in for the
release body. Counts are read from each registry's own access log.

Both platforms are built for real by `condabot release build`, as the build jobs do: the
arm64 image from an arm64 base, smoke-tested under QEMU user emulation (`qemu_arm64`).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

import docker
import pytest

from bot.cli import main
from bot.errors import PublishError
from bot.release.build import ClassicEngine, requests_for
from bot.release.context import Options, gather
from bot.release.plan import ReleasePlan
from bot.release.referrers import discover
from bot.release.registry import Credentials, Manifest, RegistryClient
from bot.release.report import BEGIN
from bot.release.staging import Staging
from tests.harness.docker import local_names
from tests.harness.github import BOT_TOKEN, MAINTAINER_TOKEN, GitHubRepo
from tests.harness.registry import HUB_USER, Registries, TokenHub
from tests.support.registry import Access, DistributionRegistry
from tests.support.release_world import SHA, LocalImages, SmallRepo

Run = tuple[int, str, str]


def condabot(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def build_cell(capsys: pytest.CaptureFixture[str], repo: SmallRepo, tag: str, platform: str) -> Run:
    return condabot(
        capsys, "release", "build", "--root", str(repo.root), "--tag", tag, "--platform", platform
    )


def build_amd64(capsys: pytest.CaptureFixture[str], repo: SmallRepo, tag: str) -> Run:
    return build_cell(capsys, repo, tag, "linux/amd64")


def stage(
    capsys: pytest.CaptureFixture[str], client: docker.DockerClient, repo: SmallRepo, tag: str
) -> ReleasePlan:
    """Run the build job of every platform for real: amd64 natively, arm64 under QEMU."""
    for platform in ("linux/amd64", "linux/arm64"):
        code, _, err = build_cell(capsys, repo, tag, platform)
        assert code == 0, err
    return gather(Options(tag=tag, root=repo.root)).plan


def publish(capsys: pytest.CaptureFixture[str], repo: SmallRepo, tag: str, *extra: str) -> Run:
    return condabot(capsys, "release", "publish", "--root", str(repo.root), "--tag", tag, *extra)


def clients(env: Registries) -> dict[str, tuple[DistributionRegistry, RegistryClient]]:
    ecr_user, ecr_password = env.ecr.auth or ("", "")
    return {
        "hub": (env.hub, RegistryClient(env.hub.host, Credentials(HUB_USER, env.hub_token))),
        "ecr": (env.ecr, RegistryClient(env.ecr.host, Credentials(ecr_user, ecr_password))),
    }


def index_digest(plan: ReleasePlan, env: Registries) -> str:
    image = plan.images[0]
    _, hub = clients(env)["hub"]
    digest = hub.manifest_digest(image.targets[0].repository, image.tags[0].name)
    assert digest is not None
    return digest


def uploaded(accesses: Iterable[Access]) -> list[str]:
    """Digests of the blobs whose upload the registry committed."""
    return [re.sub(r".*digest=", "", a.path) for a in accesses if a.is_blob_upload]


def tag_writes(accesses: Iterable[Access]) -> list[str]:
    """The release tags written (not manifests by digest, not referrers tag schema indexes)."""
    return [
        name
        for a in accesses
        if a.is_manifest_write and not (name := a.path.rsplit("/", 1)[1]).startswith("sha256")
    ]


def referrer_index_writes(accesses: Iterable[Access]) -> list[str]:
    return [
        name
        for a in accesses
        if a.is_manifest_write and (name := a.path.rsplit("/", 1)[1]).startswith("sha256-")
    ]


def test_publish_makes_one_verified_multi_arch_index_in_every_registry(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    tag = small_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, small_repo, tag)
    release_env.hub.mark()
    release_env.ecr.mark()
    code, out, err = publish(capsys, small_repo, tag)
    assert code == 0, err
    image = plan.images[0]
    names = [t.name for t in image.all_tags]
    assert names == [
        "26.5.3-1_build1", "py314_26.5.3-1_build1",
        "26.5.3-1", "py314_26.5.3-1", "26.5.3", "26.5", "26", "py314", "latest",
    ]  # fmt: skip
    digest = index_digest(plan, release_env)
    for name, (server, client) in clients(release_env).items():
        repository = next(t.repository for t in image.targets if t.registry == name)
        assert {client.manifest_digest(repository, n) for n in names} == {digest}, name
        index = client.get_manifest(repository, digest)
        assert index is not None and index.media_type == "application/vnd.oci.image.index.v1+json"
        platforms = [m["platform"]["architecture"] for m in index.children()]
        assert platforms == ["amd64", "arm64"]
        # Each platform records the installer it was built from: what version tags move by.
        assert {m["annotations"]["io.condabot.installer.sha256"] for m in index.children()} == {SHA}
        assert index.document["annotations"]["org.opencontainers.image.version"] == "26.5.3-1"
        # RegistryClient side: N tags cost N manifest writes; every blob went up once.
        accesses = server.accesses()
        assert sorted(tag_writes(accesses)) == sorted(names)
        assert len(referrer_index_writes(accesses)) == 2  # one per platform image
        blobs = uploaded(accesses)
        assert len(blobs) == len(set(blobs)) > 0
    assert f"small -> {release_env.hub.host}" in out
    # Each platform image carries its SBOM in every registry, found through the tag schema.
    sboms = {}
    for name, (_server, client) in clients(release_env).items():
        repository = next(t.repository for t in image.targets if t.registry == name)
        index = client.get_manifest(repository, digest)
        assert index is not None
        for entry in index.children():
            attached = discover(
                client, repository, entry["digest"], "application/vnd.cyclonedx+json"
            )
            assert len(attached) == 1, (name, entry["platform"])
            artifact = client.get_manifest(repository, attached[0]["digest"])
            assert artifact is not None
            assert artifact.document["subject"]["digest"] == entry["digest"]
            payload = json.loads(
                client.get_blob(repository, artifact.document["layers"][0]["digest"])
            )
            arch = entry["platform"]["architecture"]
            purls = {c["name"]: c.get("purl", "") for c in payload["components"]}
            subdir = {"amd64": "linux-64", "arm64": "linux-aarch64"}[arch]
            assert purls["python"].startswith("pkg:conda/python@3.14.1?build=")
            assert f"subdir={subdir}" in purls["python"] and "channel=main" in purls["python"]
            assert payload["metadata"]["component"]["purl"].endswith(f"?arch={arch}")
            sboms.setdefault(arch, set()).add(artifact.digest)
    assert all(len(digests) == 1 for digests in sboms.values())  # copied by digest
    summary = Path(os.environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert f"Index `{digest}`" in summary
    assert "`linux/amd64`" in summary and "`linux/arm64`" in summary
    assert summary.count("✓") == 2 * len(names) and "✗" not in summary
    for arch, digests in sboms.items():
        (sbom_digest,) = digests
        assert f"- `linux/{arch}`: `{sbom_digest}`" in summary
        hub_repository = image.targets[0].repository
        assert f"oras pull {release_env.hub.host}/{hub_repository}@{sbom_digest}" in summary


def test_an_identical_second_publish_uploads_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    tag = small_repo.release("26.5.3-1")
    stage(capsys, docker_client, small_repo, tag)
    assert publish(capsys, small_repo, tag)[0] == 0
    for server in (release_env.hub, release_env.ecr):
        server.mark()
    started = time.monotonic()
    code, out, err = publish(capsys, small_repo, tag)
    elapsed = time.monotonic() - started
    assert code == 0, err
    assert elapsed < 5, elapsed
    for server in (release_env.hub, release_env.ecr):
        writes = [a for a in server.accesses() if a.method in ("PUT", "PATCH", "POST")]
        assert writes == [], server.name
    assert "0 tag(s) written, 9 already right" in out


def test_a_registry_killed_mid_publish_converges_on_rerun_uploading_nothing_twice(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    tag = small_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, small_repo, tag)
    hub = release_env.hub
    hub.mark()
    hub.kill_after("blob_upload", 2).join(0)
    code, _, err = publish(capsys, small_repo, tag)
    assert code == 11, err
    assert "hub (127.0.0.1:" in err and "rerun" in err
    first = hub.accesses()
    assert len(uploaded(first)) >= 2
    assert tag_writes(first) == []  # content first, tags last: no tag moved
    hub.start()
    hub.mark()
    code, _, err = publish(capsys, small_repo, tag)
    assert code == 0, err
    second = hub.accesses()
    assert not set(uploaded(first)) & set(uploaded(second))
    assert sorted(tag_writes(second)) == sorted(t.name for t in plan.images[0].all_tags)


def test_a_registry_killed_while_tagging_converges_writing_each_tag_once(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    tag = small_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, small_repo, tag)
    ecr = release_env.ecr
    ecr.mark()
    # 2 platform manifests, 2 SBOMs and their 2 referrers indexes, then 1 tag of 9
    ecr.kill_after("manifest_write", 7).join(0)
    code, _, err = publish(capsys, small_repo, tag)
    assert code == 11, err
    first = tag_writes(ecr.accesses())
    ecr.start()
    ecr.mark()
    assert publish(capsys, small_repo, tag)[0] == 0
    second = tag_writes(ecr.accesses())
    names = [t.name for t in plan.images[0].all_tags]
    assert first and second  # it did die half-way through the tags
    # A write the registry committed as it died may be missing from its log: fewer, not more.
    assert not set(first) & set(second)
    assert len(first) + len(second) <= len(names)
    assert uploaded(ecr.accesses()) == []
    _, client = clients(release_env)["ecr"]
    repository = plan.images[0].targets[1].repository
    assert {client.manifest_digest(repository, n) for n in names} == {
        index_digest(plan, release_env)
    }


def move_tag(env: Registries, plan: ReleasePlan, tags: Iterable[str], *, created: str) -> str:
    """Point `tags` in the "Docker Hub" at a copy of the published index that differs only
    in its created annotation (same platform images, same installer records)."""
    _, hub = clients(env)["hub"]
    repository = plan.images[0].targets[0].repository
    index = hub.get_manifest(repository, index_digest(plan, env))
    assert index is not None
    other = json.loads(index.body)
    other["annotations"]["org.opencontainers.image.created"] = created
    moved = Manifest(index.media_type, json.dumps(other).encode())
    for name in tags:
        hub.put_manifest(repository, name, moved)
    return moved.digest


def writes(registry: DistributionRegistry) -> list[Access]:
    return [a for a in registry.accesses() if a.method in ("PUT", "PATCH", "POST")]


def test_a_build_tag_pointing_elsewhere_stops_before_anything_is_written(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    tag = small_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, small_repo, tag)
    assert publish(capsys, small_repo, tag)[0] == 0
    planned = index_digest(plan, release_env)
    elsewhere = move_tag(
        release_env, plan, ["26.5.3-1_build1", "latest"], created="2020-01-01T00:00:00Z"
    )
    for registry in release_env.all():
        registry.mark()
    code, _, err = publish(capsys, small_repo, tag)
    assert code == 12, err
    assert elsewhere in err and planned in err and "--force" in err
    assert "a build tag never moves" in err
    for registry in release_env.all():
        assert writes(registry) == []
    code, _out, err = publish(capsys, small_repo, tag, "--force")
    assert code == 0, err
    _, hub = clients(release_env)["hub"]
    repository = plan.images[0].targets[0].repository
    assert hub.manifest_digest(repository, "26.5.3-1_build1") == planned
    assert hub.manifest_digest(repository, "latest") == planned
    assert sorted(tag_writes(release_env.hub.accesses())) == ["26.5.3-1_build1", "latest"]


def test_a_rebuild_with_a_newer_base_moves_the_version_tags_without_force(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    first = small_repo.release("26.5.3-1")
    first_plan = stage(capsys, docker_client, small_repo, first)
    assert publish(capsys, small_repo, first)[0] == 0
    old = index_digest(first_plan, release_env)
    # A base image security update: new content, byte-identical installers.
    rebuild = small_repo.release("26.5.3-1", build=2, base_update="debian 13.3, openssl fix")
    assert rebuild == "small-26.5.3-1_build2"
    plan = stage(capsys, docker_client, small_repo, rebuild)
    code, _, err = publish(capsys, small_repo, rebuild)
    assert code == 0, err
    _, hub = clients(release_env)["hub"]
    repository = plan.images[0].targets[0].repository
    new = hub.manifest_digest(repository, "26.5.3-1_build2")
    assert new is not None and new != old
    for name in ("26.5.3-1", "py314_26.5.3-1", "latest", "26", "py314"):
        assert hub.manifest_digest(repository, name) == new, name
    for name in ("26.5.3-1_build1", "py314_26.5.3-1_build1"):
        assert hub.manifest_digest(repository, name) == old, name  # a build tag stays
    # Rerunning the first build now moves nothing back.
    code, out, err = publish(capsys, small_repo, first)
    assert code == 0, err
    assert "0 tag(s) written, 2 already right" in out
    assert hub.manifest_digest(repository, "26.5.3-1") == new


def test_a_version_tag_never_moves_to_other_installers(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    first = small_repo.release("26.5.3-1")
    first_plan = stage(capsys, docker_client, small_repo, first)
    assert publish(capsys, small_repo, first)[0] == 0
    old = index_digest(first_plan, release_env)
    # Upstream replaced the installer's bytes under the same version: not a rebuild.
    rebuild = small_repo.release("26.5.3-1", build=2, sha="1" * 64)
    stage(capsys, docker_client, small_repo, rebuild)
    for registry in release_env.all():
        registry.mark()
    code, _, err = publish(capsys, small_repo, rebuild)
    assert code == 12, err
    assert f"26.5.3-1 -> {old}" in err
    assert "a version tag moves only to the same installers" in err
    assert "linux/amd64: 000000000000 vs 111111111111" in err
    for registry in release_env.all():
        assert writes(registry) == []


def test_verify_advises_what_publish_will_do(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    tag = small_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, small_repo, tag)
    assert publish(capsys, small_repo, tag)[0] == 0
    verify = ("release", "verify", "--root", str(small_repo.root), "--tag", tag)
    assert condabot(capsys, *verify)[0] == 0
    # A floating tag moved: publish puts it back by itself, and verify says so.
    move_tag(release_env, plan, ["26"], created="2020-01-01T00:00:00Z")
    code, _, err = condabot(capsys, *verify)
    assert code == 13 and ":26 -> " in err
    assert "rerun `condabot release publish` (it rewrites" in err and "--force" not in err
    assert publish(capsys, small_repo, tag)[0] == 0
    assert condabot(capsys, *verify)[0] == 0
    # A build tag moved: publish refuses without --force, and verify says --force.
    move_tag(release_env, plan, ["26.5.3-1_build1"], created="2020-01-01T00:00:00Z")
    code, _, err = condabot(capsys, *verify)
    assert code == 13 and ":26.5.3-1_build1 -> " in err
    assert "rerun `condabot release publish --force`" in err
    assert publish(capsys, small_repo, tag)[0] == 12
    assert publish(capsys, small_repo, tag, "--force")[0] == 0
    assert condabot(capsys, *verify)[0] == 0


def test_a_prerelease_publishes_only_immutable_tags_and_the_release_the_rest(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    tag = small_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, small_repo, tag)
    code, _out, err = publish(capsys, small_repo, tag, "--prerelease")
    assert code == 0, err
    _, hub = clients(release_env)["hub"]
    repository = plan.images[0].targets[0].repository
    immutable = ["26.5.3-1_build1", "py314_26.5.3-1_build1", "26.5.3-1", "py314_26.5.3-1"]
    assert sorted(tag_writes(release_env.hub.accesses())) == sorted(immutable)
    for floating in ("latest", "26", "26.5", "26.5.3", "py314"):
        assert hub.manifest_digest(repository, floating) is None, floating
    summary = Path(os.environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert "Prerelease: only build and version tags were written" in summary
    # The release itself (the prerelease made a release): the floating tags, nothing else.
    release_env.hub.mark()
    code, _out, err = publish(capsys, small_repo, tag)
    assert code == 0, err
    assert uploaded(release_env.hub.accesses()) == []
    assert sorted(tag_writes(release_env.hub.accesses())) == [
        "26", "26.5", "26.5.3", "latest", "py314",
    ]  # fmt: skip


def test_a_missing_platform_makes_no_index_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], small_repo: SmallRepo, release_env: Registries
) -> None:
    tag = small_repo.release("26.5.3-1")
    code, _, err = build_amd64(capsys, small_repo, tag)
    assert code == 0, err
    for registry in (release_env.hub, release_env.ecr):
        registry.mark()
    code, _, err = publish(capsys, small_repo, tag)
    assert code == 11
    assert "not staged, so no index was made" in err and "-arm64" in err
    for registry in (release_env.hub, release_env.ecr):
        assert [a for a in registry.accesses() if a.method != "GET"] == []


def test_a_refused_token_stops_the_publish_before_any_write(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tag = small_repo.release("26.5.3-1")
    stage(capsys, docker_client, small_repo, tag)
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_wrong-token-value")
    for registry in release_env.all():
        registry.mark()
    code, _, err = publish(capsys, small_repo, tag)
    assert code == 15, err
    assert f"refused the credentials of user '{HUB_USER}'" in err
    assert "dckr_pat_wrong" not in err
    for registry in release_env.all():
        assert [a for a in registry.accesses() if a.method in ("PUT", "PATCH", "POST")] == []


def test_the_sdk_push_error_hidden_in_its_stream_becomes_a_publish_error(
    docker_client: docker.DockerClient, small_repo: SmallRepo, release_env: Registries
) -> None:
    """docker-py's push() returns normally when the registry refuses: only the stream says."""
    tag = small_repo.release("26.5.3-1")
    plan = gather(Options(tag=tag, root=small_repo.root)).plan
    hub = Staging(release_env.hub.host, small_repo.namespace)
    request = requests_for(plan, hub, small_repo.root, platform="linux/amd64")[0]
    docker_client.api.tag(f"{small_repo.base}-amd64", *request.local_tag.split(":"))
    with pytest.raises(PublishError) as caught:
        ClassicEngine(docker_client).push(request, Credentials(HUB_USER, "not-the-token"))
    assert caught.value.exit_code == 11
    assert "pushing" in caught.value.message
    assert "CONDABOT_STAGING_USERNAME" in caught.value.message


def test_a_backport_takes_its_own_rungs_and_never_latest(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    newest = small_repo.release("26.5.3-1")
    newest_plan = stage(capsys, docker_client, small_repo, newest)
    assert publish(capsys, small_repo, newest)[0] == 0
    backport = small_repo.release("26.4.1-0")
    backport_plan = stage(capsys, docker_client, small_repo, backport)
    code, _out, err = publish(capsys, small_repo, backport)
    assert code == 0, err
    assert [t.name for t in backport_plan.images[0].tags] == [
        "26.4.1-0", "py314_26.4.1-0", "26.4.1", "26.4",
    ]  # fmt: skip
    _, hub = clients(release_env)["hub"]
    repository = newest_plan.images[0].targets[0].repository
    newest_digest = hub.manifest_digest(repository, "26.5.3-1")
    backport_digest = hub.manifest_digest(repository, "26.4.1-0")
    assert newest_digest != backport_digest
    for floating in ("latest", "26", "py314", "26.5"):
        assert hub.manifest_digest(repository, floating) == newest_digest, floating
    assert hub.manifest_digest(repository, "26.4") == backport_digest


def test_a_rerun_build_reuses_the_staged_image(
    capsys: pytest.CaptureFixture[str], small_repo: SmallRepo
) -> None:
    tag = small_repo.release("26.5.3-1")
    code, first, err = build_amd64(capsys, small_repo, tag)
    assert code == 0, err
    assert "built in" in first
    code, second, err = build_amd64(capsys, small_repo, tag)
    assert code == 0, err
    assert "reused" in second
    assert first.split()[2] == second.split()[2]  # same staging ref and digest


def test_the_release_body_gets_one_report_section_however_often_it_runs(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
    github_repo: GitHubRepo,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    tag = small_repo.release("26.5.3-1")
    github_repo.pygithub(MAINTAINER_TOKEN).create_git_release(
        tag, f"Miniconda {tag}", "Notes written by a maintainer."
    )
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "published",
                "release": {
                    "tag_name": tag,
                    "target_commitish": "main",
                    "published_at": "2026-06-02T08:00:00Z",
                },
                "repository": {
                    "full_name": github_repo.full_name,
                    "html_url": f"https://github.com/{github_repo.full_name}",
                },
            }
        )
    )
    monkeypatch.setenv("GITHUB_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", github_repo.base_url)
    code, _, err = condabot(
        capsys, "release", "build", "--root", str(small_repo.root), "--event", str(event),
        "--platform", "linux/amd64",
    )  # fmt: skip
    assert code == 0, err
    plan = gather(Options(event=str(event), root=small_repo.root)).plan
    assert plan.created == "2026-06-01T12:00:00Z"  # the release commit's time
    assert plan.source == f"https://github.com/{github_repo.full_name}"
    code, _, err = condabot(
        capsys, "release", "build", "--root", str(small_repo.root), "--event", str(event),
        "--platform", "linux/arm64",
    )  # fmt: skip
    assert code == 0, err
    for _ in range(2):
        code, _, err = condabot(
            capsys, "release", "publish", "--root", str(small_repo.root), "--event", str(event)
        )
        assert code == 0, err
    body = github_repo.pygithub(BOT_TOKEN).get_release(tag).body
    assert body.startswith("Notes written by a maintainer.\n\n" + BEGIN)
    assert body.count(BEGIN) == 1
    assert f"docker pull {release_env.hub.host}/{small_repo.namespace}/small:26.5.3-1" in body
    step_summary = Path(os.environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert step_summary.count(BEGIN) == 2  # one per run: the job summary is per run
    assert "| `latest` |" in step_summary


def test_docker_hub_token_auth_end_to_end(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    release_env: Registries,
    token_hub: TokenHub,
    tiny_base: str,
    built_images: LocalImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The "dockerhub" registry kind against a registry in Docker Hub's auth mode: a Bearer
    challenge, tokens from the realm for the username + token, per repository scope."""
    repo = built_images.own_repo(
        SmallRepo(tmp_path / "repo", token_hub.registry.host, release_env.ecr.host, base=tiny_base)
    ).init()
    monkeypatch.setenv("DOCKERHUB_USERNAME", token_hub.user)
    monkeypatch.setenv("DOCKERHUB_TOKEN", token_hub.password)
    tag = repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, repo, tag)
    before = len(token_hub.tokens.requests)
    code, _, err = publish(capsys, repo, tag)
    assert code == 0, err
    repository = plan.images[0].targets[0].repository
    scopes = {scope for _, scope in token_hub.tokens.requests[before:]}
    assert (f"repository:{repository}:pull,push",) in scopes
    reader = RegistryClient(
        token_hub.registry.host, Credentials(token_hub.user, token_hub.password)
    )
    assert reader.manifest_digest(repository, "latest") == reader.manifest_digest(
        repository, "26.5.3-1"
    )


def test_a_test_removes_only_the_local_images_it_made(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
    built_images: LocalImages,
) -> None:
    """A maintainer's own builds (another commit's `condabot-build/...`, another namespace
    on a registry host a test happens to use) are never what a test cleans up."""
    tag = small_repo.release("26.5.3-1")
    assert build_amd64(capsys, small_repo, tag)[0] == 0
    revision = small_repo.head()[:12]
    theirs = [
        "condabot-build/miniconda3:0123456789ab-amd64",
        f"{release_env.staging.host}/someone-else/small:build-x",
        f"{release_env.hub.host}/library/small:26.5.3-1",
    ]
    for name in theirs:
        docker_client.api.tag(f"{small_repo.base}-amd64", *name.rsplit(":", 1))
    try:
        owned = built_images.names(docker_client)
        assert f"condabot-build/small:{revision}-amd64" in owned
        assert any(n.startswith(os.environ["CONDABOT_STAGING"] + "/small:") for n in owned)
        assert not set(theirs) & set(owned)
    finally:
        for name in theirs:
            docker_client.images.remove(name)


# -- arm64, built for real under QEMU ------------------------------------------------------


def test_the_arm64_image_is_built_for_arm64_and_smoke_tested_under_qemu(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    from bot.release.build import ClassicEngine
    from bot.release.smoke import elf_machine

    tag = small_repo.release("26.5.3-1")
    code, out, err = build_cell(capsys, small_repo, tag, "linux/arm64")
    assert code == 0, err
    assert "small linux/arm64:" in out and "built in" in out
    local = f"condabot-build/small:{small_repo.head()[:12]}-arm64"
    uname = docker_client.containers.run(local, ["uname", "-m"], remove=True)
    assert uname == b"aarch64\n"  # an aarch64 userland, run by qemu-aarch64
    python = ClassicEngine(docker_client).read_file(local, "/opt/conda/bin/python")
    assert python is not None and elf_machine(python) == "aarch64"
    staging = Staging.parse(None)
    client = RegistryClient(staging.host)
    repository = f"{staging.namespace}/small"
    manifest = client.get_manifest(repository, f"build-{small_repo.head()}-arm64")
    assert manifest is not None
    config = json.loads(client.get_blob(repository, manifest.document["config"]["digest"]))
    assert (config["os"], config["architecture"]) == ("linux", "arm64")
    labels = config["config"]["Labels"]
    assert labels["io.condabot.installer"] == "Miniconda3-py314_26.5.3-1-Linux-aarch64.sh"


SILENT_CROSS_BUILD = """\
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_LINUX64="https://repo.anaconda.com/miniconda/Miniconda3-py314_26.5.3-1-Linux-x86_64.sh"
ARG SHA256SUM_LINUX64="{sha}"
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_AARCH64="https://repo.anaconda.com/miniconda/Miniconda3-py314_26.5.3-1-Linux-aarch64.sh"
ARG SHA256SUM_AARCH64="{sha}"
FROM {base}-arm64
COPY prefix-amd64/ /opt/conda/
"""


@pytest.mark.parametrize("silent", [False, True], ids=["engine-refuses", "engine-silent"])
def test_a_cross_build_of_the_wrong_architecture_leaves_no_local_tag(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
    silent: bool,
) -> None:
    """A linux/amd64 cell built FROM an arm64 base. The engine refuses it at a step whose
    intermediate image it checks (engine-refuses), but with only FROM and COPY it builds
    an arm64 image without a word (engine-silent): the bot checks the result before it
    gets a name. Either way nothing is tagged or staged."""
    from tests.support.release_world import _git

    tag = small_repo.release("26.5.3-1")
    extra = ["--build-arg", "TARGETARCH=arm64"]
    if silent:
        dockerfile = small_repo.root / "dockerfiles/small/Dockerfile"
        dockerfile.write_text(SILENT_CROSS_BUILD.format(sha=SHA, base=small_repo.base))
        _git(small_repo.root, "commit", "-q", "-am", "FROM an arm64 base for every platform")
        _git(small_repo.root, "tag", "-f", tag)
        extra = []
    code, _, err = condabot(
        capsys, "release", "build", "--root", str(small_repo.root), "--tag", tag,
        "--platform", "linux/amd64", *extra,
    )  # fmt: skip
    assert code == 10, err
    if silent:
        assert "made a linux/arm64 image: its base is for another architecture" in err
    else:
        assert "does not match the specified platform: wanted linux/amd64" in err
    names = set(local_names(docker_client))
    revision = small_repo.head()
    assert f"condabot-build/small:{revision[:12]}-amd64" not in names
    assert not any(name.endswith(f"build-{revision}-amd64") for name in names)
    staging = Staging.parse(None)
    staged = RegistryClient(staging.host).get_manifest(
        f"{staging.namespace}/small", f"build-{revision}-amd64"
    )
    assert staged is None


def test_an_arm64_image_whose_interpreter_is_for_another_machine_fails_its_smoke_test(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    """An x86_64 python runs natively inside an arm64 container on this amd64 host, so
    `python --version` passes: only the check of the executable itself catches it."""
    from tests.support.release_world import _git, interpreter_elf

    tag = small_repo.release("26.5.3-1")
    python = small_repo.root / "dockerfiles/small/prefix-arm64/bin/python"
    python.write_bytes(interpreter_elf("x86_64", b"Python 3.14.1\n"))
    _git(small_repo.root, "commit", "-q", "-am", "an amd64 python in the arm64 prefix")
    _git(small_repo.root, "tag", "-f", tag)
    code, _, err = build_cell(capsys, small_repo, tag, "linux/arm64")
    assert code == 10, err
    assert "/opt/conda/bin/python is an executable for x86_64, not aarch64" in err
    assert "not pushed" in err


def test_verify_finds_a_detached_sbom_and_publish_attaches_it_again(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
) -> None:
    from bot.release.referrers import fallback_tag

    tag = small_repo.release("26.5.3-1")
    plan = stage(capsys, docker_client, small_repo, tag)
    assert publish(capsys, small_repo, tag)[0] == 0
    _, hub = clients(release_env)["hub"]
    repository = plan.images[0].targets[0].repository
    index = hub.get_manifest(repository, index_digest(plan, release_env))
    assert index is not None
    subject = index.children()[1]["digest"]  # the arm64 image
    listing = hub.manifest_digest(repository, fallback_tag(subject))
    deleted = hub._call("DELETE", f"/v2/{repository}/manifests/{listing}", ())
    assert deleted.status_code == 202
    verify = ("release", "verify", "--root", str(small_repo.root), "--tag", tag)
    code, _, err = condabot(capsys, *verify)
    assert code == 13 and f"is not attached to {subject}" in err
    assert "rerun `condabot release publish`" in err
    release_env.hub.mark()
    assert publish(capsys, small_repo, tag)[0] == 0
    assert referrer_index_writes(release_env.hub.accesses()) == [fallback_tag(subject)]
    assert uploaded(release_env.hub.accesses()) == []
    assert condabot(capsys, *verify)[0] == 0
