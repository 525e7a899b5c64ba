"""Where a request goes and with which credentials: URLs, mirror credentials, ~/.netrc,
and the proxies the environment names."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from bot import secrets
from bot.errors import UsageError


def url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched (not http(s), no host, a bad port), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are fetched"
    if not parts.hostname:
        return "the URL has no host"
    return None


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def hostport(parts: SplitResult) -> str:
    return parts.netloc.rpartition("@")[2]


def shown(url: str) -> str:
    """`url` as a log line may show it."""
    return secrets.redact(url)


def userinfo(url: str) -> tuple[str, str] | None:
    """The (user, password) a URL carries before its host, unquoted; None without."""
    info, at, _ = urlsplit(url).netloc.rpartition("@")
    if not at:
        return None
    username, _, password = (unquote(p) for p in info.partition(":"))
    return username, password


def basic_auth(credentials: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(":".join(credentials).encode()).decode("ascii")


_MIRROR_CREDENTIALS: dict[tuple[str, str, int | None], tuple[str, str]] = {}


def split_credentials(url: str) -> str:
    """`url` without its userinfo. The credentials it held are remembered for its
    origin (scheme, host, port): every session sends them there and nowhere else, and
    `bot.secrets` masks them wherever they would be printed."""
    credentials = userinfo(url)
    if credentials is None:
        return url
    username, password = credentials
    secrets.register(password or username)  # a lone user part is usually a token
    parts = urlsplit(url)
    clean = urlunsplit(parts._replace(netloc=hostport(parts)))
    _MIRROR_CREDENTIALS[origin(clean)] = credentials
    return clean


def forget_credentials() -> None:
    """Drop every remembered mirror credential (a long-lived process, such as tests)."""
    _MIRROR_CREDENTIALS.clear()


def credentials_for(url: str) -> tuple[str, str] | None:
    """Those remembered for `url`'s origin, else ~/.netrc's (or $NETRC's) for its host."""
    remembered = _MIRROR_CREDENTIALS.get(origin(url))
    if remembered is not None:
        return remembered
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    if not path.is_file():
        return None
    import netrc

    try:
        found = netrc.netrc(str(path)).authenticators(urlsplit(url).hostname or "")
    except (OSError, netrc.NetrcParseError):
        return None
    if not found:
        return None
    login, _, password = found
    secrets.register(password)
    return login, password


def proxy_for(parts: SplitResult) -> str | None:
    """The proxy the environment names for this URL (http://[user:password@]host:port),
    or None. Read only when a *_proxy variable is set: urllib.request is slow to import."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    from urllib.request import getproxies_environment, proxy_bypass

    proxies = getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or proxy_bypass(hostport(parts)):
        return None
    proxy = proxy if "://" in proxy else f"http://{proxy}"
    if not proxy.startswith("http://"):
        raise UsageError(
            f"the environment's {parts.scheme} proxy {shown(proxy)} is not an http:// proxy",
            "condabot reaches upstream through http:// proxies only: set one, or unset it",
        )
    secrets.register((userinfo(proxy) or ("", ""))[1])
    return proxy
