"""One module per `condabot` subcommand, each with `add_parser(subparsers)` and `run(args)`."""

from __future__ import annotations

from types import ModuleType

from bot.commands import bump, doctor, init, plan, release
from bot.commands import upstream as upstream

COMMANDS: tuple[ModuleType, ...] = (upstream, plan, bump, init, doctor, release)
