"""`make demo`: the whole bump loop, offline.

- the bundled upstream listings (2023 fixtures plus synthetic newer releases) are
  served on a loopback mirror;
- a GitHub stand-in is seeded with this repository's dockerfiles/ at their pins;
- `condabot plan` shows what is due, `condabot bump --repo` opens the PRs;
- the demo prints each PR and the dependency dashboard, as a reviewer sees them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bot.cli import main
from bot.forge.body import visible_part
from tests.support.bump_world import SEED, BumpWorld
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror
from tests.support.upstream_data import current_documents, publish_upstream

ROOT = Path(__file__).resolve().parents[2]


def seed_files() -> dict[str, bytes]:
    """This repository's dockerfiles/ (catalog and every Dockerfile), or a small built-in seed."""
    catalog = ROOT / "dockerfiles" / "images.yaml"
    if not catalog.is_file():
        return dict(SEED)
    files = {"README.md": b"# images (demo copy)\n"}
    for path in sorted((ROOT / "dockerfiles").rglob("*")):
        if path.is_file():
            files[str(path.relative_to(ROOT))] = path.read_bytes()
    return files


def show(world: BumpWorld) -> None:
    server, repo = world.server, world.full_name
    for pr in server.get_json(f"/repos/{repo}/pulls?state=open"):
        print(f"\n{'=' * 100}\n#{pr['number']} {pr['title']}\n"
              f"branch {pr['head']['ref']} -> {pr['base']['ref']}, "
              f"labels {[label['name'] for label in pr['labels']]}\n{'-' * 100}")  # fmt: skip
        print(visible_part(pr["body"]))
        for change in server.get_json(f"/repos/{repo}/pulls/{pr['number']}/files"):
            print(f"\n--- {change['filename']} (+{change['additions']} -{change['deletions']})")
            print(change.get("patch", ""))
    for issue in server.get_json(f"/repos/{repo}/issues?state=open"):
        if "pull_request" not in issue:
            print(
                f"\n{'=' * 100}\nissue #{issue['number']}: {issue['title']}\n{'-' * 100}\n{issue['body']}"
            )


def demo() -> int:
    os.environ.setdefault("CONDABOT_GITHUB_REQUEST_GAP", "0")
    os.environ.setdefault("CONDABOT_GITHUB_WRITE_GAP", "0")
    with (
        tempfile.TemporaryDirectory(prefix="condabot-demo-") as tmp,
        GitHubStandin(Path(tmp) / "gh") as server,
    ):
        mirror = Mirror()
        mirror.start()
        publish_upstream(mirror, current_documents())
        server.create_repo("demo", "images", seed_files())
        world = BumpWorld(server, mirror, "demo", "images", Path(tmp))
        print(
            f"# upstream mirror {mirror.url}; GitHub stand-in {server.base_url}; now = {world.now}\n"
        )
        world.refresh()
        code = main(["plan", "--catalog", str(world.clone / "dockerfiles" / "images.yaml"),
                     "--upstream-url", mirror.url, "--cache-dir", str(Path(tmp) / "cache"), "--now", world.now])  # fmt: skip
        code, out, err = world.bump()
        print(f"\n# condabot bump --repo {world.full_name}: exit {code}\n{out}{err}")
        show(world)
        mirror.stop()
    return code


if __name__ == "__main__":
    sys.exit(demo())
