"""`condabot plan`: how each image's installer pins should move, and why."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.catalog import Catalog
from bot.commands.common import (
    Location,
    Upstream,
    add_location_options,
    add_upstream_options,
    fetch_listing,
    load_source,
)
from bot.discovery import Discovery
from bot.errors import UsageError
from bot.pins import Pin
from bot.planner import ImagePlan, Kind, Plan, Withheld, check_pins, format_age, plan
from bot.upstream.model import Listing

DESCRIPTION = """\
Compare every image's Dockerfile pins with upstream and the catalog's
bot policy; print the plan. Writes nothing."""
EPILOG = """\
exit status: 0 whether or not updates exist; with --exit-code, 1 when any image
has changes to apply or a checksum problem. Errors use their own codes (2-16).
"""


@dataclass(frozen=True)
class PlanOptions:
    """What every command that makes a plan is given (plan, bump)."""

    location: Location
    upstream: Upstream
    now: datetime | None  # None: the current time
    images: tuple[str, ...]  # empty: every image

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PlanOptions:
        return cls(
            Location.from_args(args), Upstream.from_args(args), args.now, tuple(args.image or ())
        )


@dataclass(frozen=True)
class Options:
    """`condabot plan`'s options."""

    plan: PlanOptions
    json: bool
    exit_code: bool  # exit 1 when the plan has anything to apply


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable plan")
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 1 when the plan has anything to apply"
    )
    add_plan_options(parser)


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that makes a plan shares (plan, bump)."""
    add_location_options(parser)
    parser.add_argument(
        "--now",
        type=_aware_datetime,
        metavar="ISO8601",
        help="plan as of this time (UTC if no offset); default: the current time",
    )
    parser.add_argument(
        "--image",
        action="append",
        metavar="NAME",
        help="plan only this image (repeatable)",
    )
    add_upstream_options(parser)


def _aware_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Planned:
    """A plan with what it was made from, for the commands that act on it."""

    plan: Plan
    catalog: Catalog
    catalog_path: Path
    root: Path  # the repository root, holding dockerfiles/
    pins: Mapping[str, tuple[Pin, ...]]
    listing: Listing
    discovery: Discovery | None = None  # no catalog file: the images the Dockerfiles imply

    @property
    def discovered(self) -> bool:
        return self.discovery is not None

    def replan(self, withheld: Iterable[Withheld]) -> Planned:
        """The same plan, with these installers never proposed (they failed verification)."""
        names = [i.image for i in self.plan.images]
        again = plan(self.catalog, self.pins, self.listing, self.plan.now, names, withheld)
        return dataclasses.replace(self, plan=again)


def make_plan(options: PlanOptions) -> Planned:
    """Read the catalog (or discover it) and every Dockerfile first (cheap, local), then
    upstream, then plan."""
    location = options.location
    source = load_source(location)
    catalog = source.catalog
    names = list(options.images) or list(catalog.names())
    for name in names:
        if name not in catalog.names():
            where = "the discovered images" if source.discovered else str(location.catalog)
            known = ", ".join(catalog.names())
            raise UsageError(f"no image named {name!r} in {where}", f"name one of: {known}")
    pins = {name: source.pins(name) for name in names}
    check_pins(catalog, pins, names)
    now = options.now or datetime.now(UTC)
    listing = fetch_listing(options.upstream, {catalog.image(n).product for n in names})
    result = plan(catalog, pins, listing, now, names)
    return Planned(
        result, catalog, location.catalog, location.root, pins, listing, source.discovery
    )


def run(args: argparse.Namespace) -> int:
    options = Options(PlanOptions.from_args(args), args.json, args.exit_code)
    planned = make_plan(options.plan)
    if options.json:
        json.dump(planned.plan.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(planned.plan))
    return 1 if options.exit_code and planned.plan.needs_attention() else 0


def render(plan: Plan) -> str:
    """The plan as a table, then one line per note (alarming ones marked `!!`)."""
    rows: list[tuple[str, ...]] = [("IMAGE", "ARCH", "FROM", "TO", "KIND", "AGE")]
    for image in plan.images:
        rows += _rows(image)
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    text = "".join(
        "  ".join(f"{v:<{w}}" for v, w in zip(row, widths, strict=True)).rstrip() + "\n"
        for row in rows
    )
    notes = [line for image in plan.images for line in _notes(image)]
    return text + ("\nnotes:\n" + "".join(notes) if notes else "")


def _rows(image: ImagePlan) -> list[tuple[str, ...]]:
    current = image.from_label
    if image.changes:
        age = format_age(image.age) if image.age is not None else "-"
        return [
            (
                image.image,
                c.arch,
                c.from_label,
                c.to_label,
                _row_kind(image, c.removes),
                age,
            )
            for c in image.changes
        ]
    if image.waiting and image.kind is Kind.WAITING:
        newest = image.waiting[0]
        return [
            (image.image, "all", current, newest.label, image.kind.value, format_age(newest.age))
        ]
    return [(image.image, "all", current, "-", image.kind.value, "-")]


def _row_kind(image: ImagePlan, removes: bool) -> str:
    """A removed arch reads drop-arch; the other arches show what else moves them."""
    if removes:
        return Kind.DROP_ARCH.value
    return next((k.value for k in image.flags if k is not Kind.DROP_ARCH), image.kind.value)


def _notes(image: ImagePlan) -> list[str]:
    lines = [f"  {'!! ' if n.loud else ''}{image.image}: {n.text}\n" for n in image.notes]
    for w in image.waiting:
        lines.append(
            f"  {image.image}: waiting: {w.label} is {format_age(w.age)} old ({w.reason})\n"
        )
    return lines
