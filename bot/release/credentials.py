"""Registry credentials, never printed: each one is registered with `bot.secrets`.

| registry kind | first                                              | then                        |
|---------------|----------------------------------------------------|-----------------------------|
| `dockerhub`   | `DOCKERHUB_USERNAME` + `DOCKERHUB_TOKEN`           | `~/.docker/config.json`     |
| `ecr`         | boto3 `ecr.get_authorization_token` (user `AWS`)   |                             |
| `ecr-public`  | boto3 `ecr-public.get_authorization_token`, us-east-1 |                          |
| `registry`    | `CONDABOT_REGISTRY_<NAME>_USERNAME` + `_PASSWORD`  | `~/.docker/config.json`     |
| staging       | `CONDABOT_STAGING_USERNAME` + `_PASSWORD`          | `~/.docker/config.json`     |

`~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`) is resolved by the docker SDK
(`docker.auth`) as the docker CLI does: a `credHelpers` helper for the host, else the
`credsStore` helper, else the `auths` entry (`auth`, or `username` and `password`, which the
CLI accepts and the SDK does not, so they are turned into `auth` first). ECR's region comes
from its host (`<account>.dkr.ecr.<region>.amazonaws.com`), else
`AWS_REGION`/`AWS_DEFAULT_REGION`; AWS endpoints follow `AWS_ENDPOINT_URL` (moto in tests).
"""

from __future__ import annotations

import base64
import json
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import docker.auth
import docker.errors
from botocore.exceptions import BotoCoreError, ClientError

from bot.catalog import Registry
from bot.errors import AuthError
from bot.release.registry import Credentials
from bot.secrets import register

_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.")


def credentials_for(registry: Registry, env: Mapping[str, str] | None = None) -> Credentials | None:
    env = os.environ if env is None else env
    if registry.kind == "dockerhub":
        return _pair(env, "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN") or docker_config_credentials(
            ("docker.io", registry.host), env
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
    hosts: tuple[str, ...], env: Mapping[str, str] | None = None
) -> Credentials | None:
    """The first of `hosts` the docker config has credentials for (docker.auth's lookup)."""
    env = os.environ if env is None else env
    path, document = _docker_config(env)
    if not document:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a helper not installed: the error below says so
            config = docker.auth.load_config(config_dict=document, credstore_env=dict(env))
            for host in hosts:
                if found := _credentials(config.resolve_authconfig(host)):
                    return found
    except (docker.errors.DockerException, ValueError) as exc:
        raise AuthError(
            f"the docker config {path} cannot be used: {str(exc)[:200]}",
            "fix it (run docker login again), or install the credential helper it names",
        ) from exc
    return None


def _credentials(found: dict[str, Any] | None) -> Credentials | None:
    """From an `auths` entry (username, password) or a helper's answer (Username, Password);
    not from an identity token, which only docker's own OAuth flow can use."""
    found = found or {}
    user = found.get("username") or found.get("Username")
    password = found.get("password") or found.get("Password")
    return Credentials(str(user), str(password)) if user and password else None


def _docker_config(env: Mapping[str, str]) -> tuple[Path, dict[str, Any]]:
    """Its path and document; only that file: docker.auth would look further on its own."""
    path = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return path, {}
    except (OSError, ValueError) as exc:
        raise AuthError(f"cannot read {path}: {exc}", "fix or remove the file") from exc
    if not isinstance(document, dict):
        return path, {}
    for entry in (document.get("auths") or {}).values():
        if isinstance(entry, dict) and not entry.get("auth") and entry.get("password"):
            pair = f"{entry.get('username', '')}:{entry['password']}"
            entry["auth"] = base64.b64encode(pair.encode()).decode()
    return path, document


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
