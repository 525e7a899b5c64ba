"""`condabot doctor` (issue 10): one line per finding, an exit code, credentials by name only.

Real parts: this repository's catalog and Dockerfiles, a copy of the Anaconda-layout
fixture, real files for broken cases, a real docker config file; the CLI unpatched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "tests" / "fixtures" / "anaconda-layout"
SECRET_NAMES = (
    "GITHUB_TOKEN", "GH_TOKEN", "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "CONDABOT_STAGING", "CONDABOT_STAGING_USERNAME", "CONDABOT_STAGING_PASSWORD",
    "CONDABOT_UPSTREAM_URL", "CONDABOT_CATALOG", "CONDABOT_ROOT",
)  # fmt: skip
CATALOG = """\
version: 1
registries:
  hub: {kind: dockerhub, host: docker.io, namespace: acme}
  ecr: {kind: ecr, host: registry.example.com, namespace: acme}
  own: {kind: registry, host: "127.0.0.1:5000", namespace: acme}
images:
  - name: miniconda3-debian
    product: miniconda3
    dockerfile: miniconda3/debian/Dockerfile
    platforms: [linux/amd64, linux/arm64, linux/ppc64le, linux/s390x]
    registries: [hub, ecr, own]
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credential of the machine running the tests leaks in; an empty docker config."""
    for name in SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "images"
    shutil.copytree(LAYOUT, copy)
    return copy


def doctor(root: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["doctor", "--root", str(root), *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and len(err.splitlines()) == 1  # the summary
    return code, out.splitlines()


def with_catalog(repo: Path, text: str = CATALOG) -> Path:
    (repo / "dockerfiles").mkdir(exist_ok=True)
    (repo / "dockerfiles" / "images.yaml").write_text(text)
    return repo


def test_this_repository_is_healthy(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(ROOT, capsys)
    assert code == 0
    assert lines[0].split() == ["ok", "catalog:", "dockerfiles/images.yaml:", "11", "image(s),",
                                "2", "registry(ies)"]  # fmt: skip
    pins = [line for line in lines if line.startswith("ok    pins: ")]
    assert len(pins) == 11
    assert (
        "ok    pins: miniconda2: dockerfiles/miniconda2/debian/Dockerfile: py27_4.8.3 (x86_64)"
        in lines
    )
    assert any(
        line.startswith("ok    names: anaconda3: docker.io/condabot/anaconda3, ") for line in lines
    )
    assert lines[-1] == "ok    upstream: https://repo.anaconda.com"
    assert not [line for line in lines if line.startswith(("warn", "error"))]


def test_a_repository_without_a_catalog(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(repo, capsys)
    assert code == 0  # nothing is an error without a job in mind
    assert lines[0].startswith(
        "info  catalog: none at dockerfiles/images.yaml: 3 image(s) discovered"
    )
    assert (
        "warn  dockerfile: skipped: miniconda3/alpine/Dockerfile:15: installer URL "
        in "\n".join(lines)
    )
    assert "info  credentials: bump: GitHub token (GITHUB_TOKEN): not set here" in lines
    assert any(line.startswith("info  names: discovered images publish nowhere") for line in lines)


def test_for_bump_the_token_is_required_and_never_printed(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = doctor(repo, capsys, "--for", "bump")
    assert code == 15
    assert (
        "error credentials: bump: GitHub token (GITHUB_TOKEN): none found; see README, adopting condabot"
        in lines
    )
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_s3cr3tvalue")
    code, lines = doctor(repo, capsys, "--for", "bump")
    assert code == 0
    assert "ok    credentials: bump: GitHub token (GITHUB_TOKEN): GITHUB_TOKEN" in lines
    assert "s3cr3t" not in "\n".join(lines)


def test_release_credentials_by_name_only(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    with_catalog(repo)
    code, lines = doctor(repo, capsys, "--for", "release")
    assert code == 15
    errors = [line for line in lines if line.startswith("error credentials: release: ")]
    assert [e.split(": ")[2] for e in errors] == [
        "registry ecr (registry.example.com)", "registry hub (docker.io)",
        "registry own (127.0.0.1:5000)", "staging registry (CONDABOT_STAGING)",
    ]  # fmt: skip
    monkeypatch.setenv("DOCKERHUB_USERNAME", "s3cr3t-user")
    code, lines = doctor(repo, capsys, "--for", "release")
    assert ("error credentials: DOCKERHUB_USERNAME is set but DOCKERHUB_TOKEN is not; set both, "
            "or neither") in lines  # fmt: skip
    monkeypatch.setenv("DOCKERHUB_TOKEN", "s3cr3t-token")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/s3cr3t")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/s3cr3t")
    monkeypatch.setenv("CONDABOT_STAGING", "ghcr.io/acme/condabot-staging")
    (clean_env / "config.json").write_text(json.dumps({
        "auths": {"127.0.0.1:5000": {"auth": "czNjcjN0OnMzY3IzdA=="}},
        "credHelpers": {"ghcr.io": "s3cr3t-helper"},
    }))  # fmt: skip
    code, lines = doctor(repo, capsys, "--for", "release")
    assert code == 0, lines
    text = "\n".join(lines)
    assert (
        "ok    credentials: release: registry hub (docker.io): DOCKERHUB_USERNAME and DOCKERHUB_TOKEN"
        in lines
    )
    assert (
        "registry ecr (registry.example.com): AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE" in text
    )
    assert "registry own (127.0.0.1:5000): the docker config's auths" in text
    assert "staging registry ghcr.io: a docker credential helper" in text
    assert "s3cr3t" not in text and "czNjcjN0" not in text
    # Not an ECR host: its region must come from the environment.
    assert any(line.startswith("warn  names: registry ecr: registry.example.com is not an ECR host")
               for line in lines)  # fmt: skip


def test_a_staging_registry_with_capitals_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ghcr.io/${{ github.repository_owner }} breaks for an owner such as ContinuumIO."""
    monkeypatch.setenv("CONDABOT_STAGING", "ghcr.io/ContinuumIO/condabot-staging")
    code, lines = doctor(with_catalog(repo), capsys)
    assert code == 15
    assert any("'ghcr.io/continuumio/condabot-staging'" in line for line in lines)


