"""The one HTTP client the bot uses for upstream and its mirrors, on the standard library.

GET only, one connection per request. What it promises:

- Retries: `bot.retry`'s policy and loop: connection errors, timeouts before the answer's
  headers, 429 and 5xx, with backoff; a Retry-After longer than the policy's `max_wait`
  ends them, and the answer goes back to the caller to report.
- Deadlines: a read timeout never fires for a server that sends one byte a second, so
  every request (all its attempts, waits and bytes, headers and body) must end within
  `request_deadline`, and all requests of one session within `run_deadline`. The socket
  reader of each answer checks the deadline before every read.
- Redirects are followed only to http(s) URLs with a valid port, at most `MAX_REDIRECTS`
  times. Credentials go to their own origin only: a URL's userinfo, else those remembered
  by `split_credentials`, else ~/.netrc's for the host.
- Bodies stream through `Response.chunks`, gzip and deflate decoded on the way. A body
  cut off (short of its Content-Length, a broken chunk) or silent for the read timeout is
  a `FetchError`, never a short body.
- Caching (`bot.http.cache`): a session with a cache keeps each complete answer that has
  an ETag or Last-Modified and revalidates it on every request, so an unchanged listing
  costs one 304 and no body bytes. Nothing is served unasked: a freshness heuristic would
  hide a new release for up to a day.
- Proxies: HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as curl and requests read them (an
  https URL is tunnelled with CONNECT). Certificates: the system's store (SSL_CERT_FILE,
  SSL_CERT_DIR), else certifi's; REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE name another.

Why not requests: it and urllib3 cost ~85 ms of CPU to import, nearly half of what a
whole `condabot plan` on one Dockerfile may take; what upstream needs of HTTP is here.
"""

from __future__ import annotations

import http.client
import logging
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from bot import __version__, retry
from bot.errors import UsageError
from bot.http.origins import (
    basic_auth,
    credentials_for,
    hostport,
    origin,
    proxy_for,
    shown,
    url_problem,
    userinfo,
)
from bot.http.response import Deadline, DeadlineResponse, Failure, FetchError, Response, words
from bot.retry import seconds

if TYPE_CHECKING:
    from bot.http.cache import Cache

log = logging.getLogger(__name__)

USER_AGENT = f"condabot/{__version__} (+https://github.com/condabot/condabot)"
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Retried by `retry.call`: refused or reset connections, timeouts, a server that hangs up.
_TRANSIENT = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, deadlines and retries of upstream requests (`CONDABOT_HTTP_*`)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    request_deadline: float = 600.0  # one request: every attempt, wait and byte of its answer
    run_deadline: float = 1800.0  # every request of one session (one run)
    retry: retry.Policy = retry.HTTP

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpPolicy:
        """The policy from CONDABOT_HTTP_* settings; a bad value is a UsageError."""
        env = os.environ if environ is None else environ
        return cls(
            connect_timeout=seconds(env, "CONDABOT_HTTP_CONNECT_TIMEOUT", cls.connect_timeout),
            read_timeout=seconds(env, "CONDABOT_HTTP_TIMEOUT", cls.read_timeout),
            request_deadline=seconds(env, "CONDABOT_HTTP_REQUEST_DEADLINE", cls.request_deadline),
            run_deadline=seconds(env, "CONDABOT_HTTP_DEADLINE", cls.run_deadline),
            retry=retry.from_env(environ=env),
        )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


# -- the session ---------------------------------------------------------------------


