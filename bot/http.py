"""The one HTTP session the bot uses for upstream: timeouts, deadlines, retries, caching.

- Retries: `bot.retry`'s policy, run by urllib3 (GET and HEAD): connection errors, read
  timeouts, 429 and 5xx, with backoff; a Retry-After longer than the policy's `max_wait`
  ends them and is reported, an unreadable one is ignored for the backoff.
- Deadlines: a read timeout never fires for a server that sends one byte a second,
  so every request (all its attempts, waits and bytes, headers and body) must end
  within `request_deadline`, and all requests of one session within `run_deadline`.
  The socket reader of each response checks the deadline before every read.
- Redirects are followed only to http(s) URLs with a valid port, at most
  `MAX_REDIRECTS` times.
- Caching (CacheControl, on disk) stores each listing with its ETag and/or
  Last-Modified and revalidates it on every poll (the caller asks with
  `Cache-Control: max-age=0`), so an unchanged listing costs one 304 and no body
  bytes. CacheControl keeps nothing that has neither an ETag nor a freshness
  lifetime, so an answer with only Last-Modified (a plain static server) is stored
  as already stale: kept, and revalidated with If-Modified-Since. A freshness
  heuristic (CacheControl's LastModified) is not used: it would serve a listing
  unasked for up to a day and hide a new release.
"""

from __future__ import annotations

import http.client
import io
import math
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
from cachecontrol import CacheControlAdapter
from cachecontrol.caches.file_cache import FileCache
from cachecontrol.heuristics import BaseHeuristic
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from requests.utils import get_auth_from_url, get_netrc_auth
from urllib3 import BaseHTTPResponse
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from bot import __version__, retry, secrets
from bot.errors import UsageError
from bot.retry import seconds

USER_AGENT = f"condabot/{__version__} (+https://github.com/condabot/condabot)"
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class HttpPolicy:
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


# -- deadlines -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic() by which the request must be over
    seconds: float
    kind: str  # "request" or "run"
    setting: str  # the environment variable that sets it

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.remaining() <= 0

    def __str__(self) -> str:
        return f"{self.seconds:g} s {self.kind} deadline ({self.setting})"


class _Current(threading.local):
    """The deadline of the request this thread is making (set by UpstreamSession)."""

    deadline: Deadline | None = None


_current = _Current()


def _remaining() -> float:
    deadline = _current.deadline
    return math.inf if deadline is None else deadline.remaining()


class DeadlineExceeded(requests.exceptions.Timeout):
    """A request was asked for after its run's deadline had passed."""


class _DeadlineSocketIO(socket.SocketIO):
    """The socket reader of one response: before every read, the socket timeout is
    cut to what is left of the deadline, and once nothing is left a read fails like
    a read timeout (which urllib3 and requests already know how to report)."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        super().__init__(sock, "rb")
        self._socket = sock
        self._deadline = deadline

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise TimeoutError(f"the {self._deadline} has passed")
        timeout = self._socket.gettimeout()
        self._socket.settimeout(remaining if timeout is None else min(timeout, remaining))
        try:
            return super().readinto(buffer)
        finally:
            self._socket.settimeout(timeout)


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = _current.deadline
        if deadline is not None:
            self.fp.close()  # nothing was read from it yet
            self.fp = io.BufferedReader(_DeadlineSocketIO(sock, deadline))


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def _with_deadline_pools(manager: PoolManager) -> PoolManager:
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager


# -- retries -------------------------------------------------------------------------


class _Retry(retry.UrllibRetry):
    """The policy's retries, within the request's deadline."""

    def time_left(self) -> float:
        return _remaining()

    def is_exhausted(self) -> bool:
        return bool(super().is_exhausted()) or _remaining() <= 0


# -- caching -------------------------------------------------------------------------


class _RevalidateLastModified(BaseHeuristic):
    """Store an answer whose only validator is Last-Modified, as already stale."""

    def update_headers(self, response: BaseHTTPResponse) -> dict[str, str]:
        headers = response.headers
        if response.status != 200 or "etag" in headers or "last-modified" not in headers:
            return {}
        if "expires" in headers or "max-age" in headers.get("cache-control", ""):
            return {}
        date = headers.get("date") or formatdate(usegmt=True)
        return {"date": date, "expires": date}

    def warning(self, response: BaseHTTPResponse) -> str | None:
        return None


class _Adapter(HTTPAdapter):
    """requests' adapter whose connections read under the request's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _with_deadline_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            _with_deadline_pools(manager)
        return manager


