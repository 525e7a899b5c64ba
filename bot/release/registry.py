"""An OCI distribution API client over requests: manifests, blobs, auth challenges, retries.

Auth follows the registry's `WWW-Authenticate` challenge: `Basic` (distribution with
htpasswd, ECR) or `Bearer realm=...,service=...` (Docker Hub, GHCR, ECR Public), whose token
is fetched per scope with the credentials and cached. Blobs are uploaded as one streamed
PATCH between POST and PUT, which every registry accepts; `mount` asks the registry to link a
blob another repository of it already holds. Transient failures (connection errors, 429,
5xx) are retried with exponential backoff; 400, 401, 403 and 404 never are.

A host on loopback (`127.0.0.1:5000`, `localhost:5000`) is spoken to over plain http.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from bot import __version__
from bot.errors import AuthError, PublishError
from bot.secrets import register

log = logging.getLogger(__name__)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$")
DOCKERHUB_API = "registry-1.docker.io"
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        register(self.password)


@dataclass(frozen=True)
class Manifest:
    media_type: str
    body: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.body)

    @property
    def document(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def children(self) -> list[dict[str, Any]]:
        """The manifest descriptors of an index."""
        return list(self.document.get("manifests", [])) if self.is_index else []

    def blobs(self) -> list[dict[str, Any]]:
        """The config and layer descriptors of an image manifest."""
        if self.is_index:
            return []
        document = self.document
        return [document["config"], *document.get("layers", [])]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Stats:
    """What this client sent: requests by kind, blob uploads and their body bytes."""

    requests: Counter[str] = field(default_factory=Counter)
    blob_uploads: int = 0
    blob_mounts: int = 0
    bytes_uploaded: int = 0
    manifest_puts: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff: float = 0.5  # seconds, doubled per attempt
    max_wait: float = 60.0  # longest Retry-After honoured
    connect_timeout: float = 10.0
    read_timeout: float = 300.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        def number(name: str, default: float) -> float:
            return float(os.environ.get(name, "") or default)

        return cls(
            attempts=1 + int(number("CONDABOT_HTTP_RETRIES", cls.attempts - 1)),
            backoff=number("CONDABOT_HTTP_BACKOFF", cls.backoff),
            connect_timeout=number("CONDABOT_HTTP_CONNECT_TIMEOUT", cls.connect_timeout),
            read_timeout=number("CONDABOT_REGISTRY_TIMEOUT", cls.read_timeout),
        )

    def delay(self, attempt: int, response: requests.Response | None = None) -> float:
        wait = self.backoff * (2**attempt)
        retry_after = response.headers.get("Retry-After", "") if response is not None else ""
        if retry_after.isdigit():
            wait = max(wait, float(retry_after))
        return float(min(wait, self.max_wait))


class _Body:
    """A streamed request body of known length (so requests sends Content-Length)."""

    def __init__(self, chunks: Iterable[bytes], size: int, stats: Stats) -> None:
        self.chunks, self.size, self.stats = chunks, size, stats

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.stats.bytes_uploaded += len(chunk)
            yield chunk


Scope = tuple[str, ...]


class Registry:
    """One registry host, authenticated as one user."""

    def __init__(
        self,
        host: str,
        credentials: Credentials | None = None,
        *,
        name: str | None = None,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.host = host
        self.name = name or host
        self.credentials = credentials
        self.policy = policy or RetryPolicy.from_env()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"condabot/{__version__}"
        api_host = DOCKERHUB_API if host in ("docker.io", "index.docker.io") else host
        scheme = "http" if LOOPBACK.match(api_host) else "https"
        self.base = f"{scheme}://{api_host}"
        self.stats = Stats()
        self._basic = False
        self._bearer: dict[str, str] | None = None  # the challenge's realm and service
        self._tokens: dict[Scope, tuple[str, float]] = {}  # token, when to fetch a new one
        self._referrers_api: bool | None = None  # whether the registry serves it; None: unknown

    # -- manifests ---------------------------------------------------------------------
    def manifest_digest(self, repo: str, reference: str) -> str | None:
        """The digest `reference` resolves to, or None if it does not exist."""
        response = self._call("HEAD", f"/v2/{repo}/manifests/{reference}", _pull(repo))
        if response.status_code == 404:
            return None
        self._check(response, f"look up {repo}:{reference}")
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
            return digest
        found = self.get_manifest(repo, reference)
        return found.digest if found else None

    def get_manifest(self, repo: str, reference: str) -> Manifest | None:
        response = self._call("GET", f"/v2/{repo}/manifests/{reference}", _pull(repo))
        if response.status_code == 404:
            return None
        self._check(response, f"read {repo}:{reference}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        manifest = Manifest(media_type or _media_type_of(response.content), response.content)
        if reference.startswith("sha256:") and manifest.digest != reference:
            raise PublishError(
                f"{self.name}: manifest {repo}@{reference} has digest {manifest.digest}",
                "the registry returned other content than it was asked for; report it",
            )
        return manifest

    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> str:
        response = self._call(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            _push(repo),
            headers={"Content-Type": manifest.media_type},
            body=lambda: manifest.body,
        )
        self._check(response, f"write {repo}:{reference}")
        self.stats.manifest_puts += 1
        stored = response.headers.get("Docker-Content-Digest", manifest.digest)
        if stored != manifest.digest:
            raise PublishError(
                f"{self.name}: {repo}:{reference} was stored as {stored}, not {manifest.digest}",
                "the registry rewrote the manifest; publish to it in OCI form is unsupported",
            )
        return stored

    def referrers(self, repo: str, digest: str) -> Manifest | None:
        """The OCI referrers API's index of what is attached to `digest`, or None when the
        registry does not serve the API (it answers 404; then the tag schema is used).
        Whether it does is asked once per registry."""
        if self._referrers_api is False:
            return None
        response = self._call(
            "GET",
            f"/v2/{repo}/referrers/{digest}",
            _pull(repo),
            headers={"Accept": OCI_INDEX},
        )
        if response.status_code in (404, 405) or (
            response.ok and OCI_INDEX not in response.headers.get("Content-Type", "")
        ):
            self._referrers_api = False
            return None
        self._check(response, f"list what refers to {repo}@{digest}")
        self._referrers_api = True
        return Manifest(OCI_INDEX, response.content)

    # -- blobs -------------------------------------------------------------------------
    def has_blob(self, repo: str, digest: str) -> bool:
        response = self._call("HEAD", f"/v2/{repo}/blobs/{digest}", _pull(repo))
        if response.status_code == 404:
            return False
        self._check(response, f"look up blob {digest} in {repo}")
        return True

    def get_blob(self, repo: str, digest: str) -> bytes:
        response = self._call("GET", f"/v2/{repo}/blobs/{digest}", _pull(repo))
        self._check(response, f"read blob {digest} from {repo}")
        if sha256_digest(response.content) != digest:
            raise PublishError(f"{self.name}: blob {digest} of {repo} is corrupt", "rerun")
        return response.content

    def open_blob(self, repo: str, digest: str) -> requests.Response:
        """A streamed response over a blob (close it when done)."""
        response = self._call("GET", f"/v2/{repo}/blobs/{digest}", _pull(repo), stream=True)
        self._check(response, f"read blob {digest} from {repo}")
        return response

    def mount_blob(self, repo: str, digest: str, source: str) -> bool:
        """Link a blob `source` (same registry) holds into `repo`; False if not mounted."""
        scope = (*_push(repo), f"repository:{source}:pull")
        path = f"/v2/{repo}/blobs/uploads/?mount={digest}&from={source}"
        response = self._call("POST", path, scope)
        self._check(response, f"mount blob {digest} into {repo}")
        if response.status_code == 201:
            self.stats.blob_mounts += 1
            return True
        self._cancel(response)
        return False

    def upload_blob(
        self, repo: str, digest: str, size: int, chunks: Callable[[], Iterable[bytes]]
    ) -> None:
        """Upload a blob, streamed from `chunks()`; the whole upload is retried on failure."""
        for attempt in range(self.policy.attempts):
            try:
                self._upload_once(repo, digest, size, chunks)
                self.stats.blob_uploads += 1
                return
            except _Transient as exc:
                log.info("%s: upload of %s failed (%s); retrying", self.name, digest, exc)
                time.sleep(self.policy.delay(attempt))
                if self.has_blob(repo, digest):
                    return
        raise PublishError(
            f"{self.name}: uploading blob {digest} to {repo} failed {self.policy.attempts} times",
            "the registry is unreachable or overloaded; rerun: the release resumes there",
        )

    def push_bytes(self, repo: str, data: bytes) -> str:
        digest = sha256_digest(data)
        if not self.has_blob(repo, digest):
            self.upload_blob(repo, digest, len(data), lambda: [data])
        return digest

    def _upload_once(
        self, repo: str, digest: str, size: int, chunks: Callable[[], Iterable[bytes]]
    ) -> None:
        start = self._call("POST", f"/v2/{repo}/blobs/uploads/", _push(repo))
        self._check(start, f"start an upload to {repo}")
        patch = self._call(
            "PATCH",
            self._location(start),
            _push(repo),
            headers={"Content-Type": "application/octet-stream"},
            body=lambda: _Body(chunks(), size, self.stats) if size else b"",
            retry=False,
        )
        self._check(patch, f"upload blob {digest} to {repo}")
        done = self._call(
            "PUT",
            _with_query(self._location(patch), f"digest={digest}"),
            _push(repo),
            headers={"Content-Length": "0"},
            retry=False,
        )
        self._check(done, f"finish blob {digest} in {repo}")

    def _location(self, response: requests.Response) -> str:
        location = response.headers.get("Location")
        if not location:
            raise PublishError(f"{self.name}: an upload answer has no Location", "report it")
        return urljoin(self.base + "/", location)

    def _cancel(self, response: requests.Response) -> None:
        if response.status_code == 202 and response.headers.get("Location"):
            self._call("DELETE", self._location(response), (), retry=False)

    # -- transport ---------------------------------------------------------------------
    def ping(self) -> None:
        """Authenticate once against the API root; AuthError if credentials are refused."""
        self._check(self._call("GET", "/v2/", ()), "reach the registry")

    def _call(
        self,
        method: str,
        path: str,
        scope: Scope,
        *,
        headers: dict[str, str] | None = None,
        body: Callable[[], Any] | None = None,
        stream: bool = False,
        retry: bool = True,
    ) -> requests.Response:
        """One request, answering an auth challenge once and retrying transient failures.

        With `retry=False` a transient failure raises `_Transient` for the caller to handle.
        Otherwise the last answer is returned (for `_check` to report), or PublishError
        raised when the registry could not be reached at all.
        """
        url = path if path.startswith(("http://", "https://")) else self.base + path
        attempts = self.policy.attempts if retry else 1
        challenged = False
        attempt = 0
        while True:
            response: requests.Response | None = None
            try:
                response = self._send(method, url, scope, headers, body, stream)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = type(exc).__name__
            else:
                if response.status_code == 401 and not challenged:
                    challenged = True
                    self._answer_challenge(response, scope)
                    continue
                if response.status_code not in RETRY_STATUSES:
                    return response
                failure = f"HTTP {response.status_code}"
            attempt += 1
            if attempt >= attempts:
                if not retry:
                    raise _Transient(failure)
                if response is not None:
                    return response
                raise PublishError(
                    f"{self.name}: {method} {urlsplit(url).path} failed after "
                    f"{attempts} attempts ({failure})",
                    "the registry is unreachable; rerun: the release resumes where it stopped",
                )
            log.info("%s: %s %s: %s; retrying", self.name, method, urlsplit(url).path, failure)
            time.sleep(self.policy.delay(attempt - 1, response))

    def _send(
        self,
        method: str,
        url: str,
        scope: Scope,
        headers: dict[str, str] | None,
        body: Callable[[], Any] | None,
        stream: bool,
    ) -> requests.Response:
        self.stats.requests[f"{method} {_kind(url)}"] += 1
        return self.session.request(
            method,
            url,
            headers={**self._auth(scope), **_accept(url), **(headers or {})},
            data=body() if body else None,
            stream=stream,
            timeout=(self.policy.connect_timeout, self.policy.read_timeout),
        )

    def _auth(self, scope: Scope) -> dict[str, str]:
        if self._bearer is not None:
            token, renew_at = self._tokens.get(scope) or self._tokens.get(
                _widened(scope), ("", 0.0)
            )
            if not token or time.monotonic() >= renew_at:
                token = self._fetch_token(scope)
            return {"Authorization": f"Bearer {token}"}
        if self._basic and self.credentials:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            encoded = base64.b64encode(pair).decode()
            register(encoded)
            return {"Authorization": f"Basic {encoded}"}
        return {}

    def _answer_challenge(self, response: requests.Response, scope: Scope) -> None:
        challenge = response.headers.get("WWW-Authenticate", "")
        kind = challenge.split(" ", 1)[0].lower()
        if kind == "basic":
            if self.credentials is None:
                raise self._refused()
            self._basic = True
        elif kind == "bearer":
            params = dict(_CHALLENGE.findall(challenge))
            if "realm" not in params:
                raise AuthError(f"{self.name}: a Bearer challenge without a realm", "report it")
            self._bearer = {"realm": params["realm"], "service": params.get("service", "")}
            self._tokens.pop(scope, None)  # expired (Docker Hub tokens live 5 minutes)
            self._fetch_token(scope)
        else:
            raise AuthError(f"{self.name}: unsupported auth challenge {challenge[:60]!r}")

    def _fetch_token(self, scope: Scope) -> str:
        assert self._bearer is not None
        params: list[tuple[str, str]] = [("service", self._bearer["service"])]
        params += [("scope", s) for s in scope]
        auth = None
        if self.credentials:
            auth = (self.credentials.username, self.credentials.password)
        for attempt in range(self.policy.attempts):
            self.stats.requests["GET token"] += 1
            try:
                response = self.session.get(
                    self._bearer["realm"],
                    params=params,
                    auth=auth,
                    timeout=(self.policy.connect_timeout, 60),
                )
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(self.policy.delay(attempt))
                continue
            if response.status_code in RETRY_STATUSES:
                time.sleep(self.policy.delay(attempt, response))
                continue
            if response.status_code in (401, 403):
                raise self._refused()
            if response.ok:
                return self._keep_token(scope, response.json())
            break
        raise AuthError(
            f"{self.name}: the token service {urlsplit(self._bearer['realm']).netloc} failed",
            "rerun later",
        )

    def _keep_token(self, scope: Scope, document: dict[str, Any]) -> str:
        token = str(document.get("token") or document.get("access_token") or "")
        register(token)
        # Renew ahead of expiry so a long upload never starts on a token about to lapse.
        lifetime = float(document.get("expires_in") or 60)
        self._tokens[scope] = (token, time.monotonic() + lifetime - min(30.0, lifetime / 2))
        return token

    def _refused(self) -> AuthError:
        if self.credentials is None:
            return AuthError(
                f"{self.name} requires credentials and none were found",
                "set them in the environment (see `condabot release --help`) "
                "or in ~/.docker/config.json",
            )
        return AuthError(
            f"{self.name} refused the credentials of user {self.credentials.username!r}",
            "check the username and token/password, and that they may push",
        )

    def _check(self, response: requests.Response, doing: str) -> None:
        if response.status_code < 400:
            return
        detail = _error_text(response)
        if response.status_code == 401:
            raise self._refused()
        if response.status_code == 403:
            raise AuthError(
                f"{self.name} denied: {doing} ({detail})",
                "give the credentials push access to the repository",
            )
        hint = "rerun: the release resumes where it stopped"
        if "NAME_UNKNOWN" in detail:
            hint = "create the repository in the registry first (ECR does not create it on push)"
        raise PublishError(
            f"{self.name}: cannot {doing}: HTTP {response.status_code} {detail}", hint
        )


class _Transient(Exception):
    """A failure inside an upload session, which restarts from its POST."""


def _pull(repo: str) -> Scope:
    return (f"repository:{repo}:pull",)


def _push(repo: str) -> Scope:
    return (f"repository:{repo}:pull,push",)


def _widened(scope: Scope) -> Scope:
    """The push scope of a pull-only scope: a token for it serves reads too."""
    return tuple(
        s.removesuffix(":pull") + ":pull,push" if s.endswith(":pull") else s for s in scope
    )


def _accept(url: str) -> dict[str, str]:
    return {"Accept": ", ".join(MANIFEST_TYPES)} if "/manifests/" in url else {}


def _kind(url: str) -> str:
    path = urlsplit(url).path
    for kind in ("manifests", "uploads", "blobs"):
        if f"/{kind}/" in path or path.endswith(f"/{kind}"):
            return kind.rstrip("s")
    return "api"


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _media_type_of(body: bytes) -> str:
    try:
        media_type = json.loads(body).get("mediaType")
    except ValueError:
        media_type = None
    return str(media_type or OCI_MANIFEST)


def _error_text(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)[:300]
    except ValueError:
        return response.text[:200].strip() or response.reason or ""
