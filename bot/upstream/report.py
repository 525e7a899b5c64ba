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
    for installer in listing.installers:
        if not filters.accept(installer):
            continue
        key = (
            installer.product,
            installer.python,
            installer.os,
            installer.arch,
            installer.name.ext,
        )
        if key not in newest or newest[key].version < installer.version:
            newest[key] = installer
    ended = ended_arches(listing)
    rows = []
    for installer in newest.values():
        alias = listing.latest_alias(installer.product, installer.os, installer.arch)
        target = alias.target if alias else None
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
        key = (installer.product, installer.os, installer.arch)
        if key not in last or last[key] < installer.version:
            last[key] = installer.version
    newest_per_os: dict[tuple[Product, str], Version] = {}
    for (product, os, _), version in last.items():
        if (product, os) not in newest_per_os or newest_per_os[product, os] < version:
            newest_per_os[product, os] = version
    return {key: v for key, v in last.items() if v < newest_per_os[key[0], key[1]]}


def _row_key(i: Installer) -> tuple[object, ...]:
    flavour = int(i.python[2:]) if i.python else 0
    return (i.product.value, i.os, i.arch, i.name.ext, -flavour)
