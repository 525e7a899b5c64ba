"""An OCI distribution API client over requests: manifests, blobs, auth challenges, retries.

Auth follows the registry's `WWW-Authenticate` challenge: `Basic` (distribution with
htpasswd, ECR) or `Bearer realm=...,service=...` (Docker Hub, GHCR, ECR Public), whose token
is fetched per scope with the credentials and cached. Blobs are uploaded as one streamed
PATCH between POST and PUT, which every registry accepts; `mount` asks the registry to link a
blob another repository of it already holds. Transient failures (connection errors, 429,
5xx) are retried by `bot.retry`'s policy (an upload from its POST); 400, 401, 403 and 404
never are.

A host on loopback (`127.0.0.1:5000`, `localhost:5000`) is spoken to over plain http.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from bot import __version__, retry
from bot.errors import AuthError, PublishError
from bot.secrets import register

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$")
DOCKERHUB_API = "registry-1.docker.io"
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_UNREACHABLE = (requests.ConnectionError, requests.Timeout)  # retried, then reported


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        register(self.password)
        register(self.basic)  # as a docker config's `auth` and a Basic header carry it

    @property
    def basic(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


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


class RegistryClient:
    """The OCI distribution API of one registry host, authenticated as one user."""

    def __init__(
        self,
        host: str,
        credentials: Credentials | None = None,
        *,
        name: str | None = None,
        policy: retry.Policy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.host = host
        self.name = name or host
        self.credentials = credentials
        self.policy = policy or retry.from_env()
        self.timeout = (
            retry.seconds(os.environ, "CONDABOT_HTTP_CONNECT_TIMEOUT", 10.0),
            retry.seconds(os.environ, "CONDABOT_REGISTRY_TIMEOUT", 300.0),
        )
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
        """Upload a blob, streamed from `chunks()`; a transient failure restarts the upload."""
        done = self._retrying(
            f"upload of {digest} to {repo}",
            lambda attempt: self._upload_once(repo, digest, size, chunks, again=attempt > 0),
        )
        self._check(done, f"upload blob {digest} to {repo}")
        if done.request.method == "PUT":
            self.stats.blob_uploads += 1

    def _upload_once(
        self,
        repo: str,
        digest: str,
        size: int,
        chunks: Callable[[], Iterable[bytes]],
        *,
        again: bool,
    ) -> requests.Response:
        """POST, one streamed PATCH, PUT: the PUT's answer, or the first that failed. A retry
        first asks whether the failed attempt stored the blob after all."""
        if again:
            found = self._send("HEAD", self.base + f"/v2/{repo}/blobs/{digest}", _pull(repo))
            if found.status_code == 200:
                return found
        start = self._send("POST", self.base + f"/v2/{repo}/blobs/uploads/", _push(repo))
        if not start.ok:
            return start
        patch = self._send(
            "PATCH",
            self._location(start),
            _push(repo),
            headers={"Content-Type": "application/octet-stream"},
            body=lambda: _Body(chunks(), size, self.stats) if size else b"",
        )
        if not patch.ok:
            return patch
        return self._send(
            "PUT",
            _with_query(self._location(patch), f"digest={digest}"),
            _push(repo),
            headers={"Content-Length": "0"},
        )

    def _location(self, response: requests.Response) -> str:
        location = response.headers.get("Location")
        if not location:
            raise PublishError(f"{self.name}: an upload answer has no Location", "report it")
        return urljoin(self.base + "/", location)

    def _cancel(self, response: requests.Response) -> None:
        if response.status_code == 202 and response.headers.get("Location"):
            self._send("DELETE", self._location(response), ())

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
    ) -> requests.Response:
        """One request, retried while it fails transiently: its last answer, for `_check`."""
        url = self.base + path
        return self._retrying(
            f"{method} {path}", lambda _: self._send(method, url, scope, headers, body, stream)
        )

    def _retrying(
        self, what: str, attempt: Callable[[int], requests.Response]
    ) -> requests.Response:
        try:
            return retry.call(attempt, self.policy, f"{self.name}: {what}", _UNREACHABLE)
        except _UNREACHABLE as exc:
            raise PublishError(
                f"{self.name}: {what} failed after {self.policy.attempts} attempts "
                f"({type(exc).__name__})",
                "the registry is unreachable; rerun: the release resumes where it stopped",
            ) from exc

    def _send(
        self,
        method: str,
        url: str,
        scope: Scope,
        headers: dict[str, str] | None = None,
        body: Callable[[], Any] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One attempt: the request, and once more if it met an auth challenge."""

        def request() -> requests.Response:
            self.stats.requests[f"{method} {_kind(url)}"] += 1
            return self.session.request(
                method,
                url,
                headers={**self._auth(scope), **_accept(url), **(headers or {})},
                data=body() if body else None,
                stream=stream,
                timeout=self.timeout,
            )

        response = request()
        if response.status_code == 401:
            self._answer_challenge(response, scope)
            response = request()
        return response

    def _auth(self, scope: Scope) -> dict[str, str]:
        if self._bearer is not None:
            token, renew_at = self._tokens.get(scope) or self._tokens.get(
                _widened(scope), ("", 0.0)
            )
            if not token or time.monotonic() >= renew_at:
                token = self._fetch_token(scope)
            return {"Authorization": f"Bearer {token}"}
        if self._basic and self.credentials:
            return {"Authorization": f"Basic {self.credentials.basic}"}
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
        realm = self._bearer["realm"]
        params = [("service", self._bearer["service"]), *(("scope", s) for s in scope)]
        auth = (self.credentials.username, self.credentials.password) if self.credentials else None

        def get(_: int) -> requests.Response:
            self.stats.requests["GET token"] += 1
            return self.session.get(realm, params=params, auth=auth, timeout=(self.timeout[0], 60))

        try:
            response: requests.Response | None = retry.call(
                get, self.policy, f"{self.name}: token", _UNREACHABLE
            )
        except _UNREACHABLE:
            response = None
        if response is not None and response.status_code in (401, 403):
            raise self._refused()
        if response is None or not response.ok:
            raise AuthError(
                f"{self.name}: the token service {urlsplit(realm).netloc} failed", "rerun later"
            )
        return self._keep_token(scope, response.json())

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
        if wait := retry.retry_after_seconds(response.headers.get("Retry-After")):
            hint = f"the registry asks to wait {wait:g} s; then {hint}"
        if "NAME_UNKNOWN" in detail:
            hint = "create the repository in the registry first (ECR does not create it on push)"
        raise PublishError(
            f"{self.name}: cannot {doing}: HTTP {response.status_code} {detail}", hint
        )


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
