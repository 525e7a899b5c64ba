"""Remove platforms from the catalog's YAML, keeping every other byte (comments, order,
quoting, flow or block style). Pure: the result is parsed again and checked."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.catalog import load_yaml
from bot.errors import CatalogError


def drop_platforms(text: str, drops: Mapping[str, Sequence[str]], path: str = "images.yaml") -> str:
    """The catalog with each image's listed platforms removed; every other byte kept."""
    if not any(drops.values()):
        return text
    images = _catalog_images(text, path)
    # Split on YAML's line breaks only, so indices match ruamel's line numbers.
    lines = re.split(r"(?<=\n)|(?<=\r)(?!\n)", text)
    for image, platforms in drops.items():
        node = images.get(image)
        if node is None:
            raise CatalogError(f"{path}: no image named {image!r}", "re-plan")
        _drop_from(lines, node, image, platforms, path)
    result = "".join(lines)
    _verify_catalog(text, result, drops, path)
    return result


def _catalog_images(text: str, path: str) -> dict[str, CommentedMap]:
    document = load_yaml(text, path)
    images = document.get("images") if isinstance(document, CommentedMap) else None
    if not isinstance(images, CommentedSeq):
        raise CatalogError(f"{path}: no images list", "fix it, then re-plan")
    return {n["name"]: n for n in images if isinstance(n, CommentedMap) and "name" in n}


def _drop_from(
    lines: list[str], node: CommentedMap, image: str, platforms: Sequence[str], path: str
) -> None:
    seq = node.get("platforms")
    if not isinstance(seq, CommentedSeq):
        raise CatalogError(f"{path}: image {image!r} has no platforms list", "re-plan")
    if not set(seq) - set(platforms):
        raise CatalogError(
            f"{path}: dropping {', '.join(platforms)} would leave image {image!r} no platform",
            "retire the image by hand",
        )
    # Bottom-up, so earlier line numbers stay valid.
    for index in sorted((i for i, p in enumerate(seq) if p in platforms), reverse=True):
        line = seq.lc.item(index)[0]
        if seq.fa.flow_style():
            lines[line] = _without_flow_item(lines[line], seq[index], image, path)
        else:
            lines[line] = ""


def _without_flow_item(line: str, value: str, image: str, path: str) -> str:
    item = rf"""(?P<q>["']?){re.escape(value)}(?P=q)"""
    for pattern in (rf",[ \t]*{item}(?=[ \t]*[\],])", rf"{item}[ \t]*,[ \t]*"):
        new, count = re.subn(pattern, "", line, count=1)
        if count:
            return new
    raise CatalogError(
        f"{path}: cannot find {value} in image {image!r}'s platforms line",
        f"remove {value} from it by hand",
    )


def _verify_catalog(before: str, after: str, drops: Mapping[str, Sequence[str]], path: str) -> None:
    old, new = _catalog_images(before, path), _catalog_images(after, path)
    for name, node in old.items():
        expected = [p for p in node["platforms"] if p not in drops.get(name, ())]
        if list(new[name]["platforms"]) != expected:
            raise CatalogError(
                f"{path}: removing platforms from image {name!r} went wrong",
                "remove them by hand; this is a bug, report it with the catalog",
            )
