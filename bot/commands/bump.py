"""`condabot bump`: apply the update plan.

Modes are one mutually exclusive group: `--local` rewrites the working tree. A pull
request mode (`--repo OWNER/NAME`) joins the group and reuses `make_plan` and
`plan_edits`: the same FileEdits, committed through the forge instead of written here.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.commands.plan import Planned, add_plan_options, make_plan
from bot.errors import UsageError
from bot.planner import is_loud
from bot.writer import FileEdit, plan_edits, write_edits


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bump",
        help="apply the update plan to the Dockerfiles and the catalog",
        description="Make the plan (as `condabot plan` shows it) and apply it: every arch's "
        "URL and sha256 together, dropped arches removed from the Dockerfile and the catalog. "
        "Prints the unified diff.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--local", action="store_true", help="rewrite the files in the working tree")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    add_plan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    planned = make_plan(args)
    edits = plan_edits(planned.plan, planned.root, planned.catalog_path)
    _warn(planned)
    if args.local:
        return _local(args, planned, edits)
    raise UsageError("choose a mode", "pass --local")


def _local(args: argparse.Namespace, planned: Planned, edits: tuple[FileEdit, ...]) -> int:
    for edit in edits:
        sys.stdout.write(edit.diff())
    if not edits:
        print("condabot: nothing to change", file=sys.stderr)
        return 0
    if args.dry_run:
        print(f"condabot: dry run: {len(edits)} file(s) would change", file=sys.stderr)
        return 0
    write_edits(edits, planned.root)
    print(f"condabot: wrote {', '.join(e.path for e in edits)}", file=sys.stderr)
    return 0


def _warn(planned: Planned) -> None:
    """Alarming findings go to stderr too: a diff alone would hide them."""
    for image in planned.plan.images:
        if image.alarming:
            for note in image.notes:
                if is_loud(note):
                    print(f"condabot: {image.image}: {note}", file=sys.stderr)
