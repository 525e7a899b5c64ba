"""Fetch the upstream `.files.json` listings over HTTP (the I/O edge of discovery)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from bot.errors import ListingError, UpstreamUnavailable
from bot.http import HttpPolicy
from bot.upstream.listing import parse_listing
from bot.upstream.model import DIRECTORIES, Listing

log = logging.getLogger(__name__)

DEFAULT_UPSTREAM = "https://repo.anaconda.com"
LISTING_NAME = ".files.json"
_BODY_RETRIES = 2  # a body cut off mid-transfer is worth fetching again
MAX_LISTING_BYTES = 64 * 1024 * 1024  # real listings are well under 1 MiB


class ListingSource(Protocol):
    def listing(self) -> Listing: ...


@dataclass
class HttpUpstream:
    """Upstream (or a mirror of it) reached through one shared session."""

    base_url: str
    session: requests.Session
    timeout: tuple[float, float] = HttpPolicy().timeout
    max_bytes: int = MAX_LISTING_BYTES

    def listing_url(self, directory: str) -> str:
        return f"{self.base_url.rstrip('/')}/{directory}/{LISTING_NAME}"

    def listing(self) -> Listing:
        documents = {d: self.document(d) for d in DIRECTORIES}
        listing = parse_listing(documents, self.base_url)
        for directory in DIRECTORIES:
            if not any(i.product.directory == directory for i in listing.installers):
                raise ListingError(
                    f"{self.listing_url(directory)} lists {len(documents[directory])} files but no "
                    "installer we recognise",
                    "upstream may have changed its naming; report it with this URL",
                )
        for entry in listing.invalid:
            log.warning("ignoring %s/%s: %s", entry.directory, entry.filename, entry.reason)
        return listing

    def document(self, directory: str) -> dict[str, Any]:
        url = self.listing_url(directory)
        for attempt in range(_BODY_RETRIES + 1):
            response = self._get(url)
            try:
                body = self._read(url, response)
            except requests.exceptions.ChunkedEncodingError as exc:
                if attempt == _BODY_RETRIES:
                    raise UpstreamUnavailable(
                        f"{url}: the response body was cut off {attempt + 1} times",
                        "rerun later",
                    ) from exc
                continue
            try:
                return _decode(url, response, body)
            except ListingError:
                self._forget(url)  # never revalidate a bad body into a 304 next time
                raise
        raise AssertionError("unreachable")

    def _read(self, url: str, response: requests.Response) -> bytes:
        """The body, refusing to hold more than `max_bytes` of whatever a mirror sends."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ListingError(f"{url}: the listing is {declared} bytes, over {self.max_bytes}")
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > self.max_bytes:
                response.close()
                raise ListingError(f"{url}: the listing is over {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _get(self, url: str) -> requests.Response:
        try:
            # max-age=0: always revalidate the stored copy (one conditional request).
            response = self.session.get(
                url, headers={"Cache-Control": "max-age=0"}, stream=True, timeout=self.timeout
            )
        except requests.exceptions.RetryError as exc:
            raise UpstreamUnavailable(
                f"{url}: still failing after every retry ({_reason(exc)})", "rerun later"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise UpstreamUnavailable(
                f"{url}: timed out after every retry",
                "check the network or --upstream-url, then rerun",
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise UpstreamUnavailable(
                f"{url}: cannot connect ({_reason(exc)})",
                "check the network or --upstream-url, then rerun",
            ) from exc
        if response.status_code in (429, 500, 502, 503, 504):
            wait = response.headers.get("Retry-After")
            hint = f"upstream asks to wait {wait}s; rerun later" if wait else "rerun later"
            raise UpstreamUnavailable(f"{url}: HTTP {response.status_code} after every retry", hint)
        if response.status_code != 200:
            raise UpstreamUnavailable(
                f"{url}: HTTP {response.status_code}",
                "is --upstream-url a mirror of repo.anaconda.com?",
            )
        return response

    def _forget(self, url: str) -> None:
        adapter = self.session.get_adapter(url)
        controller = getattr(adapter, "controller", None)
        if controller is not None:
            controller.cache.delete(controller.cache_url(url))


def _decode(url: str, response: requests.Response, body: bytes) -> dict[str, Any]:
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type or body.lstrip()[:1] == b"<":
        raise ListingError(
            f"{url}: got HTML where a JSON listing was expected", "check --upstream-url"
        )
    if not body.strip():
        raise ListingError(f"{url}: empty response body", "rerun later; report it if it persists")
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at byte {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ListingError(
            f"{url}: malformed or truncated JSON{where} ({len(body)} bytes)",
            "rerun later; report it if it persists",
        ) from exc
    if not isinstance(document, dict):
        raise ListingError(f"{url}: expected a JSON object of files, got {type(document).__name__}")
    if not document:
        raise ListingError(f"{url}: the listing is empty", "rerun later; report it if it persists")
    return document


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.split(": ")[-1][:160] or type(exc).__name__