def test_each_kind_of_problem_has_its_exit_code(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_catalog(repo, CATALOG.replace("namespace: acme}\n  ecr", "namespace: Acme}\n  ecr"))
    code, lines = doctor(repo, capsys)
    assert code == 3 and len(lines) == 2  # the catalog line, then upstream
    assert lines[0].startswith("error catalog: ") and "'Acme' has upper-case letters" in lines[0]

    with_catalog(
        repo, CATALOG.replace("miniconda3/debian/Dockerfile", "miniconda3/alpine/Dockerfile")
    )
    code, lines = doctor(repo, capsys)
    assert code == 6
    assert any(line.startswith("error pins: miniconda3-debian: miniconda3/alpine/Dockerfile:15: ")
               for line in lines)  # fmt: skip

    amazon = CATALOG.replace("dockerfile: miniconda3/debian", "dockerfile: anaconda3/amazonlinux")
    with_catalog(repo, amazon.replace("product: miniconda3", "product: anaconda3"))
    code, lines = doctor(repo, capsys)
    assert code == 7  # the plan's own check: platforms the Dockerfile does not pin
    assert any("builds linux/amd64" in line for line in lines)

    with_catalog(repo, CATALOG + "    repository: " + "r" * 250 + "\n")
    code, lines = doctor(repo, capsys)
    assert code == 3
    assert any(
        line.startswith("error names: miniconda3-debian: ") and "255" in line for line in lines
    )

    with_catalog(repo)
    code, lines = doctor(repo, capsys, "--upstream-url", "ftp://mirror.example")
    assert code == 2 and lines[-1].startswith(
        "error upstream: 'ftp://mirror.example' cannot be used"
    )


def test_a_named_catalog_that_is_missing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(repo, capsys, "--catalog", "condabot.yaml")
    assert code == 3
    assert lines[0] == "error catalog: no catalog at condabot.yaml; write one with condabot init"
