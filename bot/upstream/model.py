"""Values describing upstream installers. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.versions import Version


class Product(StrEnum):
    MINICONDA = "miniconda"  # the 2013-era name, before Miniconda2/3
    MINICONDA2 = "miniconda2"
    MINICONDA3 = "miniconda3"
    ANACONDA = "anaconda"
    ANACONDA2 = "anaconda2"
    ANACONDA3 = "anaconda3"

    @property
    def directory(self) -> str:
        """The upstream directory that lists this product."""
        return "miniconda" if self.value.startswith("miniconda") else "archive"

    @property
    def filename_prefix(self) -> str:
        return {
            "miniconda": "Miniconda",
            "miniconda2": "Miniconda2",
            "miniconda3": "Miniconda3",
            "anaconda": "Anaconda",
            "anaconda2": "Anaconda2",
            "anaconda3": "Anaconda3",
        }[self.value]


DIRECTORIES = ("miniconda", "archive")


@dataclass(frozen=True)
class InstallerName:
    """What a filename says, before anything about the file itself is known."""

    product: Product
    python: str | None  # flavour as written upstream, e.g. "py312"; None before 4.8.2
    version: Version
    os: str
    arch: str
    ext: str

    @property
    def label(self) -> str:
        return self.version.label(self.python)


class Named:
    """An installer, or a pin of one: what its filename says, read from `name`."""

    name: InstallerName

    @property
    def product(self) -> Product:
        return self.name.product

    @property
    def python(self) -> str | None:
        return self.name.python

    @property
    def version(self) -> Version:
        return self.name.version

    @property
    def os(self) -> str:
        return self.name.os

    @property
    def arch(self) -> str:
        return self.name.arch


@dataclass(frozen=True)
class Installer(Named):
    """One installer a listing offers: its parsed name, checksum, size, time and URL."""

    filename: str
    name: InstallerName
    sha256: str
    size: int
    mtime: float
    url: str


@dataclass(frozen=True)
class LatestAlias:
    """`Miniconda3-latest-Linux-x86_64.sh`: a byte-identical copy of one versioned installer."""

    filename: str
    product: Product
    os: str
    arch: str
    ext: str
    sha256: str
    mtime: float
    target: Installer | None  # None when no versioned installer has the same bytes


@dataclass(frozen=True)
class InvalidEntry:
    """A listing entry refused by validation: reported, never used."""

    directory: str
    filename: str
    reason: str


@dataclass(frozen=True)
class Listing:
    """Everything parsed from the upstream directories, as of one poll."""

    installers: tuple[Installer, ...]
    aliases: tuple[LatestAlias, ...]
    invalid: tuple[InvalidEntry, ...]
    unrecognized: tuple[str, ...]

    def latest_alias(self, product: Product, os: str, arch: str) -> LatestAlias | None:
        for alias in self.aliases:
            if (alias.product, alias.os, alias.arch, alias.ext) == (product, os, arch, "sh"):
                return alias
        return None
