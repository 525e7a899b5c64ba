"""Where the repository and its catalog are: `--root` and `--catalog`, shared by the commands
that read a repository's images (plan, bump, init, doctor)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.catalog import DEFAULT_PATH, load_catalog
from bot.discovery import Source, load_or_discover


@dataclass(frozen=True)
class Location:
    root: Path  # the repository root: the catalog's paths are relative to it
    catalog: Path  # the catalog file, which may not exist yet
    named: bool = False  # the catalog was named (--catalog, CONDABOT_CATALOG): it must exist


def add_location_options(parser: argparse.ArgumentParser) -> None:
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


def locate(args: argparse.Namespace) -> Location:
    """`--root` given: the catalog is relative to it (as for `condabot release`). Else the
    catalog is relative to the current directory and the root is its grandparent."""
    named = args.catalog is not None
    catalog: Path = args.catalog or DEFAULT_PATH
    if args.root is not None:
        root = Path(args.root).resolve()
        return Location(root, root / catalog, named)
    path = catalog.resolve() if catalog.is_absolute() else (Path.cwd() / catalog).resolve()
    return Location(path.parent.parent, path, named)


def load_source(location: Location) -> Source:
    """The catalog, or (none at the default path) the one discovered from the Dockerfiles,
    saying so on stderr. A catalog named on the command line must exist."""
    if location.named:
        return Source(load_catalog(location.catalog), location.root, location.catalog)
    source = load_or_discover(location.root, location.catalog)
    if source.discovery is not None:
        found = source.discovery
        print(
            f"condabot: no catalog at {_shown(location.catalog, location.root)}: "
            f"{len(found.catalog.images)} image(s) discovered from their Dockerfiles "
            "(`condabot init` writes them to a catalog you can edit)",
            file=sys.stderr,
        )
        for problem in found.skipped:
            print(f"condabot: warning: skipped {problem.message}", file=sys.stderr)
    return source


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
