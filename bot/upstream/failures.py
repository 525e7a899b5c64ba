"""What a failed request to upstream (or its mirror) means for the user, as one error.

Transient (exit 4, UpstreamUnavailable): connection errors, timeouts, 429/5xx after
every retry (or with a Retry-After longer than `bot.retry` waits), a deadline that ran
out. Final (exit 16, UpstreamRefused): 404, 401, 403 and any other refusal, a redirect
nowhere sane, a redirect loop: rerunning will not help until the URL or its credentials
change. Listings and installers come from the same mirror, so both go through here.
"""

from __future__ import annotations

from bot import retry
from bot.errors import CondabotError, ListingError, UpstreamRefused, UpstreamUnavailable
from bot.http import MAX_REDIRECTS, Session
from bot.http.response import Failure, FetchError, Response

_POINT = "point --upstream-url at the mirror's final address"
_NETWORK = "check the network or --upstream-url, then rerun"


def deadline_error(url: str, session: Session) -> UpstreamUnavailable | None:
    """The error to report if the request's deadline has passed, whatever else failed."""
    if not session.deadline.passed():
        return None
    return UpstreamUnavailable(
        f"{url}: no complete answer within the {session.deadline}",
        f"rerun later, or raise {session.deadline.setting} if the mirror is only slow",
    )


def request_error(url: str, exc: FetchError, session: Session) -> CondabotError:
    """The error for a request that brought back no answer."""
    if late := deadline_error(url, session):
        return late
    match exc.failure:
        case Failure.BAD_REDIRECT:
            return UpstreamRefused(f"{url}: redirected to {exc.target}: {exc.detail}", _POINT)
        case Failure.REDIRECT_LOOP:
            return UpstreamRefused(f"{url}: more than {MAX_REDIRECTS} redirects (a loop?)", _POINT)
        case Failure.BAD_URL:
            return UpstreamRefused(
                f"{url}: cannot be fetched ({exc.detail})", "check --upstream-url"
            )
        case Failure.UNTRUSTED:
            return UpstreamRefused(
                f"{url}: the server's certificate is not trusted ({exc.detail})",
                "for a mirror with a private CA, point SSL_CERT_FILE at the CA's bundle",
            )
        case Failure.UNDECODABLE:
            return ListingError(
                f"{url}: the body cannot be decompressed ({exc.detail})",
                "rerun later; report it if it persists",
            )
        case Failure.TIMEOUT:
            return UpstreamUnavailable(f"{url}: timed out after every retry", _NETWORK)
        case Failure.CONNECT:
            return UpstreamUnavailable(f"{url}: cannot connect ({exc.detail})", _NETWORK)
    return UpstreamUnavailable(f"{url}: {exc}", "rerun later; report it if it persists")


def status_error(url: str, response: Response, session: Session) -> CondabotError | None:
    """The error for an answer that is not a 200, or None for a 200."""
    status = response.status_code
    if status == 200:
        return None
    if status in retry.TRANSIENT_STATUSES:
        if late := deadline_error(url, session):
            return late
        wait = retry.retry_after_seconds(response.headers.get("Retry-After"))
        patience = session.policy.retry.max_wait
        if wait is not None and wait > patience:
            return UpstreamUnavailable(
                f"{url}: HTTP {status}, asking to wait {wait:g}s: more than {patience:g}s",
                "rerun later",
            )
        hint = f"upstream asks to wait {wait:g}s; rerun later" if wait else "rerun later"
        return UpstreamUnavailable(f"{url}: HTTP {status} after every retry", hint)
    if status in (401, 403):
        if response.authorized:
            return UpstreamRefused(
                f"{url}: HTTP {status}: the mirror refused the credentials in --upstream-url",
                "check the user and password in it",
            )
        return UpstreamRefused(
            f"{url}: HTTP {status}: the mirror wants credentials",
            "give them in --upstream-url as https://USER:PASSWORD@HOST",
        )
    return UpstreamRefused(
        f"{url}: HTTP {status}", "is --upstream-url a mirror of repo.anaconda.com?"
    )
