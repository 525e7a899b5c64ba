"""The HTTP side: a loopback ``ThreadingHTTPServer`` speaking GitHub's REST conventions.

Authentication (``Authorization: token|Bearer``), the primary rate limit and its
``x-ratelimit-*`` headers, ETags with ``If-None-Match`` -> 304 (not counted), ``Link``
pagination, fault injection and the request log live here. :class:`GitHubStandin`
is the object tests hold: ``start()``/``stop()`` plus plain-Python test controls.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import DOCS, ApiError
from .model import Repo
from .render import Renderer
from .routes import Ctx, match
from .state import State
from .traffic import Fault, Hook, RateLimits, RequestLog, RequestRecord

BAD_TOKEN = "<bad token>"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    standin: GitHubStandin

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (as the bot does when it refuses to wait out a
        # Retry-After) is not a stand-in bug; socketserver would print a traceback to the
        # process's stderr, where a test reading the bot's stderr would see it.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request log replaces the access log

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, body = self.server.standin.handle(
            self.command, self.path, dict(self.headers.items()), raw
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


class GitHubStandin:
    """A stateful GitHub REST API on 127.0.0.1, repositories stored as bare git repos."""

    def __init__(self, root: Path | None = None, *, rate_limit: int = 5000) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="github-standin-")) if root is None else root
        self.state = State(self.root / "repos")
        self.rates = RateLimits(rate_limit)
        self.log = RequestLog()
        self.faults: list[Fault] = []
        self.hooks: list[Hook] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.render = Renderer(self.state, "http://127.0.0.1")

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> str:
        """Listen on an ephemeral loopback port; returns the base URL for ``Github(base_url=)``."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        self.render = Renderer(self.state, self.base_url)
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="github-standin", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> GitHubStandin:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling ------------------------------------------------------------
    def handle(
        self, method: str, target: str, headers: Mapping[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        lower = {k.lower(): v for k, v in headers.items()}
        split = urlsplit(target)
        path, query = split.path, parse_qsl(split.query, keep_blank_values=True)
        self._run_hooks(method, path, raw)
        token = _token(lower.get("authorization", ""))
        login = None if token is None else self.state.tokens.get(token, BAD_TOKEN)
        fault = self._take_fault(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        with self.state.lock:
            bucket_login = login if login not in (None, BAD_TOKEN) else None
            bucket = self.rates.bucket(bucket_login, int(self.state.now().timestamp()))
            out_headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-GitHub-Media-Type": "github.v3; format=json",
                "X-GitHub-Api-Version-Selected": "2022-11-28",
                "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper(),
                "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
            }
            request_body: Any = None
            operation = None
            if fault is not None:
                status, body = self._fault_reply(fault, out_headers)
                out_headers.update(RateLimits.headers(bucket))
                out_headers.update(fault.headers)
                self._record(
                    method,
                    path,
                    split.query,
                    status,
                    login,
                    request_body,
                    body,
                    out_headers,
                    operation,
                    injected=True,
                )
                return status, out_headers, body
            found = match(method, path)
            operation = found[0].operation if found else None
            try:
                if login == BAD_TOKEN:
                    raise ApiError(401, "Bad credentials", documentation_url=DOCS)
                if raw:
                    try:
                        request_body = json.loads(raw)
                    except ValueError as exc:
                        raise ApiError(400, "Problems parsing JSON") from exc
                if found is None:
                    raise ApiError(404, "Not Found", documentation_url=DOCS)
                if bucket.remaining == 0:
                    user_id = self.state.user(login).id if login else "anonymous"
                    raise ApiError(
                        403,
                        f"API rate limit exceeded for user ID {user_id}. If you reach out to GitHub "
                        "Support for help, please include the request ID.",
                        documentation_url=f"{DOCS}/overview/rate-limits-for-the-rest-api",
                    )
                route, params = found
                ctx = Ctx(
                    state=self.state,
                    render=self.render,
                    method=method,
                    path=path,
                    params=params,
                    query=query,
                    body=request_body,
                    login=login,
                )
                status, payload = route.handler(ctx)
                out_headers.update(ctx.headers)
            except ApiError as exc:
                status = exc.status
                payload = exc.body(found[0].doc if found else DOCS)
                out_headers.update(exc.headers)
            if isinstance(payload, bytes):
                body = payload
                out_headers["Content-Type"] = "application/octet-stream"
            else:
                body = b"" if payload is None else json.dumps(payload, indent=None).encode()
            if status in (200, 201) and body:
                digest = hashlib.sha256((login or "").encode() + b"\n" + body).hexdigest()
                etag = f'W/"{digest}"'
                out_headers["ETag"] = etag
                if method in ("GET", "HEAD"):
                    out_headers["Cache-Control"] = (
                        "private, max-age=60, s-maxage=60"
                        if login
                        else "public, max-age=60, s-maxage=60"
                    )
                    if _etag_matches(lower.get("if-none-match", ""), etag):
                        status, body = 304, b""
            # A 304 is free; so is a refused over-limit request.
            if status != 304 and not (status == 403 and bucket.remaining == 0):
                bucket.used += 1
            out_headers.update(RateLimits.headers(bucket))
            self._record(
                method, path, split.query, status, login, request_body, body, out_headers, operation
            )
            return status, out_headers, body

    def _run_hooks(self, method: str, path: str, raw: bytes) -> None:
        with self.state.lock:
            due = [hook for hook in self.hooks if hook.due(method, path, raw)]
        for hook in due:  # outside the lock: an action may act like a client of the stand-in
            hook.action()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.state.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    @staticmethod
    def _fault_reply(fault: Fault, headers: dict[str, str]) -> tuple[int, bytes]:
        if isinstance(fault.body, bytes):
            return fault.status, fault.body
        if isinstance(fault.body, str):
            headers["Content-Type"] = "text/plain; charset=utf-8"
            return fault.status, fault.body.encode()
        payload = fault.body
        if payload is None:
            payload = {
                "message": HTTPStatus(fault.status).phrase,
                "documentation_url": DOCS,
                "status": str(fault.status),
            }
        return fault.status, json.dumps(payload).encode()

    def _record(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        login: str | None,
        request_body: Any,
        body: bytes,
        headers: Mapping[str, str],
        operation: str | None,
        *,
        injected: bool = False,
    ) -> None:
        self.log.add(
            RequestRecord(
                method=method,
                path=path,
                query=query,
                status=status,
                login=login,
                injected=injected,
                operation=operation,
                request_body=request_body,
                response_body=body,
                content_type=headers.get("Content-Type", ""),
            )
        )

    # -- test controls: users and tokens -----------------------------------------------
    @property
    def users(self) -> dict[str, str]:
        """token -> login, e.g. ``{"bot-token": "condabot[bot]", "human-token": "alice"}``."""
        with self.state.lock:
            return dict(self.state.tokens)

    # -- test controls: repositories -------------------------------------------------------
    def create_repo(
        self,
        owner: str,
        name: str,
        files: Mapping[str, bytes],
        default_branch: str = "main",
        *,
        description: str | None = None,
    ) -> str:
        """Seed a repository whose default branch holds ``files`` in one commit; returns its head."""
        with self.state.lock:
            repo = self.state.create_repo(
                owner, name, files, default_branch, description=description
            )
            return repo.git.ref(f"refs/heads/{default_branch}") or ""

    def _repo(self, owner: str, name: str) -> Repo:
        try:
            return self.state.repo(owner, name)
        except ApiError as exc:
            raise KeyError(f"{owner}/{name}") from exc

    def read_file(self, owner: str, repo: str, ref: str, path: str) -> bytes:
        """The bytes of ``path`` at ``ref`` (branch, tag or sha); FileNotFoundError if absent."""
        with self.state.lock:
            r = self._repo(owner, repo)
            sha = r.git.resolve(ref)
            entry = r.git.entry_at(sha, path) if sha else None
            if entry is None or entry.type != "blob":
                raise FileNotFoundError(f"{owner}/{repo}@{ref}:{path}")
            return r.git.read_blob(entry.sha)

    def files(self, owner: str, repo: str, ref: str) -> dict[str, bytes]:
        """Every file at ``ref``, path -> bytes."""
        with self.state.lock:
            r = self._repo(owner, repo)
            sha = r.git.resolve(ref)
            if sha is None:
                raise KeyError(ref)
            entries = r.git.read_tree_recursive(r.git.tree_of(sha))
            return {e.path: r.git.read_blob(e.sha) for e in entries if e.type == "blob"}

    def push_commit(
        self,
        owner: str,
        repo: str,
        branch: str,
        files: Mapping[str, bytes | None],
        author_login: str,
        message: str,
        *,
        start_from: str | None = None,
    ) -> str:
        """Act as a human ``git push``: one commit on top of ``branch`` (None deletes a path).

        A missing branch is created from ``start_from``. Returns the new commit id.
        """
        with self.state.lock:
            return self.state.push_commit(
                self._repo(owner, repo), branch, files, author_login, message, start_from=start_from
            )

    def defer_mergeable(self, owner: str, repo: str, number: int, times: int = 1) -> None:
        """The next ``times`` reads of pull ``number`` answer ``mergeable: null`` (GitHub is
        still computing it), as a freshly opened or freshly pushed pull does on GitHub."""
        with self.state.lock:
            r = self._repo(owner, repo)
            self.state.mergeable_pending[(r.full_name, number)] = times

    def ref_sha(self, owner: str, repo: str, ref: str) -> str | None:
        """Where ``heads/x``, ``tags/x`` or ``refs/...`` points, or None."""
        full = ref if ref.startswith("refs/") else f"refs/{ref}"
        with self.state.lock:
            return self._repo(owner, repo).git.ref(full)

    def commit_creator(self, owner: str, repo: str, sha: str) -> str | None:
        """The login whose token created ``sha`` through the API (None: pushed by a human)."""
        with self.state.lock:
            meta = self._repo(owner, repo).commit_meta.get(sha)
            return None if meta is None else meta.login

    def get_json(self, path: str, login: str | None = None) -> Any:
        """GET ``path`` internally (no HTTP, no log, no rate limit): GitHub's JSON for it."""
        split = urlsplit(path)
        found = match("GET", split.path)
        if found is None:
            raise KeyError(path)
        route, params = found
        with self.state.lock:
            ctx = Ctx(
                state=self.state,
                render=self.render,
                method="GET",
                path=split.path,
                params=params,
                query=parse_qsl(split.query, keep_blank_values=True),
                body=None,
                login=login,
            )
            return route.handler(ctx)[1]

    # -- test controls: traffic -------------------------------------------------------------
    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        with self.state.lock:
            return self.log.count(method, path_prefix)

    def requests(
        self, method: str | None = None, path_prefix: str | None = None
    ) -> list[RequestRecord]:
        with self.state.lock:
            return self.log.select(method, path_prefix)

    def writes(self) -> list[RequestRecord]:
        """Every non-GET request, in order."""
        with self.state.lock:
            return self.log.writes()

    def reset_log(self) -> None:
        with self.state.lock:
            self.log.reset()

    def inject(
        self,
        method: str,
        path_regex: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int | None = 1,
        *,
        delay: float = 0.0,
    ) -> Fault:
        """Answer the next ``times`` matching requests with ``status`` (``times=None``: always).

        ``method`` "*" matches any; ``path_regex`` is searched in the request path
        (no query string). ``body``: dict/list (JSON), str (text) or bytes; default is a
        GitHub-style error body.
        """
        fault = Fault(
            method=method.upper(),
            pattern=re.compile(path_regex),
            status=status,
            headers=dict(headers or {}),
            body=body,
            times=times,
            delay=delay,
        )
        with self.state.lock:
            self.faults.append(fault)
        return fault

    def inject_secondary_rate_limit(
        self, method: str, path_regex: str, times: int = 1, retry_after: int = 1
    ) -> Fault:
        return self.inject(
            method,
            path_regex,
            403,
            headers={"retry-after": str(retry_after)},
            body={
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again. If you reach out to GitHub Support for help, please "
                "include the request ID.",
                "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                "status": "403",
            },
            times=times,
        )

    def before(
        self,
        method: str,
        path: str,
        action: Callable[[], object],
        *,
        contains: str | None = None,
        nth: int = 1,
    ) -> Hook:
        """Run ``action`` once, right before the ``nth`` request matching ``method`` (``*``: any)
        and the regular expression ``path`` (and whose body holds ``contains``) is served.

        Deterministic races: e.g. a human's push between the bot's read of a branch and its
        ref update. The hook is returned; ``hook.fired`` tells whether it ran.
        """
        hook = Hook(method, re.compile(path), action, contains, nth)
        with self.state.lock:
            self.hooks.append(hook)
        return hook

    def forget(self, hook: Hook) -> None:
        """Drop a hook that has not fired (a fired one is inert already)."""
        with self.state.lock:
            if hook in self.hooks:
                self.hooks.remove(hook)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.faults.clear()
            self.hooks.clear()

    def set_rate_limit(self, login: str | None, limit: int, used: int = 0) -> None:
        """Give ``login`` (None: anonymous) an hourly limit, ``used`` of it already spent."""
        with self.state.lock:
            self.rates.set_limit(login, limit, used)

    def rate_remaining(self, login: str | None) -> int:
        with self.state.lock:
            return self.rates.bucket(login, int(self.state.now().timestamp())).remaining

    def reset_traffic(self) -> None:
        """Clear the log, faults and rate-limit buckets (repositories are kept)."""
        with self.state.lock:
            self.log.reset()
            self.faults.clear()
            self.hooks.clear()
            self.rates.reset()


def _token(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None
