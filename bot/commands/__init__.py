"""One module per `condabot` subcommand, each with `DESCRIPTION`, `EPILOG`,
`add_options(parser)` and `run(args)`: `run` turns the parsed arguments into its typed
options first, so nothing past it sees an `argparse.Namespace`.

A command's module is imported only when that command runs (`bot.cli`): `--version`,
`--help` and every other command never pay for its imports.
"""

from __future__ import annotations

import importlib
from types import ModuleType

COMMANDS: dict[str, str] = {  # each command, with the line `condabot --help` shows for it
    "upstream": "list the newest upstream installers",
    "plan": "show how each image's installer pins should move",
    "bump": "apply the update plan to the Dockerfiles and the catalog",
    "init": "write the catalog discovered from the Dockerfiles, every default spelled out",
    "doctor": "check the catalog, the pins, the names and the credentials (names only)",
    "release": "plan, build, publish and verify the images of a GitHub release",
}


def load(name: str) -> ModuleType:
    return importlib.import_module(f"bot.commands.{name}")
