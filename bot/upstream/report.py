"""What is newest upstream, per product, flavour, OS and arch. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from bot.upstream.model import Installer, Listing, Product
from bot.versions import Version


@dataclass(frozen=True)
class Newest:
    installer: Installer
    is_latest_flavour: bool  # the `-latest-` alias points at this flavour
    ended_at: Version | None  # set when this arch stopped receiving releases


@dataclass(frozen=True)
class Filters:
    product: Product | None = None
    python: str | None = None  # "py312"
    os: str | None = None
    arch: str | None = None

    def accept(self, installer: Installer) -> bool:
        return (
            (self.product is None or installer.product is self.product)
            and (self.python is None or installer.python == self.python)
            and (self.os is None or installer.os == self.os)
            and (self.arch is None or installer.arch == self.arch)
        )


def newest_installers(listing: Listing, filters: Filters = Filters()) -> list[Newest]:
    """The newest `.sh`/`.exe`/`.pkg` installer per (product, flavour, OS, arch, ext)."""
    newest: dict[tuple[object, ...], Installer] = {}
    candidates = listing.installers
    if filters != Filters():
        candidates = tuple(i for i in candidates if filters.accept(i))
    for installer in candidates:
        n = installer.name
        key = (n.product, n.python, n.os, n.arch, n.ext)
        best = newest.get(key)
        if best is None or best.name.version.key < n.version.key:
            newest[key] = installer
    ended = ended_arches(listing)
    latest = {(a.product, a.os, a.arch): a.target for a in listing.aliases if a.ext == "sh"}
    rows = []
    for installer in newest.values():
        target = latest.get((installer.product, installer.os, installer.arch))
        rows.append(
            Newest(
                installer=installer,
                is_latest_flavour=target is not None and target.python == installer.python,
                ended_at=ended.get((installer.product, installer.os, installer.arch)),
            )
        )
    rows.sort(key=lambda r: _row_key(r.installer))
    return rows


def ended_arches(listing: Listing) -> dict[tuple[Product, str, str], Version]:
    """Arches whose newest release is older than the product's newest on that OS.

    Upstream stops building an arch silently (ppc64le after Miniconda 23.10.0-1);
    this is how it shows: the arch's last version falls behind.
    """
    last: dict[tuple[Product, str, str], Version] = {}
    for installer in listing.installers:
        n = installer.name
        key = (n.product, n.os, n.arch)
        seen = last.get(key)
        if seen is None or seen.key < n.version.key:
            last[key] = n.version
    newest_per_os: dict[tuple[Product, str], Version] = {}
    for (product, os, _), version in last.items():
        if (product, os) not in newest_per_os or newest_per_os[product, os] < version:
            newest_per_os[product, os] = version
    return {key: v for key, v in last.items() if v < newest_per_os[key[0], key[1]]}


def _row_key(i: Installer) -> tuple[object, ...]:
    flavour = int(i.python[2:]) if i.python else 0
    return (i.product.value, i.os, i.arch, i.name.ext, -flavour)
