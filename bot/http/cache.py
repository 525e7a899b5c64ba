"""The on-disk cache of `bot.http` sessions: conditional requests for listings.

An answer is kept only whole (its body read to the end and decoded) and only with a
validator (ETag or Last-Modified), never with `Cache-Control: no-store`. Each is one file,
`<cache dir>/http/<the URL, quoted>.<its CRC-32>`: a line of JSON (URL, validators,
Content-Type, body size), then the body. It is written to a temporary file and renamed into
place, so a crash or a second run at the same time leaves the old copy or the new one,
never half of either (a run killed mid-write leaves a `.partial` file, swept by a later
write); a file damaged since is ignored (one full download), never served. A kept answer is
never served unasked: the session revalidates it on every request.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import logging
import os
import time
import zlib
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

log = logging.getLogger(__name__)

_FOLDER = "http"


@dataclass(frozen=True)
class Stored:
    """A kept answer: its validators and its body, read at once (a run that replaces the
    file meanwhile cannot pair these validators with another body)."""

    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None

    @property
    def validators(self) -> dict[str, str]:
        """The headers that ask the server whether this copy is still current."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def headers(self) -> Message:
        message = Message()
        for name, value in (("ETag", self.etag), ("Last-Modified", self.last_modified),
                            ("Content-Type", self.content_type)):  # fmt: skip
            if value:
                message[name] = value
        return message

    def open(self) -> BinaryIO:
        return io.BytesIO(self.body)


class Entry:
    """A body on its way into the cache, held until `commit` writes it whole (listings
    are small; installers are never cached)."""

    def __init__(self, path: Path, meta: dict[str, str | None]) -> None:
        self._path = path
        self._meta = meta
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._chunks.append(data)

    def commit(self) -> None:
        body = b"".join(self._chunks)
        self._chunks = []
        head = json.dumps({**self._meta, "size": len(body)}).encode() + b"\n"
        partial = self._path.with_name(f"{self._path.name}.{os.getpid()}.partial")
        try:
            with partial.open("wb") as file:
                file.write(head + body)
            os.replace(partial, self._path)
        except OSError as exc:
            # Only costs a full download next time: worth a word, not the run.
            log.warning("cannot keep %s in the cache: %s", self._path, exc.strerror or exc)
            partial.unlink(missing_ok=True)
        self._sweep()

    def _sweep(self) -> None:
        """Remove the partial files of runs killed mid-write: of this URL, over an hour old
        (a younger one may be another run's, still writing)."""
        cutoff = time.time() - 3600
        for stale in self._path.parent.glob(f"{glob.escape(self._path.name)}.*.partial"):
            with contextlib.suppress(OSError):
                if stale.stat().st_mtime < cutoff:
                    stale.unlink()

    def discard(self) -> None:
        self._chunks = []


class Cache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / _FOLDER

    def _path(self, url: str) -> Path:
        # Readable (the URL, quoted), bounded in length, and distinct for URLs that share
        # their first 160 characters; `load` checks the URL recorded inside anyway.
        return self.directory / f"{quote(url, safe='')[:160]}.{zlib.crc32(url.encode()):08x}"

    def load(self, url: str) -> Stored | None:
        """The kept answer for `url`, or None (none kept, or the file is not one of ours)."""
        try:
            head, _, body = self._path(url).read_bytes().partition(b"\n")
            meta = json.loads(head)
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("url") != url or meta.get("size") != len(body):
            return None  # not ours, or not whole
        return Stored(body, _text(meta, "etag"), _text(meta, "last_modified"),
                      _text(meta, "content_type"))  # fmt: skip

    def entry(self, url: str, headers: Message) -> Entry | None:
        """Where the body of this 200 goes, or None if it is not worth keeping."""
        etag, modified = headers.get("ETag"), headers.get("Last-Modified")
        if not (etag or modified) or "no-store" in (headers.get("Cache-Control") or "").lower():
            return None
        meta = {"url": url, "etag": etag, "last_modified": modified,
                "content_type": headers.get("Content-Type")}  # fmt: skip
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("cannot keep %s in the cache: %s", self.directory, exc.strerror or exc)
            return None
        return Entry(self._path(url), meta)

    def forget(self, url: str) -> None:
        """Drop the kept answer for `url` (its body proved bad: never revalidate it)."""
        self._path(url).unlink(missing_ok=True)


def _text(meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None
