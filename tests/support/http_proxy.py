"""An http proxy on loopback, as corporate networks put in front of upstream: it forwards
absolute-URI requests (http) and tunnels CONNECT (https), and records what it was asked
for and with which Proxy-Authorization."""

from __future__ import annotations

import http.client
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

_HOP_BY_HOP = ("connection", "transfer-encoding", "content-length")


class HttpProxy:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # (method, target, Proxy-Authorization)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HttpProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(proxy: HttpProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _record(self) -> None:
            proxy.seen.append((self.command, self.path, self.headers.get("Proxy-Authorization")))

        def do_GET(self) -> None:
            self._record()
            parts = urlsplit(self.path)
            upstream = http.client.HTTPConnection(parts.netloc, timeout=10)
            headers = {k: v for k, v in self.headers.items() if not k.startswith("Proxy-")}
            upstream.request("GET", parts.path, headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_CONNECT(self) -> None:
            self._record()
            host, _, port = self.path.rpartition(":")
            with socket.create_connection((host, int(port)), timeout=10) as target:
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                _pipe(self.connection, target)

    return Handler


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes (or 10 s of silence)."""
    while True:
        readable, _, _ = select.select([a, b], [], [], 10)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (b if source is a else a).sendall(data)
