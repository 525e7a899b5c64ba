"""A token service for the distribution registry's `auth: token` mode, as Docker Hub runs,
and a stand-in of AWS's `ecr-public` token call (`EcrPublicStandin`: moto lacks ecr-public).

The registry answers `401 WWW-Authenticate: Bearer realm=<this>,service=...,scope=...`; the
client asks this server for a token with its username and password (HTTP basic) and the
scopes it needs, and presents the signed JWT. Tokens are ES256 JWTs whose `kid` is the
libtrust fingerprint of the key of the certificate the registry trusts (`rootcertbundle`).
Requests are counted; the lifetime of tokens is settable, to exercise their expiry.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ISSUER = "condabot-test-token-issuer"


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key ID the registry computes for a trusted key (docker/libtrust format)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


class TokenServer:
    def __init__(self, directory: Path, service: str, users: dict[str, str]) -> None:
        self.service = service
        self.users = users
        self.lifetime = 300.0
        self.requests: list[tuple[str | None, tuple[str, ...]]] = []
        self._lock = threading.Lock()
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = libtrust_key_id(self._key.public_key())
        self.bundle = directory / "token-bundle.pem"
        self.bundle.write_bytes(self._certificate().public_bytes(serialization.Encoding.PEM))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True

    def _certificate(self) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(self._key, hashes.SHA256())
        )

    @property
    def realm(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/token"

    def start(self) -> TokenServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def issue(self, user: str | None, scopes: list[str]) -> str:
        now = int(time.time())
        access = []
        for scope in scopes if user else []:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": self.service,
            "iat": now,
            "nbf": now - 5,
            "exp": now + int(self.lifetime),
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})

    def record(self, user: str | None, scopes: list[str]) -> None:
        with self._lock:
            self.requests.append((user, tuple(scopes)))


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            user = self._user()
            server.record(user, query.get("scope", []))
            if user == "":
                self._send(401, {"details": "incorrect username or password"})
                return
            token = server.issue(user, query.get("scope", []))
            self._send(200, {"token": token, "access_token": token, "expires_in": server.lifetime})

        def _user(self) -> str | None:
            """The authenticated user, None if anonymous, "" if the password is wrong."""
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user if server.users.get(user) == password else ""

        def _send(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class EcrPublicStandin:
    """A STAND-IN for AWS's `ecr-public` API, which moto does not implement: it answers only
    `GetAuthorizationToken` (AWS JSON 1.1, `X-Amz-Target:
    SpencerFrontendService.GetAuthorizationToken`) with base64 `AWS:<password>`, as AWS does,
    and records the region and access key each call was signed for (from its SigV4
    `Authorization` header). `refuse` makes it answer AccessDeniedException instead."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.refuse = False
        self.calls: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _ecr_public_handler(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EcrPublicStandin:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _ecr_public_handler(standin: EcrPublicStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            # "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ..."
            credential = self.headers.get("Authorization", "").split("Credential=", 1)[-1]
            key, _, region, service, *_ = (credential.split(",", 1)[0].split("/") + [""] * 5)[:5]
            target = self.headers.get("X-Amz-Target", "")
            standin.calls.append(
                {"target": target, "key": key, "region": region, "service": service}
            )
            if target != "SpencerFrontendService.GetAuthorizationToken":
                self._send(400, {"__type": "UnknownOperationException"})
            elif standin.refuse:
                self._send(400, {"__type": "AccessDeniedException", "message": "not allowed"})
            else:
                token = base64.b64encode(f"AWS:{standin.password}".encode()).decode()
                expires = time.time() + 12 * 3600
                self._send(
                    200, {"authorizationData": {"authorizationToken": token, "expiresAt": expires}}
                )

        def _send(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
