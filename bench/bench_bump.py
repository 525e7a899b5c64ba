"""PR figures (issue #5), counted at the GitHub stand-in.

- a quiet run with nothing to change: at most 3 API requests;
- opening one new PR: at most 8;
- updating one PR to a newer version: at most 6.
The dashboard's own write, when its text changes, is reported separately.

Then the model-based lifecycle test (tests/test_bump_model.py) at benchmark size: at least
500 bot runs among random releases, merges, closes, base moves, rebase requests and human
pushes racing each request of a regenerate; every invariant (no human commit lost, never two
open PRs, no declined version re-proposed) is checked after every step.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

from github import Auth, Github

from tests.support.bump_world import make_world
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror
from tests.support.upstream_data import (
    add_miniconda_release,
    current_documents,
    publish_upstream,
)

for key, value in {"CONDABOT_GITHUB_REQUEST_GAP": "0", "CONDABOT_GITHUB_WRITE_GAP": "0"}.items():
    os.environ.setdefault(key, value)


def publish_release(mirror: Mirror, version: str, date: str) -> None:
    documents = current_documents()
    add_miniconda_release(documents, version, date, ("py314",))
    publish_upstream(mirror, documents)


def measure(server: GitHubStandin, label: str, target: int, run: object) -> None:
    server.reset_log()
    code, _, err = run()  # type: ignore[operator]
    assert code == 0, err
    records = server.requests()
    dashboard = [r for r in records if r.method != "GET" and "/issues" in r.path and "/pulls" not in r.path
                 and r.path.rstrip("/").split("/")[-1] in ("issues", str(dashboard_number(server)))]  # fmt: skip
    pr = len(records) - len(dashboard)
    verdict = "ok" if pr <= target else "OVER TARGET"
    print(
        f"{label:<34} {pr:>2} requests (target <= {target}: {verdict}); dashboard writes: {len(dashboard)}"
    )
    print("    " + ", ".join(f"{r.method} {r.path.split('/images', 1)[-1]}" for r in records))


def dashboard_number(server: GitHubStandin) -> int | None:
    for issue in server.get_json("/repos/acme/images/issues?state=all"):
        if "pull_request" not in issue:
            return int(issue["number"])
    return None


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, GitHubStandin(Path(tmp) / "gh") as server:
        mirror = Mirror()
        mirror.start()
        publish_upstream(mirror, current_documents())
        world = make_world(server, mirror, Path(tmp), "images")
        maintainer = Github(
            base_url=server.base_url, auth=Auth.Token("maintainer-token"), retry=None
        )
        repo = maintainer.get_repo(world.full_name)

        world.bump()  # first run: opens the PR and creates the dashboard
        repo.get_pull(1).merge()
        world.bump()  # the dashboard catches up with the merge
        measure(server, "quiet run, nothing to change", 3, world.bump)
        publish_release(mirror, "26.6.0-0", "2026-10-20")
        measure(server, "opening one new PR", 8, world.bump)
        publish_release(mirror, "26.7.0-0", "2026-10-25")
        measure(server, "updating one PR to a newer version", 6, world.bump)
        measure(server, "quiet run with one PR open", 3, world.bump)
        model(server, mirror, Path(tmp) / "model")
        mirror.stop()


def model(server: GitHubStandin, mirror: Mirror, work: Path) -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.test_bump_model import Lifecycle

    work.mkdir()
    Lifecycle.server, Lifecycle.mirror, Lifecycle.workdir = server, mirror, work
    Lifecycle.steps, Lifecycle.races = 0, Counter()
    examples = int(os.environ.get("BENCH_MODEL_EXAMPLES") or 90)
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )  # raises on the first lost commit, duplicate PR or re-proposed decline
    raced = ", ".join(f"{step} {n}" for step, n in sorted(Lifecycle.races.items()))
    print(
        f"model-based lifecycle: {Lifecycle.steps} bot runs (target >= 500); human pushes "
        f"racing a run, by the request they preceded: {raced}; lost commits: 0, duplicate PRs: 0"
    )


if __name__ == "__main__":
    main()
