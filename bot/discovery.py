"""Zero-config: the catalog a repository implies when it has none.

Every Dockerfile under the repository root that pins Miniconda or Anaconda installers (any
form `bot.pins` reads) becomes one image: its name from its path, its product and
platforms from its pins, and the catalog's default policy (follow upstream's default
flavour, flavour changes flagged; no minimum release age; one PR per Dockerfile). A
Dockerfile whose pins cannot be read is set aside with its `path:line` problem; the
others go ahead.

`discover` is pure (paths and texts in, a `Discovery` out); `find_dockerfiles` and
`discover_tree` are the I/O edge.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.catalog import BotPolicy, Catalog, Image, TagPolicy, default_context, load_catalog
from bot.errors import CatalogError, DockerfileError
from bot.files import read_text
from bot.pins import Pin, read_pins
from bot.platforms import BY_ARCH
from bot.upstream.model import Product

DOCKERFILE_PATTERNS = (
    "Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile",
    "Containerfile", "Containerfile.*",
)  # fmt: skip
# Folders never searched: tools' and packages' trees, not the repository's images.
PRUNED = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
# Leading folders that only hold the images: `dockerfiles/miniconda3/debian` is `miniconda3-debian`.
CONTAINER_FOLDERS = frozenset({"dockerfiles", "docker"})
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_MAX_NAME = 63


@dataclass(frozen=True)
class Discovery:
    """The implied catalog, each image's pins, and the Dockerfiles set aside (unreadable)."""

    catalog: Catalog
    pins: Mapping[str, tuple[Pin, ...]]
    skipped: tuple[DockerfileError, ...]
    searched: int  # Dockerfiles looked at


def is_dockerfile(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in DOCKERFILE_PATTERNS)


def find_dockerfiles(root: Path) -> tuple[str, ...]:
    """Every Dockerfile under `root` (relative POSIX paths, sorted); hidden folders, tools'
    trees and symlinked folders are not searched."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in PRUNED)
        base = Path(folder).relative_to(root)
        found += [(base / f).as_posix() for f in files if is_dockerfile(f)]
    return tuple(sorted(found))


def discover_tree(root: Path) -> Discovery:
    """Read every Dockerfile under `root` and discover its images. A file that cannot be
    read (not UTF-8, no permission) is set aside like one whose pins cannot be read."""
    texts: dict[str, str] = {}
    unreadable: list[DockerfileError] = []
    for path in find_dockerfiles(root):
        try:
            texts[path] = read_text(root / path)
        except DockerfileError as exc:
            unreadable.append(DockerfileError(f"{path}: {exc.what}", exc.hint))
    found = discover(texts)
    skipped = tuple(sorted((*found.skipped, *unreadable), key=lambda e: e.what))
    return Discovery(found.catalog, found.pins, skipped, found.searched + len(unreadable))


def discover(texts: Mapping[str, str]) -> Discovery:
    """The images that these Dockerfiles (path -> text, paths relative to the root) pin."""
    pinned: dict[str, tuple[Pin, ...]] = {}
    skipped: list[DockerfileError] = []
    for path in sorted(texts):
        try:
            pins = read_pins(texts[path], path)
            if pins:
                _one_product(path, pins)
                pinned[path] = pins
        except DockerfileError as exc:
            skipped.append(exc)
    names = image_names(pinned)
    images = tuple(_image(names[path], path, pins) for path, pins in pinned.items())
    by_name = {names[path]: pins for path, pins in pinned.items()}
    return Discovery(Catalog({}, images), by_name, tuple(skipped), len(texts))


def _one_product(path: str, pins: tuple[Pin, ...]) -> None:
    products = sorted({p.product.value for p in pins})
    if len(products) > 1:
        raise DockerfileError(
            f"{path}:{pins[0].line}: pins installers of {' and '.join(products)}",
            "keep one product per Dockerfile, or write a catalog that says which image is which",
        )


def _image(name: str, path: str, pins: tuple[Pin, ...]) -> Image:
    arches = sorted({p.arch for p in pins}, key=list(BY_ARCH).index)
    return Image(
        name=name,
        product=pins[0].product,
        dockerfile=path,
        context=default_context(path),
        platforms=tuple(BY_ARCH[a] for a in arches),
        python="default",
        repository=name,
        registries=(),
        tags=TagPolicy(),
        build_args=(),
        frozen=False,
        build_by_default=True,
        bot=BotPolicy(),
    )


def image_names(pinned: Mapping[str, tuple[Pin, ...]]) -> dict[str, str]:
    """Path -> image name: the folders (less a leading `dockerfiles/` or `docker/`) and the
    file name's variant joined by `-`, e.g. `miniconda3/debian/Dockerfile` ->
    `miniconda3-debian`, `Dockerfile.alpine` at the root -> `miniconda3-alpine`; a clash
    gets `-2`."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for path in sorted(pinned):
        base = name_from_path(path, pinned[path][0].product)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base[: _MAX_NAME - len(str(n)) - 1]}-{n}"
        taken.add(name)
        names[path] = name
    return names


