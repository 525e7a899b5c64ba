"""An HTTP proxy on loopback in front of a real registry that loses answers on demand.

Every request is forwarded (with its Host header, so the registry's upload Locations point
back at the proxy); for the next `lose[METHOD]` requests of a method the registry's answer
is thrown away and a 503 sent instead, as when a connection drops after the registry acted.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_HOP = {"connection", "content-length", "transfer-encoding", "content-encoding", "keep-alive"}


class FaultProxy(ThreadingHTTPServer):
    def __init__(self, target: str, lose: dict[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.target = target  # host:port of the registry
        self.lose = dict(lose)
        self.seen: list[str] = []  # the method of every request, in order
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
        self.server_close()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        self.seen.append(method)
        answer = requests.request(
            method,
            f"http://{self.target}{path}",
            headers={k: v for k, v in headers.items() if k.lower() not in _HOP},
            data=body or None,
            allow_redirects=False,
            timeout=30,
        )
        if self.lose.get(method, 0) > 0:
            self.lose[method] -= 1
            return 503, {}, b""
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        return answer.status_code, kept, answer.content


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultProxy

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the proxy records what it saw in `seen`."""

    def forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, content = self.server.forward(
            self.command, self.path, dict(self.headers.items()), body
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = forward
