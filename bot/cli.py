"""`condabot` entry point: parse arguments, run one command, map errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.commands import COMMANDS, load
from bot.errors import CondabotError, UsageError
from bot.secrets import RedactingFilter, redact


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command is listed; only `command` gets its options, so only its module loads."""
    parser = argparse.ArgumentParser(
        prog="condabot",
        description="Keep Miniconda and Anaconda Docker images current and published.",
    )
    parser.add_argument("--version", action="version", version=f"condabot {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        if name != command:
            subparsers.add_parser(name, help=help_text)
            continue
        module = load(name)
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=module.DESCRIPTION,
            epilog=module.EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_options(sub)
        sub.set_defaults(func=module.run)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command named: the first argument that is not an option (condabot's own
    options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _configure_logging(verbosity: int) -> None:
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("condabot: %(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _verbosity(flags: int) -> int:
    """-v flags, else CONDABOT_VERBOSE (0, 1 or 2)."""
    raw = os.environ.get("CONDABOT_VERBOSE", "").strip()
    if raw and not raw.isdigit():
        raise UsageError(
            f"CONDABOT_VERBOSE={raw!r} is not a verbosity", "set it to 0, 1 (info) or 2 (debug)"
        )
    return flags or int(raw or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(_command(argv)).parse_args(argv)
    try:
        _configure_logging(_verbosity(args.verbose))
        code: int = args.func(args)
    except CondabotError as exc:
        print(f"condabot: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("condabot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line, keep the traceback for -vv
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        print(
            f"condabot: internal error: {redact(repr(exc))[:300]}; rerun with -vv and report it",
            file=sys.stderr,
        )
        return 70
    return code
