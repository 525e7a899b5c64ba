"""The image catalog, `dockerfiles/images.yaml`: the one source of truth.

The bot, the release planner and the CI matrix all read it through `load_catalog`.
Validation happens on load, first against the JSON Schema shipped beside this module
(`catalog.schema.json`, which editors use too), then for what a schema cannot say (names
that refer to other entries, Python flavours, version ranges). Every error is one line
naming the file, line and key at fault.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from bot.errors import CatalogError
from bot.platforms import PLATFORMS, Platform
from bot.upstream.model import Product
from bot.upstream.names import python_flavour
from bot.versions import VersionRange

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

DEFAULT_PATH = Path("dockerfiles/images.yaml")
SCHEMA_FILE = "catalog.schema.json"  # package data of `bot`
PRODUCTS = (Product.MINICONDA3, Product.MINICONDA2, Product.ANACONDA3)
REGISTRY_KINDS = ("dockerhub", "ecr", "ecr-public", "registry")
# Registries whose namespace is a GitHub owner, which GitHub spells in any case and the
# registry only accepts in lower case (`ContinuumIO` -> `continuumio`).
LOWER_CASE_HOSTS = frozenset({"ghcr.io"})
_AGE = re.compile(r"^(\d+)([smhd])$", re.ASCII)
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Registry:
    """A registry the catalog publishes to (Docker Hub, ECR...) and the namespace there."""

    name: str
    kind: str
    host: str
    namespace: str


@dataclass(frozen=True)
class TagPolicy:
    """How an image's tags are written: a suffix, and whether it takes `latest`."""

    suffix: str = ""
    latest: bool = True


@dataclass(frozen=True)
class BotPolicy:
    """What the bump bot may propose for an image, and how its pull requests look."""

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
    """One image of the catalog: its product, Dockerfile, platforms, Python line and tags."""

    name: str
    product: Product
    dockerfile: str  # relative to the repository root
    context: str  # the build context: a folder that holds the Dockerfile
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
    """Every image of a repository and the registries they go to (`images.yaml`)."""

    registries: dict[str, Registry]
    images: tuple[Image, ...]

    def image(self, name: str) -> Image:
        for image in self.images:
            if image.name == name:
                return image
        raise CatalogError(f"no image named {name!r} in the catalog")

    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.images)


@cache
def schema() -> dict[str, Any]:
    """The catalog's JSON Schema, shipped in the package."""
    text = schema_path().read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def schema_path() -> Path:
    """Where the installed schema file is (for editors' `$schema` comments)."""
    return Path(__file__).with_name(SCHEMA_FILE)


@cache
def _validator() -> Draft202012Validator:
    # jsonschema imports rfc3987_syntax when it is installed (check-jsonschema's format
    # extra pulls it into dev environments), and that import builds a parser for about a
    # second: every command would pay it. The catalog's schema checks no IRI format.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


_Path = tuple[str | int, ...]


class _Fail:
    """Builds one-line errors naming the file, the line and the key's path."""

    def __init__(self, source: str, document: Any) -> None:
        self.source = source
        self.document = document

    def __call__(self, path: _Path, problem: str) -> CatalogError:
        where = f"{self.source}:{self.line(path)}" if self.line(path) else self.source
        return CatalogError(
            f"{where}: {_dotted(path)}: {problem}",
            f"fix {self.source}; every key is described in the README's catalog table",
        )

    def line(self, path: _Path) -> int | None:
        """The 1-based line of the key or item at `path`, else of its nearest parent."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        node, line = self.document, None
        for key in path:
            found = _position(node, key)
            if found is None:
                break
            line, node = found[0] + 1, node[key]
        if line is None and isinstance(node, CommentedMap | CommentedSeq):
            line = node.lc.line + 1
        return line


def _position(node: Any, key: str | int) -> tuple[int, int] | None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    try:
        if isinstance(node, CommentedMap) and key in node:
            return tuple(node.lc.key(key))
        if isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            return tuple(node.lc.item(key))
    except (KeyError, IndexError, TypeError):
        return None
    return None


def _dotted(path: _Path) -> str:
    text = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")
    return text or "(top level)"


def _plain(node: Any) -> Any:
    """The YAML tree as JSON data: dates as ISO strings, keys as strings."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def _normalise(data: Any) -> None:
    """Lower-case what a registry requires in lower case (ghcr.io owners), before checking."""
    registries = data.get("registries") if isinstance(data, dict) else None
    for entry in registries.values() if isinstance(registries, dict) else ():
        host, namespace = entry.get("host"), entry.get("namespace")
        if (
            isinstance(host, str)
            and host.lower() in LOWER_CASE_HOSTS
            and isinstance(namespace, str)
        ):
            entry["namespace"] = namespace.lower()


_TYPES = {
    "string": "a string", "object": "a mapping", "array": "a list",
    "boolean": "true or false", "integer": "a whole number", "null": "null",
}  # fmt: skip