class _CachingAdapter(CacheControlAdapter, _Adapter):
    """The same, with CacheControl's conditional cache."""


# -- the session ---------------------------------------------------------------------


class UnsafeRedirect(requests.exceptions.InvalidURL):
    """A redirect to somewhere the bot will not follow (file://, a port out of range...)."""

    def __init__(self, target: str, problem: str) -> None:
        super().__init__(f"redirected to {target}: {problem}")
        self.target = target
        self.problem = problem


class UpstreamSession(requests.Session):
    """A requests Session that holds every request to its deadlines and follows only
    sane redirects. A request without a timeout gets the policy's."""

    def __init__(self, policy: HttpPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.auth = _MirrorAuth()
        self.max_redirects = MAX_REDIRECTS
        self.run_deadline = Deadline(
            time.monotonic() + policy.run_deadline,
            policy.run_deadline,
            "run",
            "CONDABOT_HTTP_DEADLINE",
        )
        self.deadline = self.run_deadline  # the current request's

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        per_request = Deadline(
            time.monotonic() + self.policy.request_deadline,
            self.policy.request_deadline,
            "request",
            "CONDABOT_HTTP_REQUEST_DEADLINE",
        )
        self.deadline = min(per_request, self.run_deadline, key=lambda d: d.at)
        _current.deadline = self.deadline
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise DeadlineExceeded(f"the {self.deadline} has passed")
        kwargs["timeout"] = _capped(kwargs.get("timeout") or self.policy.timeout, remaining)
        return super().request(method, url, *args, **kwargs)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is not None:
            absolute = urljoin(resp.url, target)
            problem = url_problem(absolute)
            if problem:
                raise UnsafeRedirect(absolute[:200], problem)
        return target


def _capped(timeout: Any, remaining: float) -> Any:
    if isinstance(timeout, tuple):
        return tuple(None if t is None else min(t, remaining) for t in timeout)
    if isinstance(timeout, int | float):
        return min(timeout, remaining)
    return timeout  # a urllib3 Timeout: the socket reader still holds it to the deadline


def make_session(cache_dir: Path | None, policy: HttpPolicy | None = None) -> UpstreamSession:
    """The session for upstream and its mirrors: listings are cached in `cache_dir`;
    with None nothing is cached (installer downloads)."""
    policy = policy or HttpPolicy.from_env()
    retries = _Retry(
        policy=policy.retry,
        total=policy.retry.retries,
        status_forcelist=retry.TRANSIENT_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
    )
    adapter: HTTPAdapter = _Adapter(max_retries=retries)
    if cache_dir is not None:
        _prepare_cache_dir(cache_dir)
        cache = FileCache(str(cache_dir))
        heuristic = _RevalidateLastModified()
        adapter = _CachingAdapter(cache=cache, heuristic=heuristic, max_retries=retries)
    session = UpstreamSession(policy)
    session.headers["User-Agent"] = USER_AGENT
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


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


# -- URLs and credentials ------------------------------------------------------------


def url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched (not http(s), no host, a bad port), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are fetched"
    if not parts.hostname:
        return "the URL has no host"
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


_MIRROR_CREDENTIALS: dict[tuple[str, str, int | None], tuple[str, str]] = {}


def split_credentials(url: str) -> str:
    """`url` without its userinfo. The credentials it held are remembered for its
    origin (scheme, host, port): every session from `make_session` sends them there
    and nowhere else, and `bot.secrets` masks them wherever they would be printed."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    username, _, password = (unquote(p) for p in userinfo.partition(":"))
    secrets.register(password or username)  # a lone user part is usually a token
    clean = urlunsplit(parts._replace(netloc=hostport))
    _MIRROR_CREDENTIALS[_origin(clean)] = (username, password)
    return clean


def forget_credentials() -> None:
    """Drop every remembered mirror credential (a long-lived process, such as tests)."""
    _MIRROR_CREDENTIALS.clear()


class _MirrorAuth(AuthBase):
    """As requests does without a session auth (the URL's own userinfo, else
    ~/.netrc), and in between the credentials remembered for the URL's origin."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        in_url = get_auth_from_url(url)
        credentials = (
            (in_url if any(in_url) else None)
            or _MIRROR_CREDENTIALS.get(_origin(url))
            or get_netrc_auth(url)
        )
        if credentials:
            authorized: requests.PreparedRequest = HTTPBasicAuth(*credentials)(request)
            return authorized
        return request
