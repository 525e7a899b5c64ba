"""Parse installer filenames of every upstream naming era. Pure.

Eras: `Miniconda3-4.7.12.1-...`, `Miniconda3-py38_4.8.2-...`,
`Miniconda3-py312_24.5.0-0-...`, `Anaconda3-5.3.1-...`, `Anaconda3-2022.10-...`,
`Anaconda3-2023.07-2-...`, and the `-latest-` aliases.
"""

from __future__ import annotations

import re

from bot.upstream.model import InstallerName, Product
from bot.versions import Version

# Only these characters may ever reach a URL, a Dockerfile or a log line.
SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

_PRODUCT = r"(?P<product>Miniconda[23]?|Anaconda[23]?)"
_PLATFORM = (
    r"(?P<os>Linux|MacOSX|Windows)-"
    r"(?P<arch>x86_64|x86|aarch64|arm64|ppc64le|s390x|armv7l|armv6l)\.(?P<ext>sh|pkg|exe)"
)
_INSTALLER = re.compile(
    rf"^{_PRODUCT}-(?:(?P<python>py\d{{2,3}})_)?"
    rf"(?P<version>\d+(?:\.\d+){{1,3}}(?:-\d+)?)-{_PLATFORM}$",
    re.ASCII,
)
_ALIAS = re.compile(rf"^{_PRODUCT}-latest-{_PLATFORM}$", re.ASCII)


_PRODUCTS = {p.filename_prefix: p for p in Product}


def _product(text: str) -> Product:
    return _PRODUCTS[text]


def parse_installer_name(filename: str) -> InstallerName | None:
    """The typed meaning of a versioned installer's filename, or None if it is not one."""
    if not SAFE_FILENAME.fullmatch(filename):  # also bounds the digits any version part can have
        return None
    match = _INSTALLER.fullmatch(filename)
    if not match:
        return None
    product, python, version, os, arch, ext = match.group(
        "product", "python", "version", "os", "arch", "ext"
    )
    return InstallerName(_PRODUCTS[product], python, Version.parse(version), os, arch, ext)


def parse_alias_name(filename: str) -> tuple[Product, str, str, str] | None:
    """(product, os, arch, ext) of a `-latest-` alias, or None if it is not one."""
    if not SAFE_FILENAME.fullmatch(filename):
        return None
    match = _ALIAS.fullmatch(filename)
    if not match:
        return None
    return _product(match["product"]), match["os"], match["arch"], match["ext"]


def installer_filename(name: InstallerName) -> str:
    """The inverse of `parse_installer_name`."""
    flavour = f"{name.python}_" if name.python else ""
    prefix = name.product.filename_prefix
    return f"{prefix}-{flavour}{name.version.text}-{name.os}-{name.arch}.{name.ext}"


def python_flavour(text: str) -> str:
    """Normalise `3.12`, `312` or `py312` to upstream's `py312`."""
    digits = text.removeprefix("py").replace(".", "")
    if not re.fullmatch(r"\d{2,3}", digits):
        raise ValueError(f"not a Python flavour: {text!r} (expected e.g. 3.12 or py312)")
    return f"py{digits}"
