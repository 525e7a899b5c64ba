"""Registry credentials, never printed: each one is registered with `bot.secrets`.

| registry kind | first                                              | then                        |
|---------------|----------------------------------------------------|-----------------------------|
| `dockerhub`   | `DOCKERHUB_USERNAME` + `DOCKERHUB_TOKEN`           | `~/.docker/config.json`     |
| `ecr`         | boto3 `ecr.get_authorization_token` (user `AWS`)   |                             |
| `ecr-public`  | boto3 `ecr-public.get_authorization_token`, us-east-1 |                          |
| `registry`    | `CONDABOT_REGISTRY_<NAME>_USERNAME` + `_PASSWORD`  | `~/.docker/config.json`     |
| staging       | `CONDABOT_STAGING_USERNAME` + `_PASSWORD`          | `~/.docker/config.json`     |

`~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`) is read for `auths` entries and
for `credHelpers`/`credsStore` helpers. ECR's region comes from its host
(`<account>.dkr.ecr.<region>.amazonaws.com`), else `AWS_REGION`/`AWS_DEFAULT_REGION`;
AWS endpoints follow `AWS_ENDPOINT_URL` (moto in tests).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.catalog import Registry as RegistryConfig
from bot.errors import AuthError
from bot.release.registry import Credentials
from bot.secrets import register

_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.")
DOCKERHUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io")


def credentials_for(
    registry: RegistryConfig, env: Mapping[str, str] | None = None
) -> Credentials | None:
    env = os.environ if env is None else env
    if registry.kind == "dockerhub":
        return _pair(env, "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN") or docker_config_credentials(
            (*DOCKERHUB_KEYS, registry.host), env
        )
    if registry.kind == "ecr":
        return _ecr(registry.host, env)
    if registry.kind == "ecr-public":
        return _ecr_public(env)
    prefix = "CONDABOT_REGISTRY_" + re.sub(r"[^A-Z0-9]", "_", registry.name.upper())
    return _pair(env, f"{prefix}_USERNAME", f"{prefix}_PASSWORD") or docker_config_credentials(
        (registry.host,), env
    )


def staging_credentials(host: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    env = os.environ if env is None else env
    return _pair(
        env, "CONDABOT_STAGING_USERNAME", "CONDABOT_STAGING_PASSWORD"
    ) or docker_config_credentials((host,), env)


def _pair(env: Mapping[str, str], user: str, password: str) -> Credentials | None:
    if env.get(user) and env.get(password):
        return Credentials(env[user], env[password])
    if env.get(user) or env.get(password):
        raise AuthError(f"only one of {user} and {password} is set", "set both, or neither")
    return None


def docker_config_credentials(
    keys: tuple[str, ...], env: Mapping[str, str] | None = None
) -> Credentials | None:
    env = os.environ if env is None else env
    config = _docker_config(env)
    auths = {_normalise(k): v for k, v in (config.get("auths") or {}).items()}
    helpers = config.get("credHelpers") or {}
    for key in keys:
        host = _normalise(key)
        if host in helpers:
            return _from_helper(str(helpers[host]), key, env)
        entry = auths.get(host)
        if entry:
            found = _from_auth_entry(entry, key)
            if found:
                return found
    if config.get("credsStore"):
        for key in keys:
            found = _from_helper(str(config["credsStore"]), key, env, missing_ok=True)
            if found:
                return found
    return None


def _docker_config(env: Mapping[str, str]) -> dict[str, Any]:
    directory = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")
    path = directory / "config.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise AuthError(f"cannot read {path}: {exc}", "fix or remove the file") from exc
    return document if isinstance(document, dict) else {}


def _normalise(key: str) -> str:
    return re.sub(r"^https?://", "", key).split("/", 1)[0]


def _from_auth_entry(entry: dict[str, Any], key: str) -> Credentials | None:
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise AuthError(
                f"the docker config entry for {key} is not base64 user:password",
                "run docker login again",
            ) from exc
        register(entry["auth"])
        return Credentials(user, password)
    if entry.get("username") and entry.get("password"):
        return Credentials(str(entry["username"]), str(entry["password"]))
    return None


def _from_helper(
    helper: str, key: str, env: Mapping[str, str], *, missing_ok: bool = False
) -> Credentials | None:
    try:
        done = subprocess.run(
            [f"docker-credential-{helper}", "get"],
            input=key,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AuthError(
            f"docker credential helper {helper!r} failed: {type(exc).__name__}",
            "install it or remove it from ~/.docker/config.json",
        ) from exc
    if done.returncode != 0:
        if missing_ok:
            return None
        raise AuthError(f"docker credential helper {helper!r} has no entry for {key}")
    answer = json.loads(done.stdout)
    return Credentials(str(answer["Username"]), str(answer["Secret"]))


def ecr_region(host: str, env: Mapping[str, str]) -> str:
    match = _ECR_HOST.match(host)
    region = match["region"] if match else env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise AuthError(
            f"cannot tell the AWS region of ECR registry {host}",
            "use the <account>.dkr.ecr.<region>.amazonaws.com host or set AWS_REGION",
        )
    return region


def ecr_client(host: str, env: Mapping[str, str]) -> Any:
    """A boto3 ECR client for the registry at `host`, with the job's AWS credentials."""
    return _aws_session(env).client(
        "ecr", region_name=ecr_region(host, env), endpoint_url=_endpoint(env, "ECR")
    )


def ecr_registry_id(host: str) -> dict[str, str]:
    """`registryId` for ECR calls: the account in the host, or none (the caller's own)."""
    match = _ECR_HOST.match(host)
    return {"registryId": match["account"]} if match else {}


def _ecr(host: str, env: Mapping[str, str]) -> Credentials:
    match = _ECR_HOST.match(host)
    client = ecr_client(host, env)
    try:
        if match:
            answer = client.get_authorization_token(registryIds=[match["account"]])
        else:
            answer = client.get_authorization_token()
        token = answer["authorizationData"][0]["authorizationToken"]
    except (BotoCoreError, ClientError, KeyError, IndexError) as exc:
        raise _aws_refused("ecr", exc) from exc
    return _decode_aws(token)


def _ecr_public(env: Mapping[str, str]) -> Credentials:
    client = _aws_session(env).client(
        "ecr-public", region_name="us-east-1", endpoint_url=_endpoint(env, "ECR_PUBLIC")
    )
    try:
        token = client.get_authorization_token()["authorizationData"]["authorizationToken"]
    except (BotoCoreError, ClientError, KeyError) as exc:
        raise _aws_refused("ecr-public", exc) from exc
    return _decode_aws(token)


def _aws_session(env: Mapping[str, str]) -> boto3.session.Session:
    """Keys from `env` when it has them, else boto3's own chain (role, profile, ...)."""
    return boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
    )


def _endpoint(env: Mapping[str, str], service: str) -> str | None:
    return env.get(f"AWS_ENDPOINT_URL_{service}") or env.get("AWS_ENDPOINT_URL") or None


def _decode_aws(token: str) -> Credentials:
    register(token)
    user, _, password = base64.b64decode(token).decode().partition(":")
    return Credentials(user, password)


def _aws_refused(service: str, exc: Exception) -> AuthError:
    return AuthError(
        f"{service}.get_authorization_token failed: {type(exc).__name__}: {str(exc)[:160]}",
        "give the job AWS credentials allowed ecr:GetAuthorizationToken "
        "(aws-actions/configure-aws-credentials)",
    )