class Session:
    """Requests to upstream and its mirrors, held to one run's deadline (see the module)."""

    def __init__(self, policy: HttpPolicy, cache: Cache | None = None) -> None:
        self.policy = policy
        self.cache = cache
        self.headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
        self.run_deadline = Deadline(
            time.monotonic() + policy.run_deadline,
            policy.run_deadline,
            "run",
            "CONDABOT_HTTP_DEADLINE",
        )
        self.deadline = self.run_deadline  # the current request's
        self._tls: ssl.SSLContext | None = None

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """The answer to GET `url` after redirects and retries: any status, for the caller
        to judge; FetchError when there is none."""
        per_request = Deadline(
            time.monotonic() + self.policy.request_deadline,
            self.policy.request_deadline,
            "request",
            "CONDABOT_HTTP_REQUEST_DEADLINE",
        )
        self.deadline = min(per_request, self.run_deadline, key=lambda d: d.at)
        if self.deadline.passed():
            raise FetchError(Failure.DEADLINE, f"the {self.deadline} has passed")
        stored = self.cache.load(url) if self.cache is not None else None
        sent = {**self.headers, **(headers or {}), **(stored.validators if stored else {})}
        response = self._follow(url, sent, self.policy.timeout)
        if stored is not None and response.status_code == 304:
            response.close()
            return Response(200, stored.headers(), stored.open())
        if self.cache is not None and response.status_code == 200:
            entry = self.cache.entry(url, response.headers)
            if entry is not None:
                response.keep(entry)
        return response

    def _follow(self, url: str, headers: dict[str, str], timeout: tuple[float, float]) -> Response:
        first, own = origin(url), userinfo(url)
        for _ in range(MAX_REDIRECTS + 1):
            credentials = (own if origin(url) == first else None) or credentials_for(url)
            sent = {**headers, "Authorization": basic_auth(credentials)} if credentials else headers
            response = self._retrying(url, sent, timeout)
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            response.close()
            target = urljoin(url, location.strip())
            if problem := url_problem(target):
                raise FetchError(Failure.BAD_REDIRECT, problem, target=shown(target)[:200])
            log.debug("GET %s: %d to %s", shown(url), response.status_code, shown(target))
            url = target
        raise FetchError(Failure.REDIRECT_LOOP, f"more than {MAX_REDIRECTS} redirects")

    def _retrying(
        self, url: str, headers: dict[str, str], timeout: tuple[float, float]
    ) -> Response:
        def attempt(_: int) -> Response:
            return self._send(url, headers, timeout)

        what, left = f"GET {shown(url)}", self.deadline.remaining
        try:
            return retry.call(attempt, self.policy.retry, what, _TRANSIENT, left)
        except _TRANSIENT as exc:
            if self.deadline.passed():
                raise FetchError(Failure.DEADLINE, words(exc)) from exc
            failure = Failure.TIMEOUT if isinstance(exc, TimeoutError) else Failure.CONNECT
            raise FetchError(failure, words(exc)) from exc

    def _send(self, url: str, headers: dict[str, str], timeout: tuple[float, float]) -> Response:
        parts = urlsplit(url)
        remaining = max(self.deadline.remaining(), 0.001)
        connection, target, sent = self._route(parts, min(timeout[0], remaining))
        sent.update(headers)
        deadline = self.deadline
        reader = partial(DeadlineResponse, deadline=deadline)
        connection.response_class = cast(type[http.client.HTTPResponse], reader)
        try:
            connection.connect()
            if connection.sock is not None:
                connection.sock.settimeout(min(timeout[1], remaining))
            connection.request("GET", target, headers=sent)
            raw = connection.getresponse()
        except ssl.SSLCertVerificationError as exc:  # final (and a ValueError too)
            connection.close()
            raise FetchError(Failure.UNTRUSTED, exc.verify_message or words(exc)) from exc
        except (http.client.InvalidURL, ValueError) as exc:  # a bad port, a bad IDNA host
            connection.close()
            raise FetchError(Failure.BAD_URL, words(exc)) from exc
        except BaseException:
            connection.close()
            raise
        log.debug("GET %s: %d", shown(url), raw.status)
        authorized = "Authorization" in headers
        return Response(raw.status, raw.msg, raw, authorized, deadline, connection)

    def _route(
        self, parts: SplitResult, timeout: float
    ) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
        """How to reach `parts`, straight or through the environment's proxy: the
        connection, what the request line asks for (never with userinfo), and the
        proxy's headers."""
        host, port = parts.hostname or "", parts.port
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        proxy = proxy_for(parts)
        if proxy is None:
            if parts.scheme == "http":
                return http.client.HTTPConnection(host, port, timeout=timeout), path, {}
            context = self._tls_context()
            tls = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
            return tls, path, {}
        auth = userinfo(proxy)
        headers = {"Proxy-Authorization": basic_auth(auth)} if auth else {}
        address = urlsplit(proxy)
        proxy_host, proxy_port = address.hostname or "", address.port or 80
        if parts.scheme == "http":  # the proxy is asked for the whole URL
            whole = urlunsplit(parts._replace(netloc=hostport(parts), fragment=""))
            return (
                http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout),
                whole,
                headers,
            )
        context = self._tls_context()
        tunnel = http.client.HTTPSConnection(
            proxy_host, proxy_port, timeout=timeout, context=context
        )
        tunnel.set_tunnel(host, port or 443, headers=headers)
        return tunnel, path, {}

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = _tls_context()
        return self._tls


def _tls_context() -> ssl.SSLContext:
    """The system's CA store, or the bundle (file or folder) REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE names; certifi's when the system has none (a slim container)."""
    name = next((n for n in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if os.environ.get(n)), None)
    bundle = os.environ[name] if name else None
    try:
        if bundle is not None and os.path.isdir(bundle):
            return ssl.create_default_context(capath=bundle)
        context = ssl.create_default_context(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"{name}={bundle!r} is not a readable CA bundle ({words(exc)})",
            "point it at a PEM file of CA certificates, or unset it",
        ) from exc
    if bundle is None and not context.cert_store_stats()["x509_ca"]:
        try:
            import certifi
        except ImportError:
            return context
        context.load_verify_locations(cafile=certifi.where())
    return context


def make_session(cache_dir: Path | None, policy: HttpPolicy | None = None) -> Session:
    """The session for upstream and its mirrors: listings are cached in `cache_dir`;
    with None nothing is cached (installer downloads stream through uncopied)."""
    policy = policy or HttpPolicy.from_env()
    if cache_dir is None:
        return Session(policy)
    from bot.http.cache import Cache

    _prepare_cache_dir(cache_dir)
    return Session(policy, Cache(cache_dir))


def _prepare_cache_dir(path: Path) -> None:
    hint = "point --cache-dir or CONDABOT_CACHE_DIR at a writable directory"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise UsageError(f"the cache directory {path} is not a directory", hint) from exc
    except OSError as exc:
        raise UsageError(
            f"cannot create the cache directory {path} ({exc.strerror})", hint
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"the cache directory {path} is not writable", hint)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("CONDABOT_CACHE_DIR") or Path(base) / "condabot")
