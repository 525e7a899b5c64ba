"""`condabot bump`: apply the update plan.

Modes are one mutually exclusive group: `--local` rewrites the working tree. A pull
request mode (`--repo OWNER/NAME`) joins the group and reuses `make_plan` and
`plan_edits`: each group's FileEdits, committed through the forge instead of written here.

Before any edit is computed, every installer the plan proposes is verified (`bot.verify`;
not with `--dry-run` or `--no-verify`) and the plan remade without those that failed.
`--local` writes what it may, then exits 17 (`NeedsReview`) when a change needs a human,
so that `bump --local && git commit` never takes changed installer bytes unseen.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands.init import SCHEMA_URL_ENV
from bot.commands.plan import Planned, PlanOptions, add_plan_options, make_plan
from bot.edits import FileEdit, plan_edits, write_edits
from bot.errors import CondabotError, NeedsReview, UsageError
from bot.http.origins import url_problem
from bot.planner import Kind, Plan, format_age
from bot.verify import Verifier, proposals

if TYPE_CHECKING:
    from bot.discovery import Discovery
    from bot.forge.model import GroupUpdate


DESCRIPTION = """\
Make the plan (as `condabot plan` shows it) and apply it: every arch's URL and
sha256 together, dropped arches removed from the Dockerfile and the catalog.
Prints the unified diff."""
EPILOG = """\
exit status: 0 when done; with --local, 17 when a change needs review (the files
are written; --accept-review exits 0). Errors use their own codes (2-16)."""


@dataclass(frozen=True)
class Options:
    plan: PlanOptions
    repo: str | None  # OWNER/NAME: pull requests there; None: --local
    dry_run: bool
    verify: bool
    accept_review: bool
    onboarding: bool
    base: str | None
    max_open: int
    max_new: int
    github_api_url: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        for flag, value in (("--max-open", args.max_open), ("--max-new", args.max_new)):
            if value < 0:
                raise UsageError(f"{flag} {value} is negative", "give a count of 0 or more")
        problem = url_problem(args.github_api_url)
        if problem:
            raise UsageError(
                f"--github-api-url {args.github_api_url!r} cannot be used: {problem}",
                "give the REST API root, e.g. https://api.github.com",
            )
        return cls(
            plan=PlanOptions.from_args(args),
            repo=None if args.local else args.repo,
            dry_run=args.dry_run,
            verify=not args.no_verify,
            accept_review=args.accept_review,
            onboarding=not args.no_onboarding,
            base=args.base,
            max_open=args.max_open,
            max_new=args.max_new,
            github_api_url=args.github_api_url,
        )


def add_options(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--local", action="store_true", help="rewrite the files in the working tree")
    mode.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="open or update one pull request per image group on GitHub (token: GITHUB_TOKEN)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print every action; write and download nothing"
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="propose installers without downloading each once to check its size and sha256",
    )
    parser.add_argument(
        "--accept-review",
        action="store_true",
        help="with --local: exit 0 although a change needs review (flavour change, dropped "
        "arch, changed checksum, stale hash); an installer that failed verification still "
        "exits 17",
    )
    parser.add_argument(
        "--no-onboarding",
        action="store_true",
        help="with --repo and no catalog: never open the pull request that adds the "
        "discovered catalog",
    )
    parser.add_argument("--base", help="base branch (default: the checkout's branch)")
    parser.add_argument("--max-open", type=int, default=10, help="most open bot PRs (10)")
    parser.add_argument("--max-new", type=int, default=5, help="most new PRs per run (5)")
    parser.add_argument(
        "--github-api-url",
        default=os.environ.get("GITHUB_API_URL") or "https://api.github.com",
        help="GitHub REST API root (env GITHUB_API_URL)",
    )
    add_plan_options(parser)


def run(args: argparse.Namespace) -> int:
    options = Options.from_args(args)
    token = None if options.repo is None else _token()  # before any download: fail fast
    planned, failures = _verified(options, make_plan(options.plan))
    if token is None:
        edits = _edits(planned, planned.plan)
        _tell(planned.plan)
        return _local(options, planned, edits, failures)
    _warn(planned)
    return _pull_requests(options, planned, failures, token)


def _edits(planned: Planned, plan: Plan) -> tuple[FileEdit, ...]:
    """The files `plan` changes. Without a catalog file the platforms come from the pins,
    so a dropped arch leaves the Dockerfile only: there is no catalog to edit."""
    if planned.discovered:
        plan = dataclasses.replace(
            plan, images=tuple(dataclasses.replace(i, drop_platforms=()) for i in plan.images)
        )
    return plan_edits(plan, planned.root, planned.catalog_path)


def _token() -> str:
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise UsageError(
            "GITHUB_TOKEN is not set", "export a token that may write contents, PRs and issues"
        )
    return token


def _verified(options: Options, planned: Planned) -> tuple[Planned, tuple[CondabotError, ...]]:
    """The plan without the installers that failed verification, and the download errors."""
    wanted = proposals(planned.plan)
    if not wanted or not options.verify:
        return planned, ()
    if options.dry_run:
        print(f"condabot: dry run: {len(wanted)} installer(s) not downloaded, so not verified",
              file=sys.stderr)  # fmt: skip
        return planned, ()
    upstream = options.plan.upstream
    report = Verifier.create(upstream.url, upstream.cache_dir, upstream.policy).check_all(wanted)
    if report.withheld:
        planned = planned.replan(report.withheld)
    return planned, report.errors


def _local(
    options: Options,
    planned: Planned,
    edits: tuple[FileEdit, ...],
    failures: tuple[CondabotError, ...],
) -> int:
    for edit in edits:
        sys.stdout.write(edit.diff())
    if not edits:
        print("condabot: nothing to change", file=sys.stderr)
    elif options.dry_run:
        print(f"condabot: dry run: {len(edits)} file(s) would change", file=sys.stderr)
    else:
        write_edits(edits, planned.root)
        print(f"condabot: wrote {', '.join(e.path for e in edits)}", file=sys.stderr)
    if failures:
        raise failures[0]  # its image kept its pins; every other image is written
    _require_review(planned.plan, bool(edits) and not options.dry_run, options.accept_review)
    return 0


def _require_review(plan: Plan, written: bool, accepted: bool) -> None:
    """Exit 17 when a human must look first; `--accept-review` takes what was written,
    never an installer that failed verification (that one was not written)."""
    review = [i for i in plan.images if i.needs_review]
    unverified = any(Kind.UNVERIFIED in i.flags for i in review)
    if not review or (accepted and not unverified):
        return
    what = "; ".join(
        f"{i.image} needs review ({', '.join(k.value for k in i.flags if k.needs_review)})"
        for i in review
    )
    state = "the files are written, not committed" if written else "nothing was written"
    hint = "read the notes above, then commit, or rerun with --accept-review to exit 0"
    if unverified:
        hint = (
            "an installer that failed verification is never written: ask Anaconda, or check "
            "the file yourself and rerun with --no-verify"
        )
    raise NeedsReview(f"{what}; {state}", hint)


def _tell(plan: Plan) -> None:
    """Every note a human must read, and every wait, on stderr: a diff alone hides them."""
    for image in plan.images:
        for note in image.notes:
            if note.loud:
                print(f"condabot: {image.image}: {note.text}", file=sys.stderr)
        for w in image.waiting:
            print(f"condabot: {image.image}: waiting: {w.label} is {format_age(w.age)} old "
                  f"({w.reason})", file=sys.stderr)  # fmt: skip


def _pull_requests(
    options: Options, planned: Planned, failures: tuple[CondabotError, ...], token: str
) -> int:
    # Imported here: PyGithub costs ~150 ms that `--local` and `plan` need not pay.
    from bot.forge.checkout import read_checkout, require_clean
    from bot.forge.github import GitHubForge, connect
    from bot.forge.grouping import group_key, group_plans, group_updates
    from bot.forge.model import Limits
    from bot.forge.run import run_bump

    checkout = read_checkout(planned.root, options.base)
    catalog = planned.catalog
    held = {group_key(catalog.image(i.image), catalog) for i in planned.plan.images if i.held}
    groups = {g: sub for g, sub in group_plans(planned.plan, catalog).items() if g not in held}
    # Each group's edits, computed once: what its pull request commits.
    edits = {g: [(e.path, e.after) for e in _edits(planned, sub)] for g, sub in groups.items()}
    updates = group_updates(groups, edits, catalog)
    if planned.discovery is not None and options.onboarding:
        updates.insert(0, _onboarding(planned, planned.discovery))
    require_clean(checkout, [f.path for u in updates for f in u.files])

    assert options.repo is not None  # a token is asked for only with --repo
    forge = GitHubForge(connect(token, options.github_api_url), options.repo, checkout.branch)
    result = run_bump(
        forge,
        planned.plan,
        updates,
        (checkout.head, checkout.tree),
        Limits(options.max_open, options.max_new),
        options.dry_run,
        say=print,
        catalog=planned.catalog,
        held=frozenset(held),
    )
    if result.error:
        raise result.error  # after every other group was handled and the dashboard written
    if failures:
        raise failures[0]  # a download that failed: its image kept its pins, its PR as it was
    return 0


def _onboarding(planned: Planned, found: Discovery) -> GroupUpdate:
    """The pull request adding the catalog the bot discovered, as `condabot init` writes it."""
    from bot.commands.init import check_round_trip, render_catalog
    from bot.forge.onboarding import onboarding_update

    path = planned.catalog_path.relative_to(planned.root).as_posix()
    text = render_catalog(found, os.environ.get(SCHEMA_URL_ENV) or None)
    check_round_trip(text, found, path)
    skipped = tuple(e.what for e in found.skipped)
    return onboarding_update(path, text, len(found.catalog.images), skipped)


def _warn(planned: Planned) -> None:
    """Alarming findings go to stderr too: a diff alone would hide them."""
    for image in planned.plan.images:
        if image.alarming:
            for note in image.notes:
                if note.loud:
                    print(f"condabot: {image.image}: {note.text}", file=sys.stderr)
