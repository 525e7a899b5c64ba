"""The bot's promises to maintainers, attacked: no human commit is ever lost, nothing changes
silently, the dashboard tells the truth, and runs that overlap or are told to wait converge.

Real parts as in test_bump_github: the GitHub stand-in over real git repositories (ref moves
go through its GraphQL endpoint, validated against GitHub's published schema), a real clone
per run, the loopback upstream mirror. Races are made deterministic with the stand-in's
`before()` hook: a human's push lands right before a chosen request of the bot is served.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from typing import Any

import pytest

from tests.support.bump_world import CATALOG, DOCKERFILE, BumpWorld
from tests.support.upstream_data import (
    add_miniconda_release,
    current_documents,
    publish_upstream,
    replace_upstream_bytes,
)
from tests.test_bump_github import as_human, comments, pulls, release

BRANCH = "condabot/miniconda3"
DOCKERFILE_PATH = "dockerfiles/miniconda3/debian/Dockerfile"


def reachable(world: BumpWorld, sha: str) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(world.bare_path()), "for-each-ref", "--contains", sha,
         "--format=%(refname)"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.split()


def head(world: BumpWorld, branch: str = BRANCH) -> str | None:
    return world.server.ref_sha("acme", world.name, f"heads/{branch}")


def dashboard(world: BumpWorld, state: str = "open") -> list[dict[str, Any]]:
    return [
        i
        for i in world.server.get_json(f"/repos/{world.full_name}/issues?state={state}")
        if "pull_request" not in i
    ]


# -- a human's commit is never lost ----------------------------------------------------
REGENERATE_STEPS = {
    "tree": ("POST", r"/git/trees$", None),
    "commit": ("POST", r"/git/commits$", None),
    "ref swap": ("POST", r"^/graphql$", "updateRefs"),
}


@pytest.mark.parametrize("step", list(REGENERATE_STEPS))
def test_a_push_racing_any_step_of_a_regenerate_is_never_lost(world: BumpWorld, step: str) -> None:
    assert world.bump()[0] == 0
    (pr,) = pulls(world)
    release(world.mirror, "26.6.0-0", "2026-10-20")
    pushed: list[str] = []

    def human_pushes() -> None:
        pushed.append(
            world.server.push_commit("acme", world.name, BRANCH, {"mine.md": b"x\n"}, "alice", "m")
        )

    method, path, contains = REGENERATE_STEPS[step]
    hook = world.server.before(method, path, human_pushes, contains=contains)
    code, _, err = world.bump()
    assert hook.fired, f"the bot never made the {step} request"
    assert code == 0, err
    (human,) = pushed
    assert reachable(world, human), "the human's commit is referenced by nothing"
    assert head(world) == human  # the swap lost, the bot decided again: it leaves the branch
    assert any("stopped updating" in c for c in comments(world, pr["number"]))


def test_an_amended_commit_on_a_closed_prs_branch_is_kept(world: BumpWorld) -> None:
    assert world.bump()[0] == 0
    (pr,) = pulls(world)
    as_human(world).get_pull(pr["number"]).edit(state="closed")
    # `git commit --amend` keeps the bot's trailer: the message alone proves nothing.
    amended = world.server.push_commit(
        "acme", world.name, BRANCH, {"mine.md": b"x\n"}, "alice",
        "chore(deps): update miniconda3\n\nCondabot-Group: miniconda3\n",
    )  # fmt: skip
    release(world.mirror, "26.6.0-0", "2026-10-20")
    code, _, err = world.bump()
    assert code == 0, err
    assert reachable(world, amended) == [f"refs/condabot-backup/miniconda3/{amended}"]
    assert head(world) != amended
    assert [p["state"] for p in pulls(world)].count("open") == 1


def test_the_bots_own_leftover_branch_is_adopted_without_a_backup(world: BumpWorld) -> None:
    world.server.inject("POST", r"/pulls$", 500, times=50)  # dies after creating the branch
    assert world.bump()[0] == 8
    left = head(world)
    assert left is not None
    world.server.clear_faults()
    assert world.bump()[0] == 0
    refs = subprocess.run(
        ["git", "-C", str(world.bare_path()), "for-each-ref", "refs/condabot-backup/"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert refs == ""  # its content is exactly what the bot writes: nothing to keep
    assert len(pulls(world)) == 1


def test_a_push_before_the_bot_deletes_an_obsolete_branch_is_kept(world: BumpWorld) -> None:
    assert world.bump()[0] == 0
    # The base gets the update by hand: the PR is no longer needed and the bot deletes its
    # branch, but a human pushes to that branch right before.
    bot_dockerfile = world.server.read_file("acme", world.name, BRANCH, DOCKERFILE_PATH)
    world.server.push_commit(
        "acme", world.name, "main", {DOCKERFILE_PATH: bot_dockerfile}, "bob", "x"
    )
    pushed: list[str] = []
    world.server.before(
        "POST", r"^/graphql$",
        lambda: pushed.append(world.server.push_commit(
            "acme", world.name, BRANCH, {"mine.md": b"x\n"}, "alice", "m")),
        contains="updateRefs",
    )  # fmt: skip
    code, _, err = world.bump()
    assert code == 0, err
    assert pulls(world)[0]["state"] == "closed"
    assert head(world) == pushed[0]


# -- never silent ------------------------------------------------------------------------
def test_a_checksum_changed_under_an_open_pr_is_said_loudly(world: BumpWorld) -> None:
    documents = current_documents()
    add_miniconda_release(documents, "26.6.0-0", "2026-10-20", ("py313", "py314"))
    publish_upstream(world.mirror, documents)
    assert world.bump()[0] == 0
    (pr,) = pulls(world)
    assert "checksum" not in pr["title"]
    name = "Miniconda3-py314_26.6.0-0-Linux-x86_64.sh"
    new_sha = hashlib.sha256(replace_upstream_bytes(documents, name)).hexdigest()
    publish_upstream(world.mirror, documents)
    code, out, err = world.bump()
    assert code == 0, err
    assert "checksum changed upstream" in out
    (pr,) = pulls(world)
    assert pr["title"].endswith("[checksum changed upstream]")
    assert "Checksum changed upstream while this PR was open" in pr["body"]
    assert name in pr["body"] and new_sha[:16] in pr["body"]
    (issue,) = dashboard(world)
    assert f"CHECKSUM CHANGED UPSTREAM under #{pr['number']}: {name}" in issue["body"]
    # The next run must not bury it.
    assert world.bump()[0] == 0
    (again,) = pulls(world)
    assert again["title"] == pr["title"] and again["body"] == pr["body"]
    assert "CHECKSUM CHANGED UPSTREAM" in dashboard(world)[0]["body"]


# -- the dashboard tells the truth -------------------------------------------------------
UBUNTU = DOCKERFILE.replace("debian:trixie-slim", "ubuntu:26.04")
TWO_IMAGES = (
    CATALOG
    + """\
  - name: miniconda3-ubuntu
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/ubuntu/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    python: default
    registries: [dockerhub]
    bot: {ignore: ["26.5.2-0"]}
