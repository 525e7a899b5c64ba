"""Fetch the upstream `.files.json` listings over HTTP (the I/O edge of discovery)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests

from bot.errors import ListingError, UpstreamUnavailable
from bot.http import HttpPolicy, split_credentials
from bot.upstream.document import DocumentError, decode_files
from bot.upstream.failures import deadline_error, request_error, status_error
from bot.upstream.listing import parse_listing
from bot.upstream.model import DIRECTORIES, Listing

log = logging.getLogger(__name__)

DEFAULT_UPSTREAM = "https://repo.anaconda.com"
LISTING_NAME = ".files.json"
_BODY_TRIES = 3  # a body cut off or stalled mid-transfer is worth fetching again
MAX_LISTING_BYTES = 64 * 1024 * 1024  # real listings are well under 1 MiB


@dataclass
class HttpUpstream:
    """Upstream (or a mirror of it) reached through one shared session."""

    base_url: str
    session: requests.Session
    timeout: tuple[float, float] = HttpPolicy().timeout
    max_bytes: int = MAX_LISTING_BYTES

    def __post_init__(self) -> None:
        # Credentials in the URL are kept for the mirror's origin (every session of
        # make_session sends them there), so that no URL the bot prints or writes
        # (errors, installer URLs in Dockerfiles and pull requests) carries them.
        self.base_url = split_credentials(self.base_url)

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
        for attempt in range(1, _BODY_TRIES + 1):
            response = self._get(url)
            try:
                body = self._read(url, response)
            except requests.exceptions.ContentDecodingError as exc:
                raise request_error(url, exc, self.session) from exc
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ConnectionError,
            ) as exc:
                late = deadline_error(url, self.session)
                if late is None and attempt < _BODY_TRIES:
                    continue
                what = (
                    "cut off"
                    if isinstance(exc, requests.exceptions.ChunkedEncodingError)
                    else "stalled"
                )
                raise late or UpstreamUnavailable(
                    f"{url}: the response body was {what} {attempt} times", "rerun later"
                ) from exc
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
        except requests.exceptions.RequestException as exc:
            raise request_error(url, exc, self.session) from exc
        error = status_error(url, response, self.session)
        if error is not None:
            response.close()
            raise error
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
        document = decode_files(body)
    except DocumentError as exc:
        raise ListingError(
            f"{url}: {exc} ({len(body)} bytes)", "rerun later; report it if it persists"
        ) from exc
    if not document:
        raise ListingError(f"{url}: the listing is empty", "rerun later; report it if it persists")
    return document
