"""A loopback HTTP mirror of repo.anaconda.com for tests, benchmarks and the demo.

It serves what it is given (listings, installers), answers conditional requests
with 304 like a real CDN, counts every request and body byte, and injects faults
on demand: an error status (with headers such as Retry-After), a slow answer, a
truncated body, or HTML in place of JSON.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Resource:
    body: bytes
    content_type: str
    etag: str
    last_modified: str


@dataclass(frozen=True)
class Fault:
    path: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    truncate_to: int | None = None  # send only this many body bytes, then close
    body: bytes | None = None
    content_type: str = "text/html"


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    status: int
    body_bytes: int
    headers: dict[str, str] = field(default_factory=dict)


class Mirror:
    def __init__(self) -> None:
        self._resources: dict[str, Resource] = {}
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.hits: list[Hit] = []
        self._server: ThreadingHTTPServer | None = None

    # -- content -------------------------------------------------------------
    def publish(
        self, path: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            self._resources[path] = Resource(
                body, content_type, etag, formatdate(time.time(), usegmt=True)
            )

    def publish_listing(self, directory: str, document: dict[str, Any]) -> None:
        body = json.dumps(document, indent=1, sort_keys=True).encode()
        self.publish(f"/{directory}/.files.json", body, "application/json")

    def publish_listings(self, documents: dict[str, dict[str, Any]]) -> None:
        for directory, document in documents.items():
            self.publish_listing(directory, document)

    def inject(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def reset(self) -> None:
        with self._lock:
            self._resources.clear()
            self._faults.clear()
            self.hits.clear()

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
        return f"http://{host}:{port}"

    def start(self) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
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
            if fault and fault.delay:
                time.sleep(fault.delay)
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
            self._send(200, body, resource.content_type, self._validators(resource), length)

        def _not_modified(self, resource: Resource) -> bool:
            tag = self.headers.get("If-None-Match")
            if tag is not None:
                return resource.etag in [t.strip() for t in tag.split(",")]
            return self.headers.get("If-Modified-Since") == resource.last_modified

        @staticmethod
        def _validators(resource: Resource) -> dict[str, str]:
            return {"ETag": resource.etag, "Last-Modified": resource.last_modified}

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
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if status != 304:
                    self.send_header("Content-Length", str(len(body) if length is None else length))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if sent:
                    self.wfile.write(sent)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. timed out)
            if length is not None and length != len(body):
                self.close_connection = True

    return Handler
