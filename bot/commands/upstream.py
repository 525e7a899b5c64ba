"""`condabot upstream`: the newest installers upstream publishes."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.commands.common import Upstream, add_upstream_options, fetch_listing
from bot.errors import UsageError
from bot.upstream.model import Product
from bot.upstream.names import python_flavour
from bot.upstream.report import Filters, Newest, newest_installers

DESCRIPTION = "The newest installer of each product, Python flavour, OS and arch upstream lists."
EPILOG = ""


@dataclass(frozen=True)
class Options:
    filters: Filters
    json: bool
    upstream: Upstream

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        try:
            python = python_flavour(args.python) if args.python else None
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        product = Product(args.product) if args.product else None
        filters = Filters(product, python, args.os, args.arch)
        return cls(filters, args.json, Upstream.from_args(args))


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--product", choices=[p.value for p in Product])
    parser.add_argument("--python", help="flavour, e.g. 3.12 or py312")
    parser.add_argument("--os", choices=["Linux", "MacOSX", "Windows"])
    parser.add_argument("--arch", help="e.g. x86_64, aarch64")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_upstream_options(parser)


def run(args: argparse.Namespace) -> int:
    options = Options.from_args(args)
    listing = fetch_listing(options.upstream)
    rows = newest_installers(listing, options.filters)
    if options.json:
        json.dump([_as_json(r) for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(rows))
        if listing.invalid:
            sys.stdout.write(f"\n{len(listing.invalid)} invalid entries ignored (see -v)\n")
    return 0


def _as_json(row: Newest) -> dict[str, Any]:
    i = row.installer
    return {
        "product": i.product.value,
        "python": i.python,
        "version": i.version.text,
        "os": i.os,
        "arch": i.arch,
        "filename": i.filename,
        "url": i.url,
        "sha256": i.sha256,
        "size": i.size,
        "mtime": i.mtime,
        "latest": row.is_latest_flavour,
        "ended_at": row.ended_at.text if row.ended_at else None,
    }


def render_table(rows: list[Newest]) -> str:
    header = ("PRODUCT", "PYTHON", "VERSION", "OS", "ARCH", "FILE", "DATE", "SHA256", "NOTE")
    lines = [header]
    for row in rows:
        i = row.installer
        note = "latest" if row.is_latest_flavour else ""
        if row.ended_at:
            note = f"{note} arch ended at {row.ended_at}".strip()
        date = datetime.fromtimestamp(i.mtime, UTC).strftime("%Y-%m-%d")
        lines.append(
            (
                i.product.value,
                i.python or "-",
                i.version.text,
                i.os,
                i.arch,
                i.name.ext,
                date,
                i.sha256[:12],
                note,
            )
        )
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    return "".join(
        "  ".join(f"{v:<{w}}" for v, w in zip(line, widths, strict=True)).rstrip() + "\n"
        for line in lines
    )
