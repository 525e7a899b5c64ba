"""Options and wiring that several commands share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot.errors import UsageError
from bot.http import HttpPolicy, default_cache_dir, make_session, url_problem
from bot.upstream.model import Listing
from bot.upstream.source import DEFAULT_UPSTREAM, HttpUpstream


def add_upstream_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upstream-url",
        default=os.environ.get("CONDABOT_UPSTREAM_URL") or DEFAULT_UPSTREAM,
        help="root of repo.anaconda.com or a mirror of it (env CONDABOT_UPSTREAM_URL)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where listings are cached between polls (env CONDABOT_CACHE_DIR)",
    )


def upstream_from_args(args: argparse.Namespace) -> HttpUpstream:
    """The upstream source the settings name; a bad setting is a UsageError (exit 2).

    Credentials given in the URL are kept for the mirror's origin: every session
    from `make_session` sends them there, and no printed URL carries them.
    """
    problem = url_problem(args.upstream_url)
    if problem:
        raise UsageError(
            f"--upstream-url {args.upstream_url!r} cannot be used: {problem}",
            "give the root of repo.anaconda.com or of a mirror of it, e.g. https://repo.anaconda.com",
        )
    policy = HttpPolicy.from_env()
    session = make_session(args.cache_dir or default_cache_dir(), policy)
    return HttpUpstream(args.upstream_url, session, policy.timeout)


def listing_from_args(args: argparse.Namespace) -> Listing:
    return upstream_from_args(args).listing()