def _schema_error(error: ValidationError) -> tuple[_Path, str]:
    """A schema error as (path of the key at fault, problem), in the catalog's words."""
    path: _Path = tuple(error.absolute_path)
    keyword = str(error.validator)
    expected: Any = error.validator_value
    value: Any = error.instance
    subschema: Any = error.schema
    hint = subschema.get("x-message") if isinstance(subschema, dict) else None
    if "propertyNames" in error.absolute_schema_path:
        return (*path, str(value)), f"{value!r} {hint}" if hint else error.message
    if keyword == "additionalProperties":
        known = sorted(subschema.get("properties", {}))
        unknown = sorted(set(value) - set(known))
        return (*path, unknown[0]), f"unknown key; expected one of {known}"
    if keyword == "required":
        missing = next(k for k in expected if k not in value)
        return (*path, missing), "is required"
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        shown = "" if isinstance(value, dict | list) else f", not {value!r}"
        return path, f"must be {' or '.join(_TYPES[k] for k in kinds)}{shown}"
    if keyword == "enum":
        return path, f"{value!r} is not one of {list(expected)}"
    if keyword == "uniqueItems":
        twice = next(v for i, v in enumerate(value) if v in value[:i])
        return path, f"lists {twice!r} twice"
    if keyword == "pattern" and isinstance(value, str):
        lower = value.lower()
        if lower != value and re.search(str(expected), lower):
            return (
                path,
                f"{value!r} has upper-case letters, which registries refuse; write {lower!r}",
            )
        return path, f"{value!r} {hint}" if hint else error.message
    return path, hint or error.message


def _first_schema_error(data: Any, fail: _Fail) -> CatalogError | None:
    """The schema error that comes first in the file, if any."""
    errors = [_schema_error(e) for e in _validator().iter_errors(data)]
    if not errors:
        return None
    path, problem = min(errors, key=lambda e: (fail.line(e[0]) or 0, -len(e[0])))
    return fail(path, problem)


def load_yaml(text: str, source: str) -> Any:
    """The catalog's YAML tree, round-trip: comments and line numbers kept for errors and
    for the catalog editor (`bot.catalog_edit`), which changes the text in place."""
    # Loaded here: a run without a catalog file (discovery) never reads YAML.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise CatalogError(
            f"{source}: not valid YAML ({' '.join(str(exc).split())[:200]})",
            f"fix {source}",
        ) from exc


def parse_catalog(text: str, source: str = str(DEFAULT_PATH)) -> Catalog:
    document = load_yaml(text, source)
    fail = _Fail(source, document)
    data = _plain(document)
    if not isinstance(data, dict):
        raise fail((), "must be a mapping with version, registries and images")
    _normalise(data)
    problem = _first_schema_error(data, fail)
    if problem is not None:
        raise problem
    return _build(data, fail)


def load_catalog(path: Path = DEFAULT_PATH) -> Catalog:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path} is not UTF-8 (byte {exc.start})", "save it as UTF-8") from exc
    except OSError as exc:
        raise CatalogError(
            f"cannot read the catalog {path}: {exc.strerror}",
            "run from the repository root or pass --root; name no --catalog to have the images "
            "discovered from the Dockerfiles (condabot init writes the catalog)",
        ) from exc
    return parse_catalog(text, str(path))


def _build(data: dict[str, Any], fail: _Fail) -> Catalog:
    """The catalog from schema-valid data, after the checks a schema cannot make."""
    registries = {
        name: Registry(name, entry["kind"], entry["host"], entry.get("namespace", ""))
        for name, entry in data.get("registries", {}).items()
    }
    images = tuple(
        _image(entry, ("images", i), registries, fail) for i, entry in enumerate(data["images"])
    )
    seen: set[str] = set()
    for i, image in enumerate(images):
        if image.name in seen:
            raise fail(("images", i, "name"), f"duplicate image name {image.name!r}")
        seen.add(image.name)
    for i, image in enumerate(images):
        _check_references(("images", i), image, images, fail)
    return Catalog(registries, images)


def _check_references(path: _Path, image: Image, images: tuple[Image, ...], fail: _Fail) -> None:
    """What one image says about the others: its replacement exists and lives on; its pins
    file is no other image's Dockerfile (a line's pins move on their own)."""
    eol = image.end_of_life
    if eol is not None:
        replacement = next((i for i in images if i.name == eol.replacement), None)
        if replacement is None or replacement.end_of_life is not None:
            raise fail(
                (*path, "end_of_life", "replacement"),
                f"{eol.replacement!r} is not a catalog image that lives on",
            )
    if image.pins is not None and any(image.pins == i.dockerfile for i in images):
        raise fail((*path, "pins"), f"{image.pins} is a Dockerfile; name the line's own file")


