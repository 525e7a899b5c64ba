"""Options several commands share, each defined once and turned into a typed value at the
edge: where the repository and its catalog are (`--root`, `--catalog`: plan, bump, init,
doctor) and where upstream is (`--upstream-url`, `--cache-dir`: upstream, plan, bump,
doctor). The core they reach loads inside the functions: `upstream` never loads the
catalog's code, nor `init` the HTTP stack."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.discovery import Source
    from bot.http import HttpPolicy
    from bot.upstream.model import Listing, Product


# -- the repository: --root and --catalog -----------------------------------------------


@dataclass(frozen=True)
class Location:
    """Where the repository and its catalog are, as the command line names them."""

    root: Path  # the repository root: the catalog's paths are relative to it
    catalog: Path  # the catalog file, which may not exist yet
    named: bool = False  # the catalog was named (--catalog, CONDABOT_CATALOG): it must exist

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Location:
        """`--root` given: the catalog is relative to it (as for `condabot release`), and it
        must be a directory. Else the catalog is relative to the current directory and the
        root is its grandparent."""
        from bot.catalog import DEFAULT_PATH

        named = args.catalog is not None
        catalog: Path = args.catalog or DEFAULT_PATH
        if args.root is not None:
            root = Path(args.root).resolve()
            if not root.is_dir():
                raise UsageError(
                    f"--root {str(args.root)!r} is not a directory",
                    "give the repository root (or set CONDABOT_ROOT to it)",
                )
            return cls(root, root / catalog, named)
        path = catalog.resolve() if catalog.is_absolute() else (Path.cwd() / catalog).resolve()
        return cls(path.parent.parent, path, named)


def add_location_options(parser: argparse.ArgumentParser) -> None:
    from bot.catalog import DEFAULT_PATH

    parser.add_argument(
        "--root",
        type=Path,
        default=_env_path("CONDABOT_ROOT"),
        metavar="DIR",
        help="the repository root (env CONDABOT_ROOT); default: the catalog's grandparent, "
        "which for the default catalog is the current directory",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=_env_path("CONDABOT_CATALOG"),
        metavar="PATH",
        help=f"the image catalog (env CONDABOT_CATALOG; default {DEFAULT_PATH}, and when that "
        "file does not exist, the images are discovered from the Dockerfiles); relative to "
        "--root when given",
    )


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def load_source(location: Location) -> Source:
    """The catalog, or (none at the default path) the one discovered from the Dockerfiles,
    saying so on stderr. A catalog named on the command line must exist."""
    from bot.catalog import load_catalog
    from bot.discovery import Source, load_or_discover

    if location.named:
        return Source(load_catalog(location.catalog), location.root, location.catalog)
    source = load_or_discover(location.root, location.catalog)
    if source.discovery is not None:
        found = source.discovery
        print(
            f"condabot: no catalog at {shown(location.catalog, location.root)}: "
            f"{len(found.catalog.images)} image(s) discovered from their Dockerfiles "
            "(`condabot init` writes them to a catalog you can edit)",
            file=sys.stderr,
        )
        for problem in found.skipped:
            print(f"condabot: warning: skipped {problem.message}", file=sys.stderr)
    return source


def shown(path: Path, root: Path) -> str:
    """`path` as a message shows it: relative to the repository root when inside it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# -- upstream: --upstream-url and --cache-dir ---------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """Where listings and installers come from, and how patiently they are fetched."""

    url: str  # checked: a root a session can fetch from
    cache_dir: Path  # where listings are cached between polls
    policy: HttpPolicy  # timeouts, retries and deadlines (CONDABOT_HTTP_*)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Upstream:
        """The upstream settings; a URL no session can use, or a bad CONDABOT_HTTP_* value,
        is a UsageError (exit 2).

        Credentials given in the URL are kept for the mirror's origin: every session
        from `make_session` sends them there, and no printed URL carries them.
        """
        from bot.http import HttpPolicy, default_cache_dir
        from bot.http.origins import url_problem

        problem = url_problem(args.upstream_url)
        if problem:
            raise UsageError(
                f"--upstream-url {args.upstream_url!r} cannot be used: {problem}",
                "give the root of repo.anaconda.com or of a mirror of it, e.g. "
                "https://repo.anaconda.com",
            )
        cache_dir = args.cache_dir or default_cache_dir()
        return cls(args.upstream_url, cache_dir, HttpPolicy.from_env())


def add_upstream_options(parser: argparse.ArgumentParser, cache_dir: bool = True) -> None:
    """`--upstream-url`, and `--cache-dir` for the commands that fetch (doctor never does)."""
    from bot.upstream.source import DEFAULT_UPSTREAM

    parser.add_argument(
        "--upstream-url",
        default=os.environ.get("CONDABOT_UPSTREAM_URL") or DEFAULT_UPSTREAM,
        help="root of repo.anaconda.com or a mirror of it (env CONDABOT_UPSTREAM_URL)",
    )
    if cache_dir:
        parser.add_argument(
            "--cache-dir",
            type=Path,
            help="where listings are cached between polls (env CONDABOT_CACHE_DIR)",
        )


def fetch_listing(upstream: Upstream, products: Iterable[Product] | None = None) -> Listing:
    """Upstream's listing: of every product, or only of the directories that list
    `products` (a repository of Miniconda images never asks for the archive's)."""
    from bot.http import make_session
    from bot.upstream.model import DIRECTORIES
    from bot.upstream.source import HttpUpstream

    wanted: tuple[str, ...] = DIRECTORIES
    if products is not None:
        needed = {p.directory for p in products}
        wanted = tuple(d for d in DIRECTORIES if d in needed)
    session = make_session(upstream.cache_dir, upstream.policy)
    return HttpUpstream(upstream.url, session).listing(wanted)
