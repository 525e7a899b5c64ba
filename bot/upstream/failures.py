"""What a failed request to upstream (or its mirror) means for the user, as one error.

Transient (exit 4, UpstreamUnavailable): connection errors, timeouts, 429/5xx after
every retry (or with a Retry-After longer than `bot.retry` waits), a deadline that ran
out. Final (exit 16, UpstreamRefused): 404, 401, 403 and any other refusal, a redirect
nowhere sane, a redirect loop: rerunning will not help until the URL or its credentials
change. Listings and installers come from the same mirror, so both go through here.
"""

from __future__ import annotations

import requests

from bot import retry
from bot.errors import CondabotError, ListingError, UpstreamRefused, UpstreamUnavailable
from bot.http import MAX_REDIRECTS, UnsafeRedirect, UpstreamSession

_POINT = "point --upstream-url at the mirror's final address"


def deadline_error(url: str, session: requests.Session) -> UpstreamUnavailable | None:
    """The error to report if the request's deadline has passed, whatever else failed."""
    deadline = getattr(session, "deadline", None)
    if deadline is None or not deadline.passed():
        return None
    return UpstreamUnavailable(
        f"{url}: no complete answer within the {deadline}",
        f"rerun later, or raise {deadline.setting} if the mirror is only slow",
    )


def request_error(
    url: str, exc: requests.RequestException, session: requests.Session
) -> CondabotError:
    """The error for a request that raised `exc`."""
    if late := deadline_error(url, session):
        return late
    if isinstance(exc, UnsafeRedirect):
        return UpstreamRefused(f"{url}: redirected to {exc.target}: {exc.problem}", _POINT)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return UpstreamRefused(f"{url}: more than {MAX_REDIRECTS} redirects (a loop?)", _POINT)
    if isinstance(exc, requests.exceptions.InvalidSchema | requests.exceptions.InvalidURL):
        return UpstreamRefused(f"{url}: cannot be fetched ({reason(exc)})", "check --upstream-url")
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return ListingError(
            f"{url}: the body cannot be decompressed ({reason(exc)})",
            "rerun later; report it if it persists",
        )
    if isinstance(exc, requests.exceptions.RetryError):
        return UpstreamUnavailable(
            f"{url}: still failing after every retry ({reason(exc)})", "rerun later"
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return UpstreamUnavailable(
            f"{url}: timed out after every retry", "check the network or --upstream-url, then rerun"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return UpstreamUnavailable(
            f"{url}: cannot connect ({reason(exc)})",
            "check the network or --upstream-url, then rerun",
        )
    return UpstreamUnavailable(f"{url}: {reason(exc)}", "rerun later; report it if it persists")


def status_error(
    url: str, response: requests.Response, session: requests.Session
) -> CondabotError | None:
    """The error for an answer that is not a 200, or None for a 200."""
    status = response.status_code
    if status == 200:
        return None
    if status in retry.TRANSIENT_STATUSES:
        if late := deadline_error(url, session):
            return late
        wait = retry.retry_after_seconds(response.headers.get("Retry-After"))
        policy = session.policy.retry if isinstance(session, UpstreamSession) else retry.HTTP
        patience = policy.max_wait
        if wait is not None and wait > patience:
            return UpstreamUnavailable(
                f"{url}: HTTP {status}, asking to wait {wait:g}s: more than {patience:g}s",
                "rerun later",
            )
        hint = f"upstream asks to wait {wait:g}s; rerun later" if wait else "rerun later"
        return UpstreamUnavailable(f"{url}: HTTP {status} after every retry", hint)
    if status in (401, 403):
        if response.request.headers.get("Authorization"):
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


def reason(exc: Exception) -> str:
    """The innermost words of a requests/urllib3 error, short and on one line."""
    text = str(exc.args[0] if exc.args else exc)
    return " ".join(text.split(": ")[-1].split())[:160] or type(exc).__name__
