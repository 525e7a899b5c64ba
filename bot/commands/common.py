"""Options and wiring that several commands share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot.http import HttpPolicy, default_cache_dir, make_session
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
    policy = HttpPolicy.from_env()
    session = make_session(args.cache_dir or default_cache_dir(), policy)
    return HttpUpstream(args.upstream_url, session, policy.timeout)


def listing_from_args(args: argparse.Namespace) -> Listing:
    return upstream_from_args(args).listing()
