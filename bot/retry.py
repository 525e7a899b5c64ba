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

Upstream, its mirrors and the registry retry through `call`; GitHub retries inside
PyGithub's urllib3 (`bot.forge.github` adapts the policy to it).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

from bot.errors import UsageError

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Policy:
    """How often and how patiently a remote is retried."""

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
    """A Retry-After header (seconds or an HTTP date) in seconds; None if absent or unreadable.
    A date in the past is 0."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


# -- the retry loop ---------------------------------------------------------------------


class _Headers(Protocol):
    def get(self, name: str, /) -> str | None: ...


class Answer(Protocol):
    """What `call` needs of an HTTP answer (a requests Response, or `bot.http`'s)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> _Headers: ...

    def close(self) -> None: ...


A = TypeVar("A", bound=Answer)


def _never_late() -> float:
    return math.inf


def call(
    attempt: Callable[[int], A],
    policy: Policy,
    what: str,
    errors: tuple[type[BaseException], ...],
    time_left: Callable[[], float] = _never_late,
) -> A:
    """`attempt(0)`, then `attempt(1)`... while it fails transiently and retries are left.

    Transient: an answer with a status in TRANSIENT_STATUSES, or one of `errors` raised
    (connection errors, timeouts). The last answer is returned for the caller to judge: a
    final one at once, a transient one once the retries are spent, its Retry-After is
    refused or `time_left()` (a deadline) runs out. An error on the last attempt is raised.
    No wait is longer than what is left, and no attempt starts once nothing is left: it
    could not finish, and a server would still take it.
    """
    retry = 0
    while True:
        try:
            response = attempt(retry)
        except errors as exc:
            if retry >= policy.retries or time_left() <= 0:
                raise
            wait = policy.backoff_time(retry + 1)
            if not _pause(f"{what}: {type(exc).__name__}", retry + 1, wait, policy, time_left):
                raise
        else:
            asked = policy.wait(retry + 1, response.headers.get("Retry-After"))
            transient = response.status_code in TRANSIENT_STATUSES
            if not transient or asked is None or retry >= policy.retries or time_left() <= 0:
                return response
            failure = f"{what}: HTTP {response.status_code}"
            if not _pause(failure, retry + 1, asked, policy, time_left):
                return response
            response.close()
        retry += 1


def _pause(
    failure: str, retry: int, wait: float, policy: Policy, time_left: Callable[[], float]
) -> bool:
    """Wait before retry number `retry`; False if the deadline passed meanwhile."""
    wait = max(0.0, min(wait, time_left()))
    log.info("%s; retry %d of %d in %.2f s", failure, retry, policy.retries, wait)
    time.sleep(wait)
    return time_left() > 0
