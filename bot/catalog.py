"""The image catalog, `dockerfiles/images.yaml`: the one source of truth.

The bot, the release planner and the CI matrix all read it through `load_catalog`.
Validation happens on load; an error names the file, line and key at fault.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from bot.errors import CatalogError
from bot.platforms import PLATFORMS, Platform
from bot.upstream.model import Product
from bot.upstream.names import python_flavour
from bot.versions import VersionRange

DEFAULT_PATH = Path("dockerfiles/images.yaml")
PRODUCTS = (Product.MINICONDA3, Product.MINICONDA2, Product.ANACONDA3)
REGISTRY_KINDS = ("dockerhub", "ecr", "ecr-public", "registry")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_AGE = re.compile(r"^(\d+)([smhd])$", re.ASCII)
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Registry:
    name: str
    kind: str
    host: str
    namespace: str


@dataclass(frozen=True)
class TagPolicy:
    suffix: str = ""
    latest: bool = True


@dataclass(frozen=True)
class BotPolicy:
    labels: tuple[str, ...] = ("dependencies",)
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    min_release_age: timedelta = timedelta(0)
    group: str = "image"  # "image" or "product"
    ignore: tuple[str, ...] = ()
    allow: VersionRange | None = None


@dataclass(frozen=True)
class EndOfLife:
    """An image kept for legacy use only: said in its labels and index annotations."""

    date: str  # ISO 8601 date, e.g. "2020-01-01"
    replacement: str  # the catalog image its users should move to


@dataclass(frozen=True)
class Image:
    name: str
    product: Product
    dockerfile: str  # relative to the repository root
    platforms: tuple[Platform, ...]
    python: str  # "default" (follow upstream's latest alias) or a flavour such as "py312"
    repository: str
    registries: tuple[str, ...]
    tags: TagPolicy
    build_args: tuple[tuple[str, str], ...]
    frozen: bool
    build_by_default: bool
    bot: BotPolicy
    # A Python line shares its variant's Dockerfile and keeps its installer pins in a small
    # file of the same ARG format beside it; None: the pins are in the Dockerfile.
    pins: str | None = None
    end_of_life: EndOfLife | None = None

    @property
    def pin_file(self) -> str:
        """The file holding this image's installer pins: the one the bot rewrites."""
        return self.pins or self.dockerfile

    @property
    def follows_default(self) -> bool:
        return self.python == "default"

    @property
    def arches(self) -> tuple[str, ...]:
        return tuple(p.arch for p in self.platforms)


@dataclass(frozen=True)
class Catalog:
    registries: dict[str, Registry]
    images: tuple[Image, ...]

    def image(self, name: str) -> Image:
        for image in self.images:
            if image.name == name:
                return image
        raise CatalogError(f"no image named {name!r} in the catalog")

    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.images)


