"""A loopback HTTP mirror of repo.anaconda.com for tests, benchmarks and the demo.

It serves what it is given (listings, installers), answers conditional requests
with 304 like a real CDN, counts every request and body byte, and injects faults
on demand: an error status (with headers such as Retry-After, or a redirect's
Location), a slow answer, a body that stalls after the headers or trickles in a
byte at a time, a truncated body, or HTML in place of JSON.

Two kinds of server: with `etags=True` (the default) it sends ETag and
Last-Modified, like a CDN; with `etags=False` only Last-Modified, like a plain
static server or many corporate mirrors. With `credentials` set it asks for HTTP
basic authentication on every path. With `tls` it serves https.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.tls import TlsFiles


@dataclass(frozen=True)
class Resource:
    body: bytes
    content_type: str
    etag: str
    last_modified: float  # POSIX seconds, whole: HTTP dates have no finer grain


@dataclass(frozen=True)
class Fault:
    path: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    truncate_to: int | None = None  # send only this many body bytes, then close
    chunked: bool = False  # Transfer-Encoding: chunked (4 kB chunks), as CDNs often send
    body: bytes | None = None
    content_type: str = "text/html"
    stall: float = 0.0  # seconds of silence between the headers and the body
    trickle: float = 0.0  # seconds between single bytes of the answer
    trickle_headers: bool = False  # trickle the status line and headers too, not only the body


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    status: int
    body_bytes: int
    headers: dict[str, str] = field(default_factory=dict)


class Mirror:
    def __init__(self, etags: bool = True, tls: TlsFiles | None = None) -> None:
        self._resources: dict[str, Resource] = {}
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.hits: list[Hit] = []
        self._server: ThreadingHTTPServer | None = None
        self.etags = etags
        self.credentials: tuple[str, str] | None = None
        self.generation = 0  # bumped by reset(): a trickling answer of an earlier test stops
        self.tls = tls  # serve https with this certificate

    # -- content -------------------------------------------------------------
    def publish(
        self, path: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            previous = self._resources.get(path)
            # A change within the same second still gets a later Last-Modified, as a
            # server's clock would show a moment later: If-Modified-Since must see it.
            modified = float(int(time.time()))
            if previous is not None and previous.body != body:
                modified = max(modified, previous.last_modified + 1)
            elif previous is not None:
                modified = previous.last_modified
            self._resources[path] = Resource(body, content_type, etag, modified)

    def publish_listing(self, directory: str, document: dict[str, Any]) -> None:
        body = json.dumps(document, indent=1, sort_keys=True).encode()
        self.publish(f"/{directory}/.files.json", body, "application/json")

    def publish_listings(self, documents: dict[str, dict[str, Any]]) -> None:
        for directory, document in documents.items():
            self.publish_listing(directory, document)

    def inject(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def reset(self, etags: bool = True) -> None:
        with self._lock:
            self._resources.clear()
            self._faults.clear()
            self.hits.clear()
            self.etags = etags
            self.credentials = None
            self.generation += 1

    # -- observations --------------------------------------------------------
    def requests(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if path is None or h.path == path]

    def body_bytes(self) -> int:
        return sum(h.body_bytes for h in self.requests())

    # -- server --------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "mirror not started"
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def start(self) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        if self.tls is not None:
            context = self.tls.server_context()
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        threading.Thread(target=self._server.serve_forever, name="mirror", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path == path:
                    self._faults.remove(fault)
                    return fault
        return None

    def resource(self, path: str) -> Resource | None:
        with self._lock:
            return self._resources.get(path)

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)


def _handler_for(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            fault = mirror._take_fault(path)
            self.fault = fault
            if fault and fault.delay:
                time.sleep(fault.delay)
            if mirror.credentials and not self._authorized(mirror.credentials):
                challenge = {"WWW-Authenticate": 'Basic realm="mirror"'}
                self._send(401, b"authentication required\n", "text/plain", challenge)
                return
            if fault and (fault.status != 200 or fault.body is not None):
                self._send(fault.status, fault.body or b"", fault.content_type, dict(fault.headers))
                return
            resource = mirror.resource(path)
            if resource is None:
                self._send(404, b"not found\n", "text/plain")
                return
            if self._not_modified(resource):
                self._send(304, b"", resource.content_type, self._validators(resource))
                return
            body = resource.body
            length = len(body)
            if fault and fault.truncate_to is not None:
                body = body[: fault.truncate_to]
            headers = {**self._validators(resource), **dict(fault.headers if fault else ())}
            self._send(200, body, resource.content_type, headers, length)

        def _authorized(self, credentials: tuple[str, str]) -> bool:
            expected = base64.b64encode(":".join(credentials).encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def _not_modified(self, resource: Resource) -> bool:
            tag = self.headers.get("If-None-Match")
            if tag is not None and mirror.etags:
                return resource.etag in [t.strip() for t in tag.split(",")]
            since = self.headers.get("If-Modified-Since")
            if since is None:
                return False
            try:
                return resource.last_modified <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False  # an unreadable date: answer in full, as servers do

        @staticmethod
        def _validators(resource: Resource) -> dict[str, str]:
            validators = {"Last-Modified": formatdate(resource.last_modified, usegmt=True)}
            if mirror.etags:
                validators["ETag"] = resource.etag
            return validators

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
            length: int | None = None,
        ) -> None:
            sent = b"" if self.command == "HEAD" else body
            # Recorded before the answer leaves, so a client that has it sees it logged.
            mirror._record(Hit(self.command, self.path, status, len(sent), dict(self.headers)))
            fault: Fault | None = getattr(self, "fault", None)
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if fault and fault.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    sent = _chunked(sent, complete=length is None or length == len(body))
                elif status != 304:
                    self.send_header("Content-Length", str(len(body) if length is None else length))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if fault and fault.trickle and fault.trickle_headers:
                    head, self._headers_buffer = b"".join(self._headers_buffer) + b"\r\n", []
                    sent = head + sent
                else:
                    self.end_headers()
                if fault and fault.stall:
                    time.sleep(fault.stall)
                if fault and fault.trickle:
                    self._trickle(sent, fault.trickle)
                elif sent:
                    self.wfile.write(sent)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. timed out)
            if (length is not None and length != len(body)) or (fault and fault.trickle):
                self.close_connection = True

        def _trickle(self, data: bytes, pause: float) -> None:
            """One byte at a time; stops when the client leaves or the mirror is reset."""
            generation = mirror.generation
            for i in range(len(data)):
                if mirror.generation != generation:
                    return
                self.wfile.write(data[i : i + 1])
                time.sleep(pause)

    return Handler


def _chunked(body: bytes, complete: bool) -> bytes:
    """`body` in chunked transfer coding; cut off inside its last chunk unless `complete`."""
    pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    coded = b"".join(b"%x\r\n%s\r\n" % (4096, piece) for piece in pieces)
    if complete:
        return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    return coded[: len(coded) - 2]  # the last chunk claims 4 kB and ends short
