"""`condabot init`: write the catalog the Dockerfiles imply, every default spelled out.

The bot then works from that file exactly as it did without it: the same images, the same
policy, so the same changes are proposed before and after `init`. The maintainer edits
policy there (Python lines, minimum release age, reviewers, registries).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.catalog import Image, parse_catalog, schema_path
from bot.commands.common import Location, add_location_options, shown
from bot.discovery import Discovery, discover_tree, nothing_found
from bot.errors import CatalogError, UsageError
from bot.files import write_atomic

SCHEMA_URL_ENV = "CONDABOT_SCHEMA_URL"
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_WIDTH = 40  # the comments' column, unless a value is longer
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


DESCRIPTION = """\
Find every Dockerfile that pins Miniconda or Anaconda installers and write the
catalog they imply, each key commented, for you to edit. The bot proposes the
same changes before and after."""
EPILOG = """\
exit status: 0 when written; 2 when a catalog is already there (--force replaces
it); 3 when no Dockerfile pins an installer."""


@dataclass(frozen=True)
class Options:
    location: Location
    force: bool  # replace an existing catalog
    dry_run: bool  # print the catalog instead of writing it
    schema_url: str | None  # None: the schema of the condabot that runs


def add_options(parser: argparse.ArgumentParser) -> None:
    add_location_options(parser)
    parser.add_argument("--force", action="store_true", help="replace an existing catalog")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the catalog instead of writing it"
    )
    parser.add_argument(
        "--schema-url",
        default=os.environ.get(SCHEMA_URL_ENV) or None,
        metavar="URL",
        help=f"what the catalog's `$schema` comment names for editors (env {SCHEMA_URL_ENV}); "
        "default: the schema of the condabot that runs",
    )


def run(args: argparse.Namespace) -> int:
    options = Options(Location.from_args(args), args.force, args.dry_run, args.schema_url or None)
    location = options.location
    where = shown(location.catalog, location.root)
    if os.path.lexists(location.catalog) and not (options.force or options.dry_run):
        raise UsageError(
            f"a catalog is already at {where}",
            "edit it, or pass --force to replace it with the discovered one",
        )
    found = discover_tree(location.root)
    if not found.catalog.images:
        raise nothing_found(location.root, location.catalog, found)
    text = render_catalog(found, options.schema_url or schema_reference(location))
    check_round_trip(text, found, where)
    for problem in found.skipped:
        print(f"condabot: warning: not in the catalog: {problem.message}", file=sys.stderr)
    if options.dry_run:
        sys.stdout.write(text)
        return 0
    location.catalog.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(location.catalog, text.encode("utf-8"), CatalogError)
    print(
        f"condabot: wrote {where}: {len(found.catalog.images)} image(s); edit their policy "
        "there (README: the catalog's keys)",
        file=sys.stderr,
    )
    return 0


def schema_reference(location: Location) -> str:
    """The schema editors should read: relative when this condabot lives in the repository
    (condabot's own), else the installed file. Pass --schema-url for a link that works on
    every machine (the bump action passes the action's own copy on GitHub)."""
    installed = schema_path().resolve()
    if installed.is_relative_to(location.root):
        return Path(os.path.relpath(installed, location.catalog.parent)).as_posix()
    return installed.as_uri()


def check_round_trip(text: str, found: Discovery, source: str) -> None:
    """The written catalog must load as exactly the discovered one (else a bug: stop)."""
    loaded = parse_catalog(text, source)
    if loaded.images != found.catalog.images or loaded.registries != found.catalog.registries:
        raise CatalogError(
            "the catalog init would write does not load as the discovered one",
            "this is a bug: report it with the output of `condabot init --dry-run`",
        )


# -- rendering (pure) ---------------------------------------------------------------------

_SCHEMA_LINE = "# yaml-language-server: $schema={schema}\n"
_NO_SCHEMA = (
    "# For completion and checks in editors, add as the first line\n"
    "# `# yaml-language-server: $schema=<URL of bot/catalog.schema.json in your condabot>`.\n"
)
_HEADER = """\
# The image catalog: every image condabot bumps and a release builds and publishes.
# Written by `condabot init` from the Dockerfiles that pin Miniconda or Anaconda installers,
# with every default spelled out: edit the policy here. Paths are relative to the
# repository root; each image builds with its Dockerfile's folder as the context.
version: 1

# Where releases publish: a name, then {kind, host, namespace}. None yet; for example
#   dockerhub: {kind: dockerhub, host: docker.io, namespace: your-org}
#   ecr: {kind: ecr, host: 123456789012.dkr.ecr.us-east-1.amazonaws.com, namespace: your-org}
#   ghcr: {kind: registry, host: ghcr.io, namespace: your-github-owner}
# then list the names under an image's `registries`.
registries: {}

images:
"""


def render_catalog(found: Discovery, schema: str | None) -> str:
    """The catalog YAML for the discovered images, each key with its meaning; `schema`
    (None: unknown) is what editors are told to check it with."""
    first = _SCHEMA_LINE.format(schema=schema) if schema else _NO_SCHEMA
    parts = [first + _HEADER]
    for image in found.catalog.images:
        parts.append(_render_image(image, found))
    if found.skipped:
        parts.append(
            "\n# Not included: Dockerfiles that mention an installer whose pins cannot be read.\n"
            "# Pin each arch as ARG INSTALLER_URL_<ARCH> / ARG SHA256SUM_<ARCH>, then add them.\n"
            + "".join(f"#   {p.what}\n" for p in found.skipped)
        )
    return "".join(parts)


def _render_image(image: Image, found: Discovery) -> str:
    pins = found.pins[image.name]
    pinned = sorted({p.name.python or "" for p in pins})
    version = pins[0].version.text
    label = f"{pinned[0]}_{version}" if pinned and pinned[0] else version
    platforms = ", ".join(p.name for p in image.platforms)
    bot = image.bot
    rows = [
        ("name", _scalar(image.name), "unique; a release tag <name>-<version> releases it"),
        ("product", image.product.value, "the installers it pins"),
        ("dockerfile", _scalar(image.dockerfile), "the Dockerfile"),
        ("context", _scalar(image.context), "the build context: holds it and what it COPYs"),
        ("platforms", f"[{platforms}]", "one per arch the Dockerfile pins"),
        ("python", "default", "upstream's default flavour, a change flagged; pyXY: stay on it"),
        ("repository", _scalar(image.repository), "its name in every registry"),
        ("registries", "[]", "names from `registries` above: where a release publishes it"),
        ("tags", '{suffix: "", latest: true}', "suffix on every tag (-ubuntu); tag latest"),
        ("build_args", "{}", "build arguments, e.g. {CONDA_PREFIX_DIR: /usr/local}"),
        ("frozen", "false", "true: never bumped"),
        ("build_by_default", "true", "false: built only when a release names this image"),
        ("bot", "", "how condabot proposes updates"),
        ("  labels", _list(bot.labels), "on its pull requests"),
        ("  reviewers", _list(bot.reviewers), "logins asked to review"),
        ("  assignees", _list(bot.assignees), "logins assigned"),
        ("  min_release_age", "0s", "propose a release only once it is this old, e.g. 3d"),
        ("  group", bot.group, "image: one PR per Dockerfile; product: one per product"),
        ("  ignore", _list(bot.ignore), "versions never proposed, e.g. [26.5.3-1]"),
        ("  allow", "null", 'versions it may move to, e.g. ">=24.1.0,<27"; null: any'),
    ]  # fmt: skip
    width = max(_WIDTH, *(len(k) + len(v) + 2 for k, v, _ in rows))
    lines = [f"  # {image.dockerfile} pins {image.product.value} {label} for {platforms}\n"]
    for i, (key, value, why) in enumerate(rows):
        text = f"{key}: {value}".rstrip()
        lines.append(f"  {'- ' if i == 0 else '  '}{text:<{width}}  # {why}\n")
    return "".join(lines)


def _scalar(value: str) -> str:
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and not _numeric(value):
        return value
    return json.dumps(value)


def _numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_scalar(v) for v in values) + "]"
