"""Bookkeeping around requests: the request log, injected faults and rate-limit buckets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    """One request as the stand-in saw it."""

    method: str
    path: str  # without the query string, still percent-encoded
    query: str
    status: int
    login: str | None  # None: no token; "<bad token>": a token nobody owns
    injected: bool = False
    operation: str | None = None  # the OpenAPI path template that served it
    request_body: Any = None
    response_body: bytes = b""
    content_type: str = ""

    def json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None


@dataclass
class Fault:
    """An answer to give instead of the real one, ``times`` times (``None``: forever)."""

    method: str  # "*" matches any method
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int | None = 1
    delay: float = 0.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return self.method in ("*", method) and self.pattern.search(path) is not None


@dataclass
class Hook:
    """An action to run once, right before the ``nth`` matching request is served."""

    method: str  # "*" matches any method
    pattern: re.Pattern[str]
    action: Callable[[], object]
    contains: str | None = None  # a substring the request body must hold
    nth: int = 1
    seen: int = 0
    fired: bool = False

    def due(self, method: str, path: str, raw: bytes) -> bool:
        if self.fired or self.method not in ("*", method) or not self.pattern.search(path):
            return False
        if self.contains is not None and self.contains.encode() not in raw:
            return False
        self.seen += 1
        self.fired = self.seen >= self.nth
        return self.fired


class RequestLog:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        self.records.append(record)

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        return len(self.select(method, path_prefix))

    def select(
        self, method: str | None = None, path_prefix: str | None = None
    ) -> list[RequestRecord]:
        return [
            r
            for r in self.records
            if (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
        ]

    def writes(self) -> list[RequestRecord]:
        return [r for r in self.records if r.method not in ("GET", "HEAD")]

    def reset(self) -> None:
        self.records.clear()


@dataclass
class Bucket:
    limit: int
    used: int = 0
    reset_at: int = 0  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


class RateLimits:
    """GitHub's primary rate limit: one hourly bucket per account (and one for anonymous)."""

    WINDOW = 3600

    def __init__(self, limit: int, anonymous_limit: int = 60) -> None:
        self.default_limit = limit
        self.anonymous_limit = anonymous_limit
        self.buckets: dict[str, Bucket] = {}
        self.overrides: dict[str, int] = {}

    def bucket(self, login: str | None, now: int) -> Bucket:
        key = login or ""
        bucket = self.buckets.get(key)
        if bucket is None or now >= bucket.reset_at:
            limit = self.overrides.get(
                key, self.anonymous_limit if login is None else self.default_limit
            )
            bucket = Bucket(limit=limit, reset_at=now + self.WINDOW)
            self.buckets[key] = bucket
        return bucket

    def set_limit(self, login: str | None, limit: int, used: int = 0) -> None:
        key = login or ""
        self.overrides[key] = limit
        existing = self.buckets.get(key)
        if existing is not None:
            existing.limit = limit
            existing.used = used

    def reset(self) -> None:
        self.buckets.clear()
        self.overrides.clear()

    @staticmethod
    def headers(bucket: Bucket) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(bucket.limit),
            "x-ratelimit-remaining": str(bucket.remaining),
            "x-ratelimit-reset": str(bucket.reset_at),
            "x-ratelimit-used": str(bucket.used),
            "x-ratelimit-resource": "core",
        }
