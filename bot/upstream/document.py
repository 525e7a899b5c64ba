"""Decode a `.files.json` body into `{filename: entry}`. Pure.

One hostile value must cost one entry, not the run. Python's json would take the
last of two duplicate keys silently, raise ValueError on a 5,000-digit integer
(the int-conversion digit limit) and RecursionError on deep nesting; here each
of these becomes a `Refused` value in place of what it spoiled, which listing
validation then reports and never uses.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

MAX_DIGITS = 40  # far beyond any size or time; int() of more is refused, not attempted


@dataclass(frozen=True)
class Refused:
    """Stands where a value was that cannot be trusted, saying why."""

    reason: str


@dataclass(frozen=True)
class Duplicate(Refused):
    """A key given more than once: which value was meant is anyone's guess."""

    count: int


class DocumentError(ValueError):
    """The body is not a JSON object at all (malformed, truncated, or nested everywhere)."""


def decode_files(body: bytes) -> dict[str, Any]:
    """The listing object of `body`; raises DocumentError if there is none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 at byte {exc.start}") from exc
    try:
        document = _loads(text)
    except RecursionError:
        document = _decode_member_by_member(text)
    if not isinstance(document, dict):
        raise DocumentError(f"expected a JSON object of files, got {type(document).__name__}")
    return document


def _loads(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_object, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"malformed or truncated JSON at byte {exc.pos}") from exc


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given more than once is refused rather than overwritten."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    for key, count in Counter(key for key, _ in pairs).items():
        if count > 1:
            obj[key] = Duplicate(f"key {json.dumps(key)} appears {count} times", count)
    return obj


def _int(digits: str) -> int | Refused:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        return Refused(f"a {len(digits.lstrip('-'))}-digit number")
    return int(digits)


# Strings (with escapes) and the structural characters between them; scalars are skipped.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]', re.DOTALL)


def _decode_member_by_member(text: str) -> dict[str, Any]:
    """The slow path, for a body too deeply nested to decode at once: split the top
    object into its members without recursion and decode each on its own, so that
    only the members nested too deeply are refused."""
    if not text.lstrip().startswith("{"):
        raise DocumentError("nested too deeply outside any entry")
    members: list[tuple[str, Any]] = []
    depth, key, start, end = 0, None, 0, 0
    for token in _TOKEN.finditer(text):
        tok = token.group()
        if end:
            break
        if depth == 1 and tok[0] == '"' and key is None:
            key = _loads(tok)
        elif depth == 1 and tok == ":":
            start = token.end()
        elif depth == 1 and tok in ",}":
            if key is not None:
                members.append((key, _member_value(text[start : token.start()])))
            key, end = None, token.end() if tok == "}" else 0
        elif tok in "{[":
            depth += 1
        elif tok in "}]":
            depth -= 1
    if not end or text[end:].strip():
        raise DocumentError("malformed or truncated JSON (too deeply nested to read at once)")
    return _object(members)


def _member_value(text: str) -> Any:
    try:
        return _loads(text)
    except RecursionError:
        return Refused("nested too deeply")