class _Reader:
    """Walks the YAML tree, naming each key's path and line in its errors."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Any, key: str | int | None, path: str, problem: str) -> CatalogError:
        line = ""
        if isinstance(node, CommentedMap | CommentedSeq):
            try:
                position = node.lc.key(key) if isinstance(node, CommentedMap) else node.lc.item(key)
                line = f":{position[0] + 1}"
            except (KeyError, IndexError, TypeError):
                line = f":{node.lc.line + 1}"
        return CatalogError(
            f"{self.source}{line}: {path}: {problem}", "fix dockerfiles/images.yaml"
        )

    def mapping(self, value: Any, path: str, parent: Any = None, key: Any = None) -> CommentedMap:
        if not isinstance(value, CommentedMap):
            raise self.fail(parent, key, path, "must be a mapping")
        return value

    def known_keys(self, node: CommentedMap, path: str, allowed: set[str]) -> None:
        for key in node:
            if key not in allowed:
                raise self.fail(
                    node, key, f"{path}.{key}", f"unknown key; expected one of {sorted(allowed)}"
                )

    def get(self, node: CommentedMap, key: str, path: str, kind: type, default: Any = ...) -> Any:
        if key not in node:
            if default is ...:
                raise self.fail(node, None, f"{path}.{key}", "is required")
            return default
        value = node[key]
        if kind is str and not isinstance(value, str):
            raise self.fail(node, key, f"{path}.{key}", f"must be a string, not {value!r}")
        if kind is bool and not isinstance(value, bool):
            raise self.fail(node, key, f"{path}.{key}", "must be true or false")
        if kind is list:
            if not isinstance(value, CommentedSeq) or not all(isinstance(v, str) for v in value):
                raise self.fail(node, key, f"{path}.{key}", "must be a list of strings")
            return tuple(value)
        return value


def parse_catalog(text: str, source: str = str(DEFAULT_PATH)) -> Catalog:
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise CatalogError(
            f"{source}: not valid YAML ({' '.join(str(exc).split())[:200]})"
        ) from exc
    reader = _Reader(source)
    root = reader.mapping(document, "(top level)")
    reader.known_keys(root, "", {"version", "registries", "images"})
    if root.get("version") != 1:
        raise reader.fail(root, "version", "version", "must be 1")
    registries = _registries(
        reader, reader.mapping(root.get("registries"), "registries", root, "registries")
    )
    images_node = root.get("images")
    if not isinstance(images_node, CommentedSeq) or not images_node:
        raise reader.fail(root, "images", "images", "must be a non-empty list")
    images = tuple(
        _image(
            reader, reader.mapping(node, f"images[{i}]", images_node, i), f"images[{i}]", registries
        )
        for i, node in enumerate(images_node)
    )
    seen: set[str] = set()
    for i, image in enumerate(images):
        if image.name in seen:
            raise reader.fail(
                images_node, i, f"images[{i}].name", f"duplicate image name {image.name!r}"
            )
        seen.add(image.name)
    for i, image in enumerate(images):
        _check_references(reader, images_node[i], f"images[{i}]", image, images)
    return Catalog(registries, images)


def _check_references(
    reader: _Reader, node: CommentedMap, path: str, image: Image, images: tuple[Image, ...]
) -> None:
    """What one image says about the others: its replacement exists and lives on; its pins
    file is no other image's Dockerfile (a line's pins move on their own)."""
    eol = image.end_of_life
    if eol is not None:
        names = {i.name: i for i in images}
        replacement = names.get(eol.replacement)
        if replacement is None or replacement.end_of_life is not None:
            raise reader.fail(
                node,
                "end_of_life",
                f"{path}.end_of_life.replacement",
                f"{eol.replacement!r} is not a catalog image that lives on",
            )
    if image.pins is not None and any(image.pins == i.dockerfile for i in images):
        raise reader.fail(
            node, "pins", f"{path}.pins", f"{image.pins} is a Dockerfile; name the line's own file"
        )


def load_catalog(path: Path = DEFAULT_PATH) -> Catalog:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            f"cannot read the catalog {path}: {exc.strerror}",
            "run from the repository root or pass --root; name no --catalog to have the images "
            "discovered from the Dockerfiles (condabot init writes the catalog)",
        ) from exc
    return parse_catalog(text, str(path))


def _registries(reader: _Reader, node: CommentedMap) -> dict[str, Registry]:
    registries = {}
    for name, value in node.items():
        path = f"registries.{name}"
        entry = reader.mapping(value, path, node, name)
        reader.known_keys(entry, path, {"kind", "host", "namespace"})
        kind = reader.get(entry, "kind", path, str)
        if kind not in REGISTRY_KINDS:
            raise reader.fail(
                entry, "kind", f"{path}.kind", f"{kind!r} is not one of {list(REGISTRY_KINDS)}"
            )
        registries[name] = Registry(
            name,
            kind,
            reader.get(entry, "host", path, str),
            reader.get(entry, "namespace", path, str, ""),
        )
    return registries


_IMAGE_KEYS = {
    "name", "product", "dockerfile", "platforms", "python", "repository", "registries",
    "tags", "build_args", "frozen", "build_by_default", "bot", "pins", "end_of_life",
}  # fmt: skip
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _image(
    reader: _Reader, node: CommentedMap, path: str, registries: dict[str, Registry]
) -> Image:
    reader.known_keys(node, path, _IMAGE_KEYS)
    name = reader.get(node, "name", path, str)
    if not _NAME.fullmatch(name):
        raise reader.fail(node, "name", f"{path}.name", f"{name!r} must match [a-z0-9][a-z0-9-]*")
    product = reader.get(node, "product", path, str)
    if product not in PRODUCTS:
        raise reader.fail(
            node,
            "product",
            f"{path}.product",
            f"{product!r} is not one of {[p.value for p in PRODUCTS]}",
        )
    platforms = reader.get(node, "platforms", path, list)
    for platform in platforms:
        if platform not in PLATFORMS:
            raise reader.fail(
                node,
                "platforms",
                f"{path}.platforms",
                f"{platform!r} is not one of {list(PLATFORMS)}",
            )
    if not platforms:
        raise reader.fail(node, "platforms", f"{path}.platforms", "must name at least one platform")
    used = reader.get(node, "registries", path, list, ())
    for registry in used:
        if registry not in registries:
            raise reader.fail(
                node,
                "registries",
                f"{path}.registries",
                f"{registry!r} is not defined under registries",
            )
    return Image(
        name=name,
        product=Product(product),
        dockerfile=reader.get(node, "dockerfile", path, str),
        platforms=tuple(PLATFORMS[p] for p in platforms),
        python=_python(reader, node, path),
        repository=reader.get(node, "repository", path, str, name),
        registries=used,
        tags=_tags(reader, node, path),
        build_args=_build_args(reader, node, path),
        frozen=reader.get(node, "frozen", path, bool, False),
        build_by_default=reader.get(node, "build_by_default", path, bool, True),
        bot=_bot(reader, node, path),
        pins=_pins(reader, node, path),
        end_of_life=_end_of_life(reader, node, path),
    )


def _pins(reader: _Reader, node: CommentedMap, path: str) -> str | None:
    value: str | None = reader.get(node, "pins", path, str, None)
    if value is not None and value == node.get("dockerfile"):
        raise reader.fail(node, "pins", f"{path}.pins", "is the image's own Dockerfile; omit it")
    if value is not None and _python(reader, node, path) == "default":
        raise reader.fail(
            node, "pins", f"{path}.pins", "a pins file holds one Python line: set python: pyXY"
        )
    return value


def _end_of_life(reader: _Reader, node: CommentedMap, path: str) -> EndOfLife | None:
    if "end_of_life" not in node:
        return None
    path = f"{path}.end_of_life"
    eol = reader.mapping(node["end_of_life"], path, node, "end_of_life")
    reader.known_keys(eol, path, {"date", "replacement"})
    raw = eol.get("date")
    date = raw.isoformat() if isinstance(raw, dt.date) else reader.get(eol, "date", path, str)
    if not _DATE.fullmatch(date):
        raise reader.fail(eol, "date", f"{path}.date", f"{date!r} must be a date like 2020-01-01")
    return EndOfLife(date, reader.get(eol, "replacement", path, str))


def _python(reader: _Reader, node: CommentedMap, path: str) -> str:
    value: str = reader.get(node, "python", path, str, "default")
    if value == "default":
        return value
    try:
        return python_flavour(value)
    except ValueError as exc:
        raise reader.fail(node, "python", f"{path}.python", f"{exc}, or 'default'") from exc


def _tags(reader: _Reader, node: CommentedMap, path: str) -> TagPolicy:
    if "tags" not in node:
        return TagPolicy()
    tags = reader.mapping(node["tags"], f"{path}.tags", node, "tags")
    reader.known_keys(tags, f"{path}.tags", {"suffix", "latest"})
    suffix = reader.get(tags, "suffix", f"{path}.tags", str, "")
    if suffix and not re.fullmatch(r"-[a-z0-9][a-z0-9.-]*", suffix):
        raise reader.fail(
            tags, "suffix", f"{path}.tags.suffix", f"{suffix!r} must look like -ubuntu"
        )
    return TagPolicy(suffix, reader.get(tags, "latest", f"{path}.tags", bool, True))


def _build_args(reader: _Reader, node: CommentedMap, path: str) -> tuple[tuple[str, str], ...]:
    if "build_args" not in node:
        return ()
    args = reader.mapping(node["build_args"], f"{path}.build_args", node, "build_args")
    pairs = []
    for key, value in args.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
            raise reader.fail(
                args, key, f"{path}.build_args.{key}", "must be an upper-case ARG name"
            )
        if not isinstance(value, str | int):
            raise reader.fail(args, key, f"{path}.build_args.{key}", "must be a string")
        pairs.append((key, str(value)))
    return tuple(pairs)


def _bot(reader: _Reader, node: CommentedMap, path: str) -> BotPolicy:
    if "bot" not in node:
        return BotPolicy()
    path = f"{path}.bot"
    bot = reader.mapping(node["bot"], path, node, "bot")
    reader.known_keys(
        bot,
        path,
        {"labels", "reviewers", "assignees", "min_release_age", "group", "ignore", "allow"},
    )
    group = reader.get(bot, "group", path, str, "image")
    if group not in ("image", "product"):
        raise reader.fail(bot, "group", f"{path}.group", "must be 'image' or 'product'")
    age_text = reader.get(bot, "min_release_age", path, str, "0s")
    age = _AGE.fullmatch(age_text)
    if not age:
        raise reader.fail(
            bot,
            "min_release_age",
            f"{path}.min_release_age",
            f"{age_text!r} must look like 3d, 12h, 30m",
        )
    allow_text = bot.get("allow")
    if allow_text is not None and not isinstance(allow_text, str):
        raise reader.fail(bot, "allow", f"{path}.allow", "must be a version range such as >=24.1.0")
    try:
        allow = VersionRange.parse(allow_text) if allow_text else None
    except ValueError as exc:
        raise reader.fail(bot, "allow", f"{path}.allow", str(exc)) from exc
    return BotPolicy(
        labels=reader.get(bot, "labels", path, list, BotPolicy.labels),
        reviewers=reader.get(bot, "reviewers", path, list, ()),
        assignees=reader.get(bot, "assignees", path, list, ()),
        min_release_age=timedelta(**{_AGE_UNITS[age[2]]: int(age[1])}),
        group=group,
        ignore=reader.get(bot, "ignore", path, list, ()),
        allow=allow,
    )
