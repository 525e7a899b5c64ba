"""Where registry credentials come from, and that none is ever shown. ECR auth goes to moto."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from bot.catalog import Registry
from bot.errors import AuthError
from bot.release.credentials import credentials_for, docker_config_credentials, staging_credentials
from bot.secrets import redact

HUB = Registry("dockerhub", "dockerhub", "docker.io", "condabot")
SELF_HOSTED = Registry("my-registry", "registry", "registry.example.org:5000", "team")
ECR = Registry("ecr", "ecr", "123456789012.dkr.ecr.eu-west-3.amazonaws.com", "condabot")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": "/usr/bin:/bin"}


def write_config(env: dict[str, str], document: dict[str, object]) -> None:
    path = Path(env["DOCKER_CONFIG"]) / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def test_docker_hub_from_the_environment_and_never_shown(env: dict[str, str]) -> None:
    env |= {"DOCKERHUB_USERNAME": "bot", "DOCKERHUB_TOKEN": "dckr_pat_s3cr3t-value"}
    found = credentials_for(HUB, env)
    assert found is not None and found.username == "bot"
    assert "dckr_pat_s3cr3t-value" not in repr(found)
    assert redact("token dckr_pat_s3cr3t-value leaked") == "token *** leaked"


def test_half_a_credential_pair_is_an_error(env: dict[str, str]) -> None:
    with pytest.raises(AuthError, match="only one of DOCKERHUB_USERNAME and DOCKERHUB_TOKEN"):
        credentials_for(HUB, env | {"DOCKERHUB_USERNAME": "bot"})


def test_docker_hub_from_docker_config_auths(env: dict[str, str]) -> None:
    auth = base64.b64encode(b"alice:hub-password-1").decode()
    write_config(env, {"auths": {"https://index.docker.io/v1/": {"auth": auth}}})
    found = credentials_for(HUB, env)
    assert found is not None and (found.username, found.password) == ("alice", "hub-password-1")
    assert auth not in redact(f"config says {auth}")


def test_self_hosted_registry_from_env_then_config(env: dict[str, str]) -> None:
    write_config(
        env, {"auths": {"registry.example.org:5000": {"username": "u", "password": "p-config"}}}
    )
    found = credentials_for(SELF_HOSTED, env)
    assert found is not None and found.password == "p-config"
    env |= {
        "CONDABOT_REGISTRY_MY_REGISTRY_USERNAME": "e",
        "CONDABOT_REGISTRY_MY_REGISTRY_PASSWORD": "p-env",
    }
    found = credentials_for(SELF_HOSTED, env)
    assert found is not None and found.password == "p-env"


def test_credential_helpers(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Like docker-credential-helpers: a host it has no entry for is this message and exit 1.
    helper = tmp_path / "bin" / "docker-credential-fake"
    helper.parent.mkdir()
    helper.write_text(
        '#!/bin/sh\nread host\nif [ "$host" != "ghcr.io" ]; then\n'
        "  echo 'credentials not found in native keychain'; exit 1\nfi\n"
        'echo \'{"Username": "helper-user", "Secret": "helper-secret"}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv(
        "PATH", f"{helper.parent}:{env['PATH']}"
    )  # found on the PATH, as docker does
    write_config(env, {"credHelpers": {"ghcr.io": "fake"}})
    found = staging_credentials("ghcr.io", env)
    assert found is not None and (found.username, found.password) == (
        "helper-user",
        "helper-secret",
    )
    write_config(env, {"credsStore": "fake"})
    assert docker_config_credentials(("quay.io",), env) is None
    found = docker_config_credentials(("ghcr.io",), env)
    assert found is not None and found.username == "helper-user"


def test_no_credentials_anywhere_is_none(env: dict[str, str]) -> None:
    assert credentials_for(HUB, env) is None
    assert staging_credentials("127.0.0.1:5000", env) is None


def aws(env: dict[str, str], endpoint: str) -> dict[str, str]:
    return env | {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_ecr_token_from_moto_with_the_region_of_the_host(
    env: dict[str, str], moto_ecr: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in aws(env, moto_ecr).items():
        monkeypatch.setenv(name, value)
    found = credentials_for(ECR, aws(env, moto_ecr))
    assert found is not None
    assert (found.username, found.password) == ("AWS", "123456789012-auth-token")
    assert "123456789012-auth-token" not in redact("password 123456789012-auth-token")


def test_ecr_on_a_plain_host_needs_a_region(env: dict[str, str], moto_ecr: str) -> None:
    local = Registry("ecr", "ecr", "127.0.0.1:5000", "")
    with pytest.raises(AuthError, match="set AWS_REGION"):
        credentials_for(local, aws(env, moto_ecr))
    found = credentials_for(local, aws(env, moto_ecr) | {"AWS_REGION": "us-east-1"})
    assert found is not None and found.username == "AWS"


def test_ecr_without_aws_credentials_is_an_auth_error(
    env: dict[str, str], moto_ecr: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no traffic to 169.254.169.254
    with pytest.raises(AuthError, match=r"ecr\.get_authorization_token failed"):
        credentials_for(ECR, env | {"AWS_ENDPOINT_URL": moto_ecr})


def test_a_credential_helper_that_is_not_installed_is_an_auth_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", env["PATH"])
    write_config(env, {"credHelpers": {"ghcr.io": "nowhere"}})
    with pytest.raises(AuthError, match="docker-credential-nowhere not installed"):
        staging_credentials("ghcr.io", env)


def test_a_corrupt_auths_entry_is_an_auth_error_that_never_shows_it(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"ghcr.io": {"auth": "c2VjcmV0LXdpdGhvdXQtY29sb24"}}})
    with pytest.raises(AuthError, match="cannot be used") as caught:
        staging_credentials("ghcr.io", env)
    assert "c2VjcmV0" not in caught.value.message + caught.value.hint


def test_only_the_named_docker_config_is_read(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docker.auth on its own falls back to ~/.docker/config.json when $DOCKER_CONFIG has none.
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    auth = base64.b64encode(b"someone:elses-password").decode()
    config = {"auths": {"ghcr.io": {"auth": auth}}}
    (home / ".docker" / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    assert staging_credentials("ghcr.io", env) is None
    found = staging_credentials("ghcr.io", {"PATH": env["PATH"]})  # no DOCKER_CONFIG: ~/.docker
    assert found is not None and found.password == "elses-password"