def _image(
    entry: dict[str, Any], path: _Path, registries: Mapping[str, Registry], fail: _Fail
) -> Image:
    used = tuple(entry.get("registries", ()))
    for i, registry in enumerate(used):
        if registry not in registries:
            raise fail((*path, "registries", i), f"{registry!r} is not defined under registries")
    python = _python(entry, path, fail)
    tags = entry.get("tags", {})
    eol = entry.get("end_of_life")
    return Image(
        name=entry["name"],
        product=Product(entry["product"]),
        dockerfile=entry["dockerfile"],
        context=_context(entry, path, fail),
        platforms=tuple(PLATFORMS[p] for p in entry["platforms"]),
        python=python,
        repository=entry.get("repository", entry["name"]),
        registries=used,
        tags=TagPolicy(tags.get("suffix", ""), tags.get("latest", True)),
        build_args=tuple((k, str(v)) for k, v in entry.get("build_args", {}).items()),
        frozen=entry.get("frozen", False),
        build_by_default=entry.get("build_by_default", True),
        bot=_bot(entry.get("bot", {}), (*path, "bot"), fail),
        pins=_pins(entry, python, path, fail),
        end_of_life=EndOfLife(eol["date"], eol["replacement"]) if eol else None,
    )


def _python(entry: dict[str, Any], path: _Path, fail: _Fail) -> str:
    value: str = entry.get("python", "default")
    if value == "default":
        return value
    try:
        return python_flavour(value)
    except ValueError as exc:
        raise fail((*path, "python"), f"{exc}, or 'default'") from exc


def _pins(entry: dict[str, Any], python: str, path: _Path, fail: _Fail) -> str | None:
    value: str | None = entry.get("pins")
    if value is not None and value == entry["dockerfile"]:
        raise fail((*path, "pins"), "is the image's own Dockerfile; omit it")
    if value is not None and python == "default":
        raise fail((*path, "pins"), "a pins file holds one Python line: set python: pyXY")
    return value


def default_context(dockerfile: str) -> str:
    """The build context of a Dockerfile the catalog gives none: its own folder."""
    return posixpath.dirname(dockerfile) or "."


def _context(entry: dict[str, Any], path: _Path, fail: _Fail) -> str:
    value: str = entry.get("context") or default_context(entry["dockerfile"])
    if not PurePosixPath(entry["dockerfile"]).is_relative_to(value):
        raise fail((*path, "context"), f"{value!r} does not hold the Dockerfile; name its folder")
    return value


def _bot(entry: dict[str, Any], path: _Path, fail: _Fail) -> BotPolicy:
    age = _AGE.fullmatch(entry.get("min_release_age", "0s"))
    assert age is not None  # the schema's pattern
    allow_text = entry.get("allow")
    try:
        allow = VersionRange.parse(allow_text) if allow_text else None
    except ValueError as exc:
        raise fail((*path, "allow"), str(exc)) from exc
    return BotPolicy(
        labels=tuple(entry.get("labels", BotPolicy.labels)),
        reviewers=tuple(entry.get("reviewers", ())),
        assignees=tuple(entry.get("assignees", ())),
        min_release_age=timedelta(**{_AGE_UNITS[age[2]]: int(age[1])}),
        group=entry.get("group", "image"),
        ignore=tuple(entry.get("ignore", ())),
        allow=allow,
    )


def keys_table() -> str:
    """The README's table of every catalog key, generated from the schema (a test keeps the
    README equal to it): `python -c 'from bot.catalog import keys_table; print(keys_table())'`."""
    root = schema()
    defs = root["$defs"]
    rows = ["| key | value | default | meaning |", "|---|---|---|---|"]
    image = defs["image"]
    entries = [
        *_key_rows("", root),
        *_key_rows("registries.<name>.", defs["registry"]),
        *_key_rows("images[].", image),
        *_key_rows("images[].tags.", image["properties"]["tags"]),
        *_key_rows("images[].end_of_life.", image["properties"]["end_of_life"]),
        *_key_rows("images[].bot.", defs["bot"]),
    ]
    rows += [
        f"| `{key}` | {value} | {default} | {meaning} |" for key, value, default, meaning in entries
    ]
    return "\n".join(rows) + "\n"


def _key_rows(prefix: str, node: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    required, rows = node.get("required", []), []
    for key, spec in node["properties"].items():
        if "$ref" in spec:
            spec = schema()["$defs"][spec["$ref"].rsplit("/", 1)[-1]]
        if key in required:
            default = "required"
        elif "default" in spec:
            default = f"`{json.dumps(spec['default'])}`"
        else:
            default = spec.get("x-default", "none")
        rows.append((f"{prefix}{key}", _value_kind(spec), default, spec.get("description", "")))
    return rows


def _value_kind(spec: dict[str, Any]) -> str:
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return ", ".join(f"`{v}`" for v in spec["enum"])
    declared = spec.get("type", "object")
    kinds: list[str] = declared if isinstance(declared, list) else [declared]
    names = {"object": "mapping", "array": "list", "boolean": "true/false", "integer": "number"}
    text = " or ".join(names.get(k, k) for k in kinds)
    items = spec.get("items", {})
    if "enum" in items:
        text += " of " + ", ".join(f"`{v}`" for v in items["enum"])
    elif items.get("type"):
        text += f" of {items['type']}s"
    return text
