"""Fetch the upstream `.files.json` listings over HTTP (the I/O edge of discovery)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import ListingError, UpstreamUnavailable
from bot.http import Session
from bot.http.origins import split_credentials
from bot.http.response import BodyTooLarge, Failure, FetchError, Response
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
    session: Session
    max_bytes: int = MAX_LISTING_BYTES

    def __post_init__(self) -> None:
        # Credentials in the URL are kept for the mirror's origin (every session of
        # make_session sends them there), so that no URL the bot prints or writes
        # (errors, installer URLs in Dockerfiles and pull requests) carries them.
        self.base_url = split_credentials(self.base_url)

    def listing_url(self, directory: str) -> str:
        return f"{self.base_url.rstrip('/')}/{directory}/{LISTING_NAME}"

    def listing(self, directories: Sequence[str] = DIRECTORIES) -> Listing:
        """The listing of these upstream directories (every one by default)."""
        documents = {d: self.document(d) for d in directories}
        listing = parse_listing(documents, self.base_url)
        for directory in directories:
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
            except FetchError as exc:
                if exc.failure is Failure.UNDECODABLE:  # the same bytes would come again
                    raise request_error(url, exc, self.session) from exc
                late = deadline_error(url, self.session)
                if late is None and attempt < _BODY_TRIES:
                    continue
                what = "stalled" if exc.failure is Failure.STALLED else "cut off"
                raise late or UpstreamUnavailable(
                    f"{url}: the response body was {what} {attempt} times", "rerun later"
                ) from exc
            try:
                return _decode(url, response, body)
            except ListingError:
                self._forget(url)  # never revalidate a bad body into a 304 next time
                raise
        raise AssertionError("unreachable")

    def _read(self, url: str, response: Response) -> bytes:
        """The body, refusing to hold more than `max_bytes` of whatever a mirror sends."""
        declared = response.headers.get("Content-Length") or ""
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise ListingError(f"{url}: the listing is {declared} bytes, over {self.max_bytes}")
        try:
            return response.read(self.max_bytes)
        except BodyTooLarge:
            raise ListingError(f"{url}: the listing is over {self.max_bytes} bytes") from None

    def _get(self, url: str) -> Response:
        try:
            # max-age=0: intermediaries revalidate too (the session revalidates its copy).
            response = self.session.get(url, headers={"Cache-Control": "max-age=0"})
        except FetchError as exc:
            raise request_error(url, exc, self.session) from exc
        error = status_error(url, response, self.session)
        if error is not None:
            response.close()
            raise error
        return response

    def _forget(self, url: str) -> None:
        if self.session.cache is not None:
            self.session.cache.forget(url)


def _decode(url: str, response: Response, body: bytes) -> dict[str, Any]:
    content_type = response.headers.get("Content-Type") or ""
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
