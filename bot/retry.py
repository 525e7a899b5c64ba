"""One retry policy for every remote: upstream and its mirrors, GitHub, and registries.

- Transient, retried: connection errors, timeouts, 429, 500, 502, 503, 504. Anything else
  (400, 401, 403, 404...) is final: never retried, the caller reports it.
- Backoff: `backoff` seconds before the first retry, doubling for each next one, never
  more than `max_wait`.
- Retry-After is honoured when it is readable and at most `max_wait`; an unreadable one
  ("soon", "-5") is ignored for the backoff; a longer one is refused, not slept through:
  the retries end there and the caller reports the answer (GitHub's: exit 9).
- Settings: `CONDABOT_HTTP_RETRIES` / `CONDABOT_HTTP_BACKOFF` (upstream and registries),
  `CONDABOT_GITHUB_RETRIES` / `CONDABOT_GITHUB_BACKOFF` (GitHub); a bad value is exit 2.

Upstream and GitHub retry inside urllib3 (`UrllibRetry`, adapted by `bot.http` and
`bot.forge.github`); the registry client retries through `call`.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn, Self

import requests
from urllib3 import BaseHTTPResponse
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from bot.errors import UsageError

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Policy:
    retries: int = 4  # after the first attempt
    backoff: float = 0.5  # seconds before the first retry; doubled for each next one
    max_wait: float = 120.0  # the longest wait slept through (Retry-After or backoff)

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def backoff_time(self, retry: int) -> float:
        """The wait before retry number `retry` (1, 2, ...) when the answer names none."""
        return float(min(self.backoff * 2 ** (retry - 1), self.max_wait))

    def wait(self, retry: int, retry_after: str | None) -> float | None:
        """The wait before retry number `retry`, or None: Retry-After asks for too long."""
        asked = retry_after_seconds(retry_after)
        if asked is None:
            return self.backoff_time(retry)
        return asked if asked <= self.max_wait else None


HTTP = Policy()
GITHUB = Policy(retries=5, backoff=1.0)


def from_env(
    prefix: str = "CONDABOT_HTTP", default: Policy = HTTP, environ: Mapping[str, str] | None = None
) -> Policy:
    """`default`, with the retries and backoff that `<prefix>_RETRIES` / `_BACKOFF` set."""
    env = os.environ if environ is None else environ
    return Policy(
        retries=count(env, f"{prefix}_RETRIES", default.retries),
        backoff=seconds(env, f"{prefix}_BACKOFF", default.backoff, zero=True),
        max_wait=default.max_wait,
    )


def seconds(env: Mapping[str, str], name: str, default: float, zero: bool = False) -> float:
    """A setting in seconds (above 0, or 0 too with `zero`); a bad value is a UsageError."""
    raw = env.get(name, "")
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        floor = "0 or more" if zero else "above 0"
        raise UsageError(
            f"{name}={raw!r} is not a number of seconds {floor}",
            f"set it to e.g. {default:g}, or unset it",
        )
    return value


def count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole-number setting; a bad value is a UsageError."""
    raw = env.get(name, "")
    if not raw.strip():
        return default
    if not raw.strip().isdigit():
        raise UsageError(f"{name}={raw!r} is not a whole number", f"set it to e.g. {default}")
    return int(raw)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds; None if absent or unreadable."""
    if value is None:
        return None
    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None


# -- for callers that retry on their own (the registry client) --------------------------


def call(
    attempt: Callable[[int], requests.Response], policy: Policy, what: str
) -> requests.Response:
    """`attempt(0)`, then `attempt(1)`... while it fails transiently and retries are left.

    The last answer is returned for the caller to judge: a final one at once, a transient
    one once the retries are spent or its Retry-After is refused. A connection error or
    timeout on the last attempt is raised.
    """
    retry = 0
    while True:
        wait: float | None
        try:
            response = attempt(retry)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if retry >= policy.retries:
                raise
            failure, wait = type(exc).__name__, policy.backoff_time(retry + 1)
        else:
            wait = policy.wait(retry + 1, response.headers.get("Retry-After"))
            transient = response.status_code in TRANSIENT_STATUSES
            if not transient or wait is None or retry >= policy.retries:
                return response
            failure = f"HTTP {response.status_code}"
            response.close()
        retry += 1
        log.info("%s: %s; retry %d of %d in %.2f s", what, failure, retry, policy.retries, wait)
        time.sleep(wait)


# -- for urllib3 (upstream) and PyGithub (GitHub) ---------------------------------------


class UrllibRetry(Retry):
    """urllib3's Retry on a Policy: its backoff schedule and its Retry-After rule. A
    Retry-After longer than `max_wait` ends the retries at once (`refuse`)."""

    def __init__(self, *, policy: Policy = HTTP, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> Self:
        return super().new(policy=self.policy, **kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        return retry_after_seconds(response.headers.get("Retry-After"))

    def get_backoff_time(self) -> float:
        return self.policy.backoff_time(max(1, len(self.history)))

    def time_left(self) -> float:
        """How long the request may still take (a deadline's adapter says)."""
        return math.inf

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        asked = self.get_retry_after(response) if response is not None else None
        time.sleep(max(0.0, min(asked or self.get_backoff_time(), self.time_left())))

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None:
            asked = self.get_retry_after(response)
            if asked is not None and asked > self.policy.max_wait:
                self.refuse(response, asked, _pool)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def refuse(
        self, response: BaseHTTPResponse, wait: float, pool: ConnectionPool | None
    ) -> NoReturn:
        """End the retries: urllib3 hands the caller this answer (raise_on_status=False)."""
        reason = f"asked to wait {wait:g} s, more than {self.policy.max_wait:g} s"
        raise MaxRetryError(pool, response.url or "", ResponseError(reason))  # type: ignore[arg-type]
