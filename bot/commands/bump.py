"""`condabot bump`: apply the update plan.

Modes are one mutually exclusive group: `--local` rewrites the working tree. A pull
request mode (`--repo OWNER/NAME`) joins the group and reuses `make_plan` and
`plan_edits`: the same FileEdits, committed through the forge instead of written here.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bot.commands.plan import Planned, add_plan_options, make_plan
from bot.errors import UsageError
from bot.planner import Plan, is_loud
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
    mode.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="open or update one pull request per image group on GitHub (token: GITHUB_TOKEN)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print every action, write nothing")
    parser.add_argument("--base", help="base branch (default: the checkout's branch)")
    parser.add_argument("--max-open", type=int, default=10, help="most open bot PRs (10)")
    parser.add_argument("--max-new", type=int, default=5, help="most new PRs per run (5)")
    parser.add_argument(
        "--github-api-url",
        default=os.environ.get("GITHUB_API_URL") or "https://api.github.com",
        help="GitHub REST API root (env GITHUB_API_URL)",
    )
    add_plan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    planned = make_plan(args)
    edits = plan_edits(planned.plan, planned.root, planned.catalog_path)
    _warn(planned)
    if args.local:
        return _local(args, planned, edits)
    return _pull_requests(args, planned)


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


def _pull_requests(args: argparse.Namespace, planned: Planned) -> int:
    # Imported here: PyGithub costs ~150 ms that `--local` and `plan` need not pay.
    from bot.forge.checkout import read_checkout, require_clean
    from bot.forge.github import GitHubForge, connect
    from bot.forge.grouping import group_updates
    from bot.forge.model import Limits
    from bot.forge.run import run_bump

    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise UsageError(
            "GITHUB_TOKEN is not set", "export a token that may write contents, PRs and issues"
        )
    checkout = read_checkout(planned.root, args.base)

    def edits_for(sub: Plan) -> list[tuple[str, str]]:
        return [(e.path, e.after) for e in plan_edits(sub, planned.root, planned.catalog_path)]

    updates = group_updates(planned.plan, planned.catalog, edits_for)
    require_clean(checkout, [f.path for u in updates for f in u.files])
    forge = GitHubForge(connect(token, args.github_api_url), args.repo, checkout.branch)
    result = run_bump(
        forge,
        planned.plan,
        updates,
        (checkout.head, checkout.tree),
        Limits(args.max_open, args.max_new),
        args.dry_run,
        say=print,
        catalog=planned.catalog,
    )
    if result.error:
        raise result.error  # after every other group was handled and the dashboard written
    return 0


def _warn(planned: Planned) -> None:
    """Alarming findings go to stderr too: a diff alone would hide them."""
    for image in planned.plan.images:
        if image.alarming:
            for note in image.notes:
                if is_loud(note):
                    print(f"condabot: {image.image}: {note}", file=sys.stderr)
