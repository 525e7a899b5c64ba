"""`make demo`: the main job, offline, on the embedded default upstream.

Serves the bundled listings (2023 fixtures plus synthetic newer releases) on a
loopback mirror and runs the bot against it, exactly as it would run against
repo.anaconda.com.
"""

from __future__ import annotations

import sys
import tempfile

from bot.cli import main
from tests.support.mirror import Mirror
from tests.support.upstream_data import current_documents


def demo(argv: list[str]) -> int:
    mirror = Mirror()
    mirror.start()
    mirror.publish_listings(current_documents())
    try:
        with tempfile.TemporaryDirectory(prefix="condabot-demo-") as cache:
            print(f"# upstream mirror: {mirror.url} (bundled listings)", flush=True)
            args = argv or ["upstream", "--os", "Linux", "--product", "miniconda3"]
            return main([*args, "--upstream-url", mirror.url, "--cache-dir", cache])
    finally:
        mirror.stop()


if __name__ == "__main__":
    sys.exit(demo(sys.argv[1:]))
