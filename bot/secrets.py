"""Keep secrets out of logs, errors and reports.

Every credential the bot reads is registered here; `redact` replaces each one,
the userinfo of every URL (`https://user:password@host` becomes `https://***@host`),
and common token shapes, in case one arrives from somewhere unexpected. A word
after "token" is masked only if it looks like a credential (long, with a digit),
so that messages such as "calling the GetAuthorizationToken operation" survive.
"""

from __future__ import annotations

import logging
import re

_SECRETS: set[str] = set()
_TOKEN_SHAPES = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|AKIA[0-9A-Z]{16}"
    r"|(?<=\b[Bb]earer )[A-Za-z0-9._~+/=-]{8,}"
    r"|(?<=\b[Tt]oken[ :=])(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{16,})"
)
# scheme://userinfo@ : whatever precedes the @ of the authority, up to a / ? # or space.
_URL_USERINFO = re.compile(r"(?<=://)[^\s/?#@]+@")
MASK = "***"


def register(secret: str | None) -> None:
    """Remember a secret so that `redact` masks it wherever it appears."""
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(MASK + "@", text)
    return _TOKEN_SHAPES.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Masks secrets in every record, whatever logger emitted it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True
