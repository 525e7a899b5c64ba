"""The catalog loader and its JSON Schema (issue 10): every error branch, by key and line.

The schema (`bot/catalog.schema.json`, package data) is what editors check the catalog
with and what the loader validates with first; the loader then checks what a schema
cannot (names that refer to other entries, Python flavours, version ranges). Each case
below breaks one thing in a valid catalog and expects the one-line error to name the
line, the key's path and the problem.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bot.catalog import load_catalog, parse_catalog, schema, schema_path
from bot.errors import CatalogError

ROOT = Path(__file__).resolve().parent.parent

VALID = """\
version: 1
registries:
  hub: {kind: dockerhub, host: docker.io, namespace: condabot}
  ghcr: {kind: registry, host: ghcr.io, namespace: ContinuumIO}
images:
  - name: miniconda3
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    python: default
    repository: miniconda3
    registries: [hub, ghcr]
    tags: {suffix: "", latest: true}
    build_args: {CONDA_PREFIX_DIR: /opt/conda, CONDA_UID: 1000}
    frozen: false
    build_by_default: true
    bot: {labels: [deps], reviewers: [bob], assignees: [], min_release_age: 3d, group: image, ignore: [], allow: ">=24.1.0"}
  - name: miniconda3-py310
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/Dockerfile
    pins: dockerfiles/miniconda3/py310.pins
    platforms: [linux/amd64]
    python: py310
  - name: miniconda2
    product: miniconda2
    dockerfile: dockerfiles/miniconda2/Dockerfile
    platforms: [linux/amd64]
    python: py27
    frozen: true
    end_of_life: {date: 2020-01-01, replacement: miniconda3}
