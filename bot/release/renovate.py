"""The Renovate preset downstream users extend, built from the catalog. Pure.

Renovate's default Docker versioning reads everything after the first hyphen as a
compatibility suffix, so `26.5.3-1-ubuntu` and `py314_26.5.3-1` are not versions to it.
The preset gives the catalog's repositories a `regex:` versioning that reads the release
tags `bot.release.tags` makes (`[pyXY_]<version>-<build><suffix>`): the Python line is the
`compatibility` group, which Renovate never changes, and each variant suffix gets its own
rule whose pattern only its own tags match, so no update crosses a line or a variant.
Floating tags (`py312`, `26.5`, `latest`, `ubuntu`) match no pattern and are left alone.

`python -m bot.release.renovate` prints it; `renovate/images.json` is that output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from bot.catalog import Catalog, Image, load_catalog

PRESET_PATH = "renovate/images.json"
# A JavaScript regex (Renovate's): named groups are `(?<name>...)`.
_VERSION = r"^(?:(?<compatibility>py\d+)_)?(?<major>\d+)\.(?<minor>\d+)(?:\.(?<patch>\d+))?"
_BUILD = r"-(?<build>\d+)"


def versioning(suffix: str) -> str:
    """`regex:` versioning for the immutable tags of one variant suffix (`""`, `-ubuntu`)."""
    return f"regex:{_VERSION}{_BUILD}{_literal(suffix)}$"


def _literal(suffix: str) -> str:
    """A catalog suffix (`-[a-z0-9][a-z0-9.-]*`) as regex text: only `.` needs escaping."""
    return suffix.replace(".", r"\.")


def package_pattern(catalog: Catalog, images: Iterable[Image]) -> str:
    """Renovate `/regex/` matching these images' repositories under the catalog's
    namespaces, written with or without a registry host (`condabot/miniconda3`,
    `docker.io/condabot/miniconda3`, `<account>.dkr.ecr...amazonaws.com/condabot/...`)."""
    repositories = sorted({image.repository for image in images})
    namespaces = sorted(
        {catalog.registries[r].namespace for image in images for r in image.registries}
    )
    prefix = f"(?:{'|'.join(n for n in namespaces if n)})/" if any(namespaces) else ""
    return f"/(?:^|/){prefix}(?:{'|'.join(repositories)})$/"


def preset(catalog: Catalog) -> dict[str, Any]:
    published = [image for image in catalog.images if image.registries]
    suffixes = sorted({image.tags.suffix for image in published} - {""})
    rules = [
        {
            "description": "condabot images: [pyXY_]<version>-<build> tags; the Python line "
            "(pyXY_) never changes, and tags with a variant suffix are left to the rules below.",
            "matchDatasources": ["docker"],
            "matchPackageNames": [package_pattern(catalog, published)],
            "versioning": versioning(""),
        }
    ]
    for suffix in suffixes:
        variants = [image for image in published if image.tags.suffix == suffix]
        rules.append(
            {
                "description": f"condabot images, variant {suffix}: only {suffix} tags.",
                "matchDatasources": ["docker"],
                "matchPackageNames": [package_pattern(catalog, variants)],
                "matchCurrentValue": f"/{_literal(suffix)}$/",
                "versioning": versioning(suffix),
            }
        )
    return {
        "$schema": "https://docs.renovatebot.com/renovate-schema.json",
        "description": "Renovate preset for condabot's Miniconda/Anaconda images: updates "
        "FROM <namespace>/<image>:<tag> within its Python line and variant. Generated from "
        "dockerfiles/images.yaml by `python -m bot.release.renovate`.",
        "packageRules": rules,
    }


def render(catalog: Catalog) -> str:
    return json.dumps(preset(catalog), indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(load_catalog()))
