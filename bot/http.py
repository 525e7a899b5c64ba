"""The one HTTP session the bot uses for upstream: timeouts, retries, conditional caching.

Retries (urllib3) cover connection errors, read timeouts, 429 and 5xx, with
exponential backoff and Retry-After honoured up to `max_wait`; a longer wait is
not slept through but reported. Caching (CacheControl, on disk) stores each
listing with its ETag / Last-Modified and revalidates it on every poll, so an
unchanged listing costs one 304 and no body bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cachecontrol import CacheControlAdapter
from cachecontrol.caches.file_cache import FileCache
from urllib3.util.retry import Retry

from bot import __version__

USER_AGENT = f"condabot/{__version__} (+https://github.com/condabot/condabot)"
RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5  # seconds; doubles each try
    max_wait: float = 120.0  # longest Retry-After we are willing to sleep through

    @classmethod
    def from_env(cls) -> HttpPolicy:
        def number(name: str, default: float) -> float:
            return float(os.environ.get(name, "") or default)

        return cls(
            connect_timeout=number("CONDABOT_HTTP_CONNECT_TIMEOUT", cls.connect_timeout),
            read_timeout=number("CONDABOT_HTTP_TIMEOUT", cls.read_timeout),
            retries=int(number("CONDABOT_HTTP_RETRIES", cls.retries)),
            backoff=number("CONDABOT_HTTP_BACKOFF", cls.backoff),
        )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


class _Retry(Retry):
    """urllib3's Retry, refusing to sleep through a Retry-After longer than `max_wait`."""

    max_wait: float = HttpPolicy.max_wait

    def sleep_for_retry(self, response: Any = None) -> bool:
        retry_after = self.get_retry_after(response) if response is not None else None
        if retry_after is not None and retry_after > self.max_wait:
            return False  # fall back to plain backoff; the caller reports the final status
        return bool(super().sleep_for_retry(response))

    def new(self, **kw: Any) -> _Retry:
        new: _Retry = super().new(**kw)
        new.max_wait = self.max_wait
        return new


def make_session(cache_dir: Path | None, policy: HttpPolicy | None = None) -> requests.Session:
    policy = policy or HttpPolicy.from_env()
    retry = _Retry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        backoff_factor=policy.backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.max_wait = policy.max_wait
    adapter_args: dict[str, Any] = {"max_retries": retry}
    if cache_dir is not None:
        adapter_args["cache"] = FileCache(str(cache_dir))
    else:
        adapter_args["cache_etags"] = True
    adapter = CacheControlAdapter(**adapter_args)
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("CONDABOT_CACHE_DIR") or Path(base) / "condabot")
