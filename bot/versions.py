"""Ordering of installer versions across every upstream naming era.

Conda-era versions (`23.5.2-0`), calendar versions (`2023.07-2`) and old four-part
versions (`4.7.12.1`) all map onto a semver core (the first three parts, zero
padded) plus the remaining parts and the build number, compared in that order.
The original text is kept: it is what appears in filenames and tags.

The core is a semver.Version; sorting compares the equivalent integer tuple,
which gives the same order as semver precedence (no pre-releases exist here)
at a fraction of the cost when thousands of installers are sorted per poll.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import semver

_VERSION = re.compile(r"^(?P<release>\d+(?:\.\d+){0,3})(?:-(?P<build>\d+))?$", re.ASCII)


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """An upstream version such as `26.5.3-1` or `2025.06-0`, ordered as upstream releases them."""

    text: str
    release: tuple[int, ...]
    build: int | None
    key: tuple[int, ...] = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> Version:
        return _parse(text)

    @classmethod
    def _from_text(cls, text: str) -> Version:
        match = _VERSION.fullmatch(text)
        if not match:
            raise ValueError(f"not an installer version: {text!r}")
        release = tuple(int(part) for part in match["release"].split("."))
        build = None if match["build"] is None else int(match["build"])
        core = (*release, 0, 0)[:3]
        extra = (*release[3:], 0)[:1]  # at most one fourth part exists upstream (4.7.12.1)
        # A missing build number sorts before build 0: `2023.03` < `2023.03-0`.
        key = (*core, *extra, -1 if build is None else build)
        return cls(text, release, build, key)

    @property
    def upstream(self) -> str:
        """The release without the build number: `26.5.3` of `26.5.3-1`."""
        return self.text.split("-", 1)[0]

    @property
    def conda(self) -> str:
        """The conda a Miniconda installer of this version ships: the first three parts of
        the release, `26.5.3` of `26.5.3-1`, `4.7.12` of `4.7.12.1`."""
        return ".".join(self.upstream.split(".")[:3])

    @property
    def series(self) -> str:
        """Major.minor as written upstream: `26.5` of `26.5.3-1`, `2023.07` of `2023.07-2`."""
        return ".".join(self.upstream.split(".")[:2])

    def label(self, python: str | None) -> str:
        """This release of a Python flavour as upstream's filenames write it: `py312_25.3.1-1`;
        the text alone without a flavour (Anaconda, old Miniconda)."""
        return f"{python}_{self.text}" if python else self.text

    @functools.cached_property
    def core(self) -> semver.Version:
        import semver  # only tests compare with it: every run would pay for the import

        return semver.Version(*self.key[:3])

    def sort_key(self) -> tuple[int, ...]:
        return self.key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.sort_key() == other.sort_key()

    def __hash__(self) -> int:
        return hash(self.sort_key())

    def __str__(self) -> str:
        return self.text


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Version:
    # A listing repeats each version dozens of times (flavours x platforms).
    return Version._from_text(text)


_COMPARATOR = re.compile(r"^(?P<op>>=|<=|==|!=|>|<)\s*(?P<version>[0-9][0-9.\-]*)$", re.ASCII)
_OPS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


@dataclass(frozen=True)
class VersionRange:
    """A comma-separated conjunction of comparators, e.g. `>=24.1.0,<27`."""

    text: str
    clauses: tuple[tuple[str, Version], ...]

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        clauses = []
        for raw in text.split(","):
            match = _COMPARATOR.fullmatch(raw.strip())
            if not match:
                raise ValueError(f"not a version comparator: {raw.strip()!r} (e.g. >=24.1.0)")
            clauses.append((match["op"], Version.parse(match["version"])))
        return cls(text, tuple(clauses))

    def __contains__(self, version: Version) -> bool:
        return all(_OPS[op](version, bound) for op, bound in self.clauses)