"""
)


def two_image_world(world: BumpWorld) -> None:
    world.server.push_commit(
        "acme", world.name, "main",
        {"dockerfiles/images.yaml": TWO_IMAGES.encode(),
         "dockerfiles/miniconda3/ubuntu/Dockerfile": UBUNTU.encode()},
        "bob", "a second image",
    )  # fmt: skip


def rows(world: BumpWorld) -> dict[str, str]:
    (issue,) = dashboard(world)
    found = {}
    for line in issue["body"].splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            found[cells[0].strip("`")] = cells[3]
    return found


def test_each_dashboard_row_names_its_own_pr_and_state(world: BumpWorld) -> None:
    two_image_world(world)
    assert world.bump("--max-new", "1")[0] == 0
    (first,) = pulls(world)
    assert rows(world) == {
        "miniconda3": f"#{first['number']}",
        "miniconda3-ubuntu": "held back: open-PR limit (`--max-open`/`--max-new`)",
    }
    assert world.bump()[0] == 0
    numbers = {p["head"]["ref"]: p["number"] for p in pulls(world)}
    ours, theirs = numbers[BRANCH], numbers["condabot/miniconda3-ubuntu"]
    as_human(world).get_pull(theirs).edit(state="closed")
    for _ in range(2):  # the run that acknowledges the close, then a quiet one
        assert world.bump()[0] == 0
        assert rows(world) == {
            "miniconda3": f"#{ours}",
            "miniconda3-ubuntu": f"ignored (#{theirs} closed)",
        }
    world.server.push_commit("acme", world.name, BRANCH, {"mine.md": b"x\n"}, "alice", "m")
    release(world.mirror, "26.6.0-0", "2026-10-20")
    for _ in range(2):
        assert world.bump()[0] == 0
    newer = max(p["number"] for p in pulls(world))
    assert rows(world) == {
        "miniconda3": f"#{ours} (not updated: someone else pushed)",
        "miniconda3-ubuntu": f"#{newer}",
    }
    body = dashboard(world)[0]["body"]
    assert "- `miniconda3-ubuntu` 26.5.2-0: `bot.ignore` in the catalog" in body
    assert f"`miniconda3` (#{ours}): someone else pushed" in body


def test_a_dropped_arch_needs_attention_on_the_dashboard(world: BumpWorld) -> None:
    documents = current_documents()
    add_miniconda_release(documents, "26.6.0-0", "2026-10-01", ("py314",), arches=("x86_64",))
    publish_upstream(world.mirror, documents)
    assert world.bump()[0] == 0
    body = dashboard(world)[0]["body"]
    assert "- `miniconda3`: ARCH DROPPED: aarch64: no installer for 26.6.0-0" in body
    assert body.count("aarch64: no installer") == 1  # said once


# -- runs that overlap or are told to wait ---------------------------------------------
def test_two_runs_at_once_converge_on_one_dashboard(world: BumpWorld) -> None:
    # The second run starts while the first is about to create the dashboard: both create one.
    other = BumpWorld(world.server, world.mirror, world.owner, world.name, world.workdir / "b")
    other.workdir.mkdir()
    world.server.before("POST", r"/issues$", lambda: other.bump(), nth=1)
    assert world.bump()[0] == 0
    assert len(dashboard(world)) == 2
    assert len([p for p in pulls(world) if p["state"] == "open"]) == 1
    assert world.bump()[0] == 0
    (kept,) = dashboard(world)
    assert kept["number"] == min(i["number"] for i in dashboard(world, "all"))
    world.server.reset_log()
    assert world.bump()[0] == 0
    assert world.server.writes() == []


def test_a_long_retry_after_from_github_ends_the_run_with_when_to_rerun(world: BumpWorld) -> None:
    world.server.inject("GET", r"/issues$", 403, headers={"Retry-After": "3600"}, times=10)
    started = time.monotonic()
    code, _, err = world.bump()
    assert time.monotonic() - started < 30
    assert code == 9, err
    assert "wait 3600 s" in err and "rerun after" in err and err.count("\n") == 1