def name_from_path(path: str, product: Product) -> str:
    folders = list(PurePosixPath(path).parts)
    filename = folders.pop()
    while folders and folders[0].lower() in CONTAINER_FOLDERS:
        folders.pop(0)
    parts = [*(folders or [product.value]), *_variant(filename)]
    words = [w for w in (_NOT_NAME.sub("-", p.lower()).strip("-") for p in parts) if w]
    return "-".join(words)[:_MAX_NAME].rstrip("-") or product.value


def _variant(filename: str) -> Iterable[str]:
    """`Dockerfile.alpine` and `alpine.Dockerfile` -> `alpine`; `Dockerfile` -> nothing."""
    lower = filename.lower()
    for stem in ("dockerfile", "containerfile"):
        if lower.startswith(f"{stem}."):
            return [filename[len(stem) + 1 :]]
        if lower.endswith(f".{stem}"):
            return [filename[: -len(stem) - 1]]
    return []


def nothing_found(root: Path, catalog: Path, discovery: Discovery) -> CatalogError:
    """Why there is no catalog to work with, and what to do."""
    if discovery.skipped:
        first = discovery.skipped[0]
        return CatalogError(
            f"no catalog at {catalog}, and none of the {len(discovery.skipped)} Dockerfile(s) "
            f"that pin installers could be read (first: {first.what})",
            first.hint,
        )
    return CatalogError(
        f"no catalog at {catalog}, and no Dockerfile under {root} pins a Miniconda or "
        f"Anaconda installer ({discovery.searched} Dockerfile(s) searched)",
        "run from the repository root or pass --root, or pin each arch as "
        "ARG INSTALLER_URL_<ARCH> / ARG SHA256SUM_<ARCH>",
    )


@dataclass(frozen=True)
class Source:
    """What the bot works from: the catalog file, or (none there) the discovered one."""

    catalog: Catalog
    root: Path
    catalog_path: Path
    discovery: Discovery | None = None  # None: the catalog was read from `catalog_path`

    @property
    def discovered(self) -> bool:
        return self.discovery is not None

    def pins(self, name: str) -> tuple[Pin, ...]:
        if self.discovery is not None:
            return self.discovery.pins[name]
        pin_file = self.catalog.image(name).pin_file
        return read_pins(read_text(self.root / pin_file), pin_file)


def load_or_discover(root: Path, catalog_path: Path) -> Source:
    """The catalog at `catalog_path`; when there is no file there, the one the Dockerfiles
    under `root` imply (CatalogError when they imply none)."""
    if os.path.lexists(catalog_path):
        return Source(load_catalog(catalog_path), root, catalog_path)
    found = discover_tree(root)
    if not found.catalog.images:
        raise nothing_found(root, catalog_path, found)
    return Source(found.catalog, root, catalog_path, found)
