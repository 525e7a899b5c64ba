"""An answer of `bot.http`'s session: its body streamed, decoded and held to deadlines.

A body cut off (short of its Content-Length, a broken chunk), silent for the read timeout,
or past its deadline is a `FetchError`, never a short body. gzip and deflate are decoded
as the body streams, a bounded piece at a time, so a small bomb never becomes one huge
buffer.
"""

from __future__ import annotations

import contextlib
import enum
import http.client
import io
import socket
import time
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from email.message import Message
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from bot.http.cache import Entry


class Failure(enum.Enum):
    """Why a request brought back no whole answer (`bot.upstream.failures` says what it
    means for the user)."""

    CONNECT = "cannot connect"
    TIMEOUT = "timed out"
    DEADLINE = "deadline passed"
    CUT_OFF = "body cut off"
    STALLED = "body stalled"
    UNDECODABLE = "body cannot be decompressed"
    BAD_URL = "not a URL that can be fetched"
    UNTRUSTED = "certificate not trusted"
    BAD_REDIRECT = "redirected nowhere sane"
    REDIRECT_LOOP = "too many redirects"


class FetchError(Exception):
    def __init__(self, failure: Failure, detail: str, target: str = "") -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail
        self.target = target  # BAD_REDIRECT: where the redirect pointed


# -- deadlines -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A moment by which a request, or a whole run's requests, must be over."""

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


class _DeadlineReader(io.RawIOBase):
    """The socket reader of one answer: before every read, the socket timeout is cut to
    what is left of the deadline, and once nothing is left a read fails like a timeout."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        super().__init__()
        self._socket = sock
        self._raw = sock.makefile("rb", buffering=0)  # keeps the socket open while read
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise TimeoutError(f"the {self._deadline} has passed")
        timeout = self._socket.gettimeout()
        self._socket.settimeout(remaining if timeout is None else min(timeout, remaining))
        try:
            return self._raw.readinto(buffer)
        finally:
            self._socket.settimeout(timeout)

    def close(self) -> None:
        self._raw.close()
        super().close()


class DeadlineResponse(http.client.HTTPResponse):
    """http.client's answer, its status line, headers and body read under the deadline."""

    def __init__(self, sock: socket.socket, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # nothing was read from it yet
        self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


# -- answers -------------------------------------------------------------------------


class _Decoder:
    """Undo a Content-Encoding (gzip, deflate) as the body streams, `size` bytes at most
    at a time, so that a small bomb never becomes one huge buffer."""

    def __init__(self, encoding: str | None) -> None:
        name = (encoding or "identity").strip().lower()
        self._name = name
        if name in ("identity", ""):
            self._zlib: Any = None
        elif name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise FetchError(
                Failure.UNDECODABLE, f"Content-Encoding {name[:40]!r} is not supported"
            )

    def feed(self, data: bytes, size: int) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        try:
            if self._name == "deflate" and self._zlib.total_in == 0:
                self._zlib = _deflate_kind(data)
            while data:
                out = self._zlib.decompress(data, size)
                data = self._zlib.unconsumed_tail
                if self._zlib.eof and self._zlib.unused_data and self._name != "deflate":
                    data = self._zlib.unused_data  # gzip allows members one after another
                    self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
                if out:
                    yield out
        except zlib.error as exc:
            raise FetchError(Failure.UNDECODABLE, str(exc)) from exc

    def finish(self) -> None:
        if self._zlib is not None and not self._zlib.eof:
            raise FetchError(Failure.UNDECODABLE, f"the {self._name} stream ends early")


def _deflate_kind(first: bytes) -> Any:
    """RFC 9110's deflate is zlib-wrapped; some servers send it raw."""
    try:
        zlib.decompressobj().decompress(first[:64])
    except zlib.error:
        return zlib.decompressobj(-zlib.MAX_WBITS)
    return zlib.decompressobj()


class Response:
    """One answer; its body streams once, through `chunks`. Close it (or use `with`)."""

    def __init__(
        self,
        status_code: int,
        headers: Message,
        body: BinaryIO | http.client.HTTPResponse,
        authorized: bool = False,
        deadline: Deadline | None = None,
        connection: http.client.HTTPConnection | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.authorized = authorized  # credentials were sent with the request
        self._body = body
        self._deadline = deadline
        self._connection = connection
        self._keep: Entry | None = None  # the cache entry this body is written to, if any

    def keep(self, entry: Entry) -> None:
        """Write the body to `entry` as it streams; stored once read to its end."""
        self._keep = entry

    def chunks(self, size: int = 1 << 16) -> Generator[bytes, None, None]:
        """The decoded body, at most `size` bytes a piece; FetchError if it breaks off."""
        keep, self._keep = self._keep, None
        try:
            decoder = _Decoder(self.headers.get("Content-Encoding"))
            while data := self._read(size):
                for piece in decoder.feed(data, size):
                    if keep is not None:
                        keep.write(piece)
                    yield piece
            decoder.finish()
            if keep is not None:
                keep.commit()
        finally:
            if keep is not None:
                keep.discard()
            self.close()

    def read(self, limit: int) -> bytes:
        """The whole decoded body, or FetchError; at most `limit` bytes are held."""
        chunks, size = [], 0
        with contextlib.closing(self.chunks()) as pieces:
            for chunk in pieces:
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                chunks.append(chunk)
        return b"".join(chunks)

    def _read(self, size: int) -> bytes:
        try:
            data = self._body.read(size)
        except TimeoutError as exc:
            late = self._deadline is not None and self._deadline.passed()
            raise FetchError(Failure.DEADLINE if late else Failure.STALLED, words(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(Failure.CUT_OFF, words(exc)) from exc
        missing = getattr(self._body, "length", None)
        if not data and missing:
            raise FetchError(Failure.CUT_OFF, f"{missing} bytes short of its Content-Length")
        return data

    def close(self) -> None:
        self._body.close()
        if self._connection is not None:
            self._connection.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"over {limit} bytes")
        self.limit = limit


def words(exc: BaseException) -> str:
    """An exception's words, short and on one line."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(text.split())[:160]