"""


def test_the_valid_catalog_loads_with_defaults_and_ghcr_owners_lower_cased() -> None:
    catalog = parse_catalog(VALID)
    assert catalog.registries["ghcr"].namespace == "continuumio"  # GitHub owner, any case
    assert catalog.registries["hub"].namespace == "condabot"
    main, line, legacy = catalog.images
    assert main.build_args == (("CONDA_PREFIX_DIR", "/opt/conda"), ("CONDA_UID", "1000"))
    assert main.bot.min_release_age == timedelta(days=3) and main.bot.allow is not None
    assert (line.repository, line.tags.latest, line.bot.labels) == (
        "miniconda3-py310", True, ("dependencies",),
    )  # fmt: skip
    assert line.bot.min_release_age == timedelta(0) and line.bot.group == "image"
    assert legacy.end_of_life is not None and legacy.end_of_life.date == "2020-01-01"


# (keyword or check, old text, new text, line, path, message)
CASES: list[tuple[str, str, str, int, str, str]] = [
    ("yaml", "version: 1\n", "version: [1\n", 0, "", "not valid YAML"),
    ("top", VALID, "- just a list\n", 1, "(top level)", "must be a mapping with version"),
    ("additionalProperties", "version: 1\n", "version: 1\nimagez: []\n", 2, "imagez",
     "unknown key; expected one of ['images', 'registries', 'version']"),
    ("required", "version: 1\n", "", 1, "version", "is required"),
    ("const", "version: 1\n", "version: 2\n", 1, "version", "must be 1"),
    ("type", "registries:\n  hub: {kind: dockerhub, host: docker.io, namespace: condabot}\n  ghcr: {kind: registry, host: ghcr.io, namespace: ContinuumIO}\n",
     "registries: [hub]\n", 2, "registries", "must be a mapping"),
    ("propertyNames", "  hub: {kind", "  'my hub': {kind", 3, "registries.my hub",
     "'my hub' must be letters, digits, - and _"),
    ("enum", "kind: dockerhub", "kind: quay", 3, "registries.hub.kind",
     "'quay' is not one of ['dockerhub', 'ecr', 'ecr-public', 'registry']"),
    ("required", "kind: dockerhub, host: docker.io, ", "kind: dockerhub, ", 3, "registries.hub.host",
     "is required"),
    ("pattern", "host: docker.io", "host: 'docker.io/x'", 3, "registries.hub.host",
     "'docker.io/x' must be a host name with an optional port"),
    ("pattern", "namespace: condabot}", "namespace: CondaBot}", 3, "registries.hub.namespace",
     "'CondaBot' has upper-case letters, which registries refuse; write 'condabot'"),
    ("pattern", "namespace: condabot}", "namespace: conda..bot}", 3, "registries.hub.namespace",
     "'conda..bot' must be lower-case letters and digits"),
    ("type", "images:\n", "images: {}\nx:\n", 5, "images", "must be a list"),
    ("minItems", VALID[VALID.index("images:\n"):], "images: []\n", 5, "images", "must be a non-empty list"),
    ("required", "  - name: miniconda3-py310\n", "  - nam: miniconda3-py310\n", 18, "images[1].nam",
     "unknown key"),
    ("required", "    product: miniconda2\n", "", 24, "images[2].product", "is required"),
    ("pattern", "name: miniconda2", "name: Miniconda_2", 24, "images[2].name",
     "'Miniconda_2' must match [a-z0-9][a-z0-9-]*"),
    ("enum", "product: miniconda2", "product: miniforge3", 25, "images[2].product",
     "'miniforge3' is not one of ['miniconda3', 'miniconda2', 'anaconda3']"),
    ("minLength", "dockerfile: dockerfiles/miniconda2/Dockerfile", "dockerfile: ''", 26,
     "images[2].dockerfile", "must name the Dockerfile"),
    ("context", "dockerfile: dockerfiles/miniconda2/Dockerfile\n", "dockerfile: dockerfiles/miniconda2/Dockerfile\n    context: dockerfiles/miniconda3\n",
     27, "images[2].context", "'dockerfiles/miniconda3' does not hold the Dockerfile; name its folder"),
    ("minLength", "dockerfile: dockerfiles/miniconda2/Dockerfile\n", "dockerfile: dockerfiles/miniconda2/Dockerfile\n    context: ''\n",
     27, "images[2].context", "must name a folder"),
    ("minItems", "platforms: [linux/amd64]\n    python: py27", "platforms: []\n    python: py27", 27,
     "images[2].platforms", "must name at least one platform"),
    ("enum", "platforms: [linux/amd64]\n    python: py27", "platforms: [linux/amd64, linux/386]\n    python: py27",
     27, "images[2].platforms[1]", "'linux/386' is not one of"),
    ("uniqueItems", "platforms: [linux/amd64]\n    python: py27", "platforms: [linux/amd64, linux/amd64]\n    python: py27",
     27, "images[2].platforms", "lists 'linux/amd64' twice"),
    ("type", "python: py27", "python: 2.7", 28, "images[2].python", "must be a string, not 2.7"),
    ("python", "python: py27", "python: snake", 28, "images[2].python", "or 'default'"),
    ("pattern", "repository: miniconda3", "repository: MiniConda3", 11, "images[0].repository",
     "'MiniConda3' has upper-case letters, which registries refuse; write 'miniconda3'"),
    ("pattern", "repository: miniconda3", "repository: 'mini conda'", 11, "images[0].repository",
     "'mini conda' must be lower-case letters and digits"),
    ("registries", "registries: [hub, ghcr]", "registries: [hub, quay]", 12,
     "images[0].registries[1]", "'quay' is not defined under registries"),
    ("additionalProperties", "tags: {suffix", "tags: {prefix: x, suffix", 13, "images[0].tags.prefix",
     "unknown key; expected one of ['latest', 'suffix']"),
    ("pattern", 'suffix: ""', "suffix: ubuntu", 13, "images[0].tags.suffix",
     "'ubuntu' must look like -ubuntu"),
    ("type", "latest: true}", "latest: yes please}", 13, "images[0].tags.latest",
     "must be true or false, not 'yes please'"),
    ("propertyNames", "build_args: {CONDA_PREFIX_DIR", "build_args: {conda_prefix", 14,
     "images[0].build_args.conda_prefix", "must be an upper-case ARG name"),
    ("type", "CONDA_UID: 1000}", "CONDA_UID: [1000]}", 14, "images[0].build_args.CONDA_UID",
     "must be a string or a whole number"),
    ("type", "frozen: false", "frozen: no way", 15, "images[0].frozen", "must be true or false"),
    ("additionalProperties", "bot: {labels", "bot: {lables: [], labels", 17, "images[0].bot.lables",
     "unknown key"),
    ("pattern", "min_release_age: 3d", "min_release_age: 3 days", 17, "images[0].bot.min_release_age",
     "'3 days' must look like 3d, 12h, 30m"),
    ("enum", "group: image", "group: everything", 17, "images[0].bot.group",
     "'everything' is not one of ['image', 'product']"),
    ("type", "reviewers: [bob]", "reviewers: bob", 17, "images[0].bot.reviewers", "must be a list"),
    ("type", "reviewers: [bob]", "reviewers: [7]", 17, "images[0].bot.reviewers[0]", "must be a string, not 7"),
    ("type", 'allow: ">=24.1.0"', "allow: 24.1", 17, "images[0].bot.allow", "must be a string or null, not 24.1"),
    ("allow", 'allow: ">=24.1.0"', 'allow: "about 24"', 17, "images[0].bot.allow", "about 24"),
    ("duplicate", "name: miniconda3-py310", "name: miniconda2", 24, "images[2].name",
     "duplicate image name 'miniconda2'"),
    ("pins", "pins: dockerfiles/miniconda3/py310.pins", "pins: dockerfiles/miniconda3/Dockerfile", 21,
     "images[1].pins", "is the image's own Dockerfile"),
    ("pins", "python: py310", "python: default", 21, "images[1].pins", "a pins file holds one Python line"),
    ("pins", "pins: dockerfiles/miniconda3/py310.pins", "pins: dockerfiles/miniconda2/Dockerfile", 21,
     "images[1].pins", "is a Dockerfile; name the line's own file"),
    ("required", "date: 2020-01-01, ", "", 30, "images[2].end_of_life.date", "is required"),
    ("pattern", "date: 2020-01-01", "date: soon", 30, "images[2].end_of_life.date",
     "'soon' must be a date like 2020-01-01"),
    ("end_of_life", "replacement: miniconda3}", "replacement: miniconda9}", 30,
     "images[2].end_of_life.replacement", "'miniconda9' is not a catalog image that lives on"),
]  # fmt: skip


def test_the_build_context_is_the_dockerfiles_folder_unless_the_catalog_names_one() -> None:
    main, _, legacy = parse_catalog(
        VALID.replace(
            "dockerfile: dockerfiles/miniconda2/Dockerfile\n",
            "dockerfile: dockerfiles/miniconda2/Dockerfile\n    context: dockerfiles\n",
        )
    ).images
    assert main.context == "dockerfiles/miniconda3"
    assert legacy.context == "dockerfiles"


@pytest.mark.parametrize(
    ("check", "old", "new", "line", "path", "message"),
    CASES,
    ids=[f"{c[0]}:{c[4] or 'yaml'}" for c in CASES],
)
def test_each_error_names_its_line_key_and_problem(
    check: str, old: str, new: str, line: int, path: str, message: str
) -> None:
    assert old in VALID, "the case must break something that is there"
    with pytest.raises(CatalogError) as caught:
        parse_catalog(VALID.replace(old, new, 1), "images.yaml")
    text = caught.value.message
    where = f"images.yaml:{line}: {path}: " if line else "images.yaml: "
    assert text.startswith(where), text
    assert message in text
    assert "\n" not in text and "fix images.yaml" in text


def test_every_schema_keyword_has_a_failing_case() -> None:
    """A keyword added to the schema without a case here fails this test."""
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            used.update(k for k in node if k in Draft202012Validator.VALIDATORS)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema())
    used -= {"$ref", "properties", "items", "$defs"}  # structure, not checks
    assert used <= {c[0] for c in CASES}, used - {c[0] for c in CASES}


def test_the_first_error_in_the_file_is_reported() -> None:
    broken = VALID.replace("min_release_age: 3d", "min_release_age: soon").replace(
        "python: py27", "python: 2.7"
    )
    with pytest.raises(CatalogError, match=r"images.yaml:17: images\[0\].bot.min_release_age"):
        parse_catalog(broken, "images.yaml")


def test_load_catalog_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"cannot read the catalog .*: No such file"):
        load_catalog(tmp_path / "missing.yaml")
    with pytest.raises(CatalogError, match="Is a directory"):
        load_catalog(tmp_path)
    (tmp_path / "latin1.yaml").write_bytes(b"version: 1 # caf\xe9\n")
    with pytest.raises(CatalogError, match="is not UTF-8 \\(byte 16\\)"):
        load_catalog(tmp_path / "latin1.yaml")


# -- the schema as shipped and referenced -------------------------------------------------


def test_the_schema_is_valid_package_data_and_checks_this_repositorys_catalog() -> None:
    Draft202012Validator.check_schema(schema())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "catalog.schema.json" in pyproject["tool"]["setuptools"]["package-data"]["bot"]
    assert "jsonschema" in " ".join(pyproject["project"]["dependencies"])
    assert schema_path().is_file()
    catalog = ROOT / "dockerfiles" / "images.yaml"
    first = catalog.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, "the catalog names its schema for editors"
    assert (catalog.parent / match[1]).resolve() == (ROOT / "bot" / "catalog.schema.json")
    load_catalog(catalog)  # and the loader accepts it
