"""`condabot bump --repo` against the GitHub stand-in and the upstream mirror.

Real parts: PyGithub talks HTTP to a stateful stand-in backed by real git
repositories; the bot plans from a real clone of it; upstream is the loopback
mirror. Nothing in PyGithub or the bot is patched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github
from github.Repository import Repository

from bot.forge.body import metadata_of
from tests.support.bump_world import BumpWorld
from tests.support.mirror import Mirror
from tests.support.upstream_data import (
    add_miniconda_release,
    current_documents,
    publish_upstream,
)

DOCKERFILE = "dockerfiles/miniconda3/debian/Dockerfile"
BRANCH = "condabot/miniconda3"


def release(
    mirror: Mirror, version: str, date: str, flavours: tuple[str, ...] = ("py313", "py314")
) -> None:
    """Upstream publishes a Miniconda release (x86_64 and aarch64); the last flavour is the default."""
    documents = current_documents()
    add_miniconda_release(documents, version, date, flavours)
    publish_upstream(mirror, documents)


def as_human(world: BumpWorld, token: str = "maintainer-token") -> Repository:
    """A maintainer (bob) or contributor (alice, "human-token") acting through the API."""
    client = Github(base_url=world.server.base_url, auth=Auth.Token(token), retry=None)
    return client.get_repo(world.full_name)


def pulls(world: BumpWorld, state: str = "all") -> list[dict[str, Any]]:
    return world.server.get_json(f"/repos/{world.full_name}/pulls?state={state}")


def comments(world: BumpWorld, number: int) -> list[str]:
    return [
        c["body"]
        for c in world.server.get_json(f"/repos/{world.full_name}/issues/{number}/comments")
    ]


def expected_dockerfile(world: BumpWorld) -> bytes:
    """What `bump --local` writes: the PR must carry exactly that."""
    world.refresh()
    from bot.cli import main

    assert main(["bump", "--local", "--catalog", str(world.clone / "dockerfiles/images.yaml"),
                 "--upstream-url", world.mirror.url, "--cache-dir", str(world.workdir / "c2"),
                 "--now", world.now, "--accept-review"]) == 0  # fmt: skip
    return (world.clone / DOCKERFILE).read_bytes()


def test_opens_one_pr_with_every_arch_and_a_reviewable_body(world: BumpWorld) -> None:
    code, out, _ = world.bump()
    assert code == 0
    (pr,) = pulls(world)
    assert pr["title"] == "chore(deps): update miniconda3 (py311 to py314) to 26.5.3-1"
    assert pr["head"]["ref"] == BRANCH and pr["base"]["ref"] == "main"
    assert {label["name"] for label in pr["labels"]} == {"condabot", "dependencies"}
    assert [u["login"] for u in pr["assignees"]] == ["bob"]
    assert [u["login"] for u in pr["requested_reviewers"]] == ["bob"]
    body = pr["body"]
    assert "Python flavour change" in body and "| x86_64 |" in body and "| aarch64 |" in body
    assert "Released upstream on 2026-09-30" in body
    meta = metadata_of(body)
    assert meta is not None and meta.target == "miniconda3=py314_26.5.3-1"
    assert world.server.read_file("acme", world.name, BRANCH, DOCKERFILE) == expected_dockerfile(
        world
    )
    assert f"opened #{pr['number']}" in out


def test_each_file_a_pr_changes_is_read_and_rewritten_once(
    world: BumpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each group's edits are computed once, when its PR is made: not also for the whole
    plan first, and not again per group."""
    import bot.edits

    reads: list[str] = []

    def read_text(path: Path, *args: Any) -> str:
        reads.append(path.relative_to(world.clone).as_posix())
        return real(path, *args)

    real = bot.edits.read_text
    monkeypatch.setattr(bot.edits, "read_text", read_text)
    code, _, _ = world.bump()
    assert code == 0 and len(pulls(world)) == 1
    assert reads == [DOCKERFILE]


def test_a_quiet_rerun_makes_no_writes(world: BumpWorld) -> None:
    world.bump()
    world.server.reset_log()
    code, _, _ = world.bump()
    assert code == 0
    assert world.server.writes() == []
    assert world.server.count() <= 3


def test_newer_release_updates_the_same_pr(world: BumpWorld) -> None:
    world.bump()
    release(world.mirror, "26.6.0-0", "2026-10-20")
    code, out, _ = world.bump()
    assert code == 0
    (pr,) = pulls(world)
    assert pr["title"] == "chore(deps): update miniconda3 (py311 to py314) to 26.6.0-0"
    assert b"py314_26.6.0-0" in world.server.read_file("acme", world.name, BRANCH, DOCKERFILE)
    commits = world.server.get_json(f"/repos/{world.full_name}/pulls/{pr['number']}/commits")
    assert len(commits) == 1  # regenerated as one commit, not stacked
    assert "newer target" in out


def test_pr_no_longer_needed_is_closed_and_its_branch_deleted(world: BumpWorld) -> None:
    world.bump()
    (pr,) = pulls(world)
    # A maintainer applies the update by hand on main.
    world.server.push_commit(
        "acme", world.name, "main", {DOCKERFILE: expected_dockerfile(world)}, "bob", "bump"
    )
    assert world.bump()[0] == 0
    (closed,) = pulls(world)
    assert closed["state"] == "closed" and closed["merged_at"] is None
    assert world.server.ref_sha("acme", world.name, f"heads/{BRANCH}") is None
    assert any("No longer needed" in c for c in comments(world, pr["number"]))


def test_closed_unmerged_version_is_ignored_until_a_newer_one(world: BumpWorld) -> None:
    world.bump()
    (pr,) = pulls(world)
    as_human(world).get_pull(pr["number"]).edit(state="closed")
    for _ in range(2):
        assert world.bump()[0] == 0
    assert [p["state"] for p in pulls(world)] == ["closed"]  # never reopened, no duplicate
    notes = comments(world, pr["number"])
    assert len([c for c in notes if "will not propose" in c]) == 1
    assert "reopen this pull request" in notes[-1]
    release(world.mirror, "26.6.0-0", "2026-10-20")
    world.bump()
    states = sorted((p["state"], p["title"]) for p in pulls(world))
    assert states[1] == ("open", "chore(deps): update miniconda3 (py311 to py314) to 26.6.0-0")


def test_a_declined_version_stays_ignored_after_its_pr_ages_out_of_view(world: BumpWorld) -> None:
    world.bump()
    (pr,) = pulls(world)
    as_human(world).get_pull(pr["number"]).edit(state="closed")
    assert world.bump()[0] == 0  # acknowledges, and the dashboard remembers the decline
    # The bot reads one page of its most recently updated PRs; an old decline falls off it.
    as_human(world).get_issue(pr["number"]).remove_from_labels("condabot")
    for _ in range(2):
        assert world.bump()[0] == 0
    assert [p["state"] for p in pulls(world)] == ["closed"]


def test_human_commit_stops_updates_until_rebase_is_asked(world: BumpWorld) -> None:
    world.bump()
    (pr,) = pulls(world)
    human = world.server.push_commit(
        "acme", world.name, BRANCH, {"NOTES.md": b"mine\n"}, "alice", "note"
    )
    release(world.mirror, "26.6.0-0", "2026-10-20")
    for _ in range(2):
        assert world.bump()[0] == 0
    assert world.server.ref_sha("acme", world.name, f"heads/{BRANCH}") == human  # untouched
    assert len([c for c in comments(world, pr["number"]) if "stopped updating" in c]) == 1
    as_human(world, "human-token").get_issue(pr["number"]).add_to_labels("rebase")
    assert world.bump()[0] == 0
    head = world.server.ref_sha("acme", world.name, f"heads/{BRANCH}")
    assert head != human
    assert (
        world.server.ref_sha("acme", world.name, f"refs/condabot-backup/miniconda3/{human}")
        == human
    )
    labels = {label["name"] for label in pulls(world)[0]["labels"]}
    assert "rebase" not in labels


def test_the_rebase_checkbox_regenerates_and_comes_back_unticked(world: BumpWorld) -> None:
    world.bump()
    (pr,) = pulls(world)
    human = world.server.push_commit(
        "acme", world.name, BRANCH, {"NOTES.md": b"mine\n"}, "alice", "note"
    )
    ticked = pr["body"].replace("- [ ] <!-- condabot-rebase -->", "- [x] <!-- condabot-rebase -->")
    as_human(world, "human-token").get_pull(pr["number"]).edit(body=ticked)
    assert world.bump()[0] == 0
    assert world.server.ref_sha("acme", world.name, f"heads/{BRANCH}") != human
    body = pulls(world)[0]["body"]
    assert "- [ ] <!-- condabot-rebase -->" in body and "- [x]" not in body
    world.server.reset_log()
    assert world.bump()[0] == 0
    assert world.server.writes() == []  # unticked: no regeneration loop


def test_conflict_after_the_base_moved_regenerates(world: BumpWorld) -> None:
    world.bump()
    dockerfile = world.server.read_file("acme", world.name, "main", DOCKERFILE)
    # A maintainer bumps x86_64 by hand on main: the bot's PR no longer merges cleanly.
    edited = dockerfile.replace(b"py311_23.5.2-0-Linux-x86_64", b"py310_23.5.2-0-Linux-x86_64", 1)
    world.server.push_commit("acme", world.name, "main", {DOCKERFILE: edited}, "bob", "tweak")
    (pr,) = pulls(world)
    assert (
        world.server.get_json(f"/repos/{world.full_name}/pulls/{pr['number']}")["mergeable"]
        is False
    )
    assert world.bump()[0] == 0
    assert (
        world.server.get_json(f"/repos/{world.full_name}/pulls/{pr['number']}")["mergeable"] is True
    )
    assert world.server.read_file("acme", world.name, BRANCH, DOCKERFILE) == expected_dockerfile(
        world
    )


def test_dry_run_says_everything_and_writes_nothing(world: BumpWorld) -> None:
    code, out, _ = world.bump("--dry-run")
    assert code == 0
    assert "would open a PR on condabot/miniconda3" in out
    assert "would update the dependency dashboard" in out
    assert world.server.writes() == []


def test_transient_errors_and_secondary_rate_limits_are_retried(world: BumpWorld) -> None:
    world.server.inject("POST", r"/git/commits$", 502)
    world.server.inject_secondary_rate_limit("POST", r"/pulls$", retry_after=1)
    code, _, err = world.bump()
    assert code == 0, err
    assert len(pulls(world)) == 1


def test_a_run_that_dies_halfway_converges_without_a_duplicate(world: BumpWorld) -> None:
    world.server.inject("POST", r"/pulls$", 500, times=50)  # the PR cannot be opened today
    code, _, err = world.bump()
    assert code == 8 and "opening the PR" in err and err.count("\n") == 1
    assert world.server.ref_sha("acme", world.name, f"heads/{BRANCH}") is not None  # left behind
    world.server.clear_faults()
    assert world.bump()[0] == 0
    assert len(pulls(world)) == 1
    assert world.bump()[0] == 0
    assert len(pulls(world)) == 1


def test_a_run_that_dies_before_labelling_adopts_its_unlabelled_pr(world: BumpWorld) -> None:
    # The PR opens but the label never lands: the next run's listing (by label) misses it,
    # GitHub refuses a second PR for the branch, and the bot adopts the open one.
    world.server.inject("PATCH", r"/issues/\d+$", 500, times=50)
    code, _, err = world.bump()
    assert code == 8 and "labelling PR #1" in err
    assert [p["labels"] for p in pulls(world)] == [[]]
    world.server.clear_faults()
    world.server.reset_log()
    code, _, err = world.bump()
    assert code == 0, err
    (pr,) = pulls(world)
    assert pr["state"] == "open" and "condabot" in {label["name"] for label in pr["labels"]}
    (lookup,) = world.server.requests("GET", f"/repos/{world.full_name}/pulls")
    assert "head=acme%3Acondabot%2Fminiconda3" in lookup.query and lookup.status == 200


def test_a_foreign_leftover_branch_is_kept_under_a_backup_ref(world: BumpWorld) -> None:
    main = world.server.ref_sha("acme", world.name, "heads/main")
    human = world.server.push_commit(
        "acme", world.name, BRANCH, {"x": b"y\n"}, "alice", "mine", start_from=main
    )
    code, _, err = world.bump()
    assert code == 0, err
    assert (
        world.server.ref_sha("acme", world.name, f"refs/condabot-backup/miniconda3/{human}")
        == human
    )
    assert world.server.ref_sha("acme", world.name, f"heads/{BRANCH}") != human
    assert len(pulls(world)) == 1


def test_human_pushed_then_closed_and_a_newer_version_still_gets_a_pr(world: BumpWorld) -> None:
    world.bump()
    (pr,) = pulls(world)
    human = world.server.push_commit("acme", world.name, BRANCH, {"x": b"y\n"}, "alice", "mine")
    as_human(world).get_pull(pr["number"]).edit(state="closed")
    release(world.mirror, "26.6.0-0", "2026-10-20")
    code, _, err = world.bump()
    assert code == 0, err
    assert [p["state"] for p in pulls(world)].count("open") == 1
    assert (
        world.server.ref_sha("acme", world.name, f"refs/condabot-backup/miniconda3/{human}")
        == human
    )


def test_bad_token_is_a_clear_error_that_never_shows_the_token(world: BumpWorld) -> None:
    code, out, err = world.bump(token="ghp_" + "x" * 36)
    assert code == 15
    assert "GitHub refused the token" in err and "ghp_" not in err + out


def test_step_summary_lists_what_the_run_did(
    world: BumpWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    world.bump()
    text = summary.read_text()
    assert "| `miniconda3` | opened |" in text


def test_after_a_merge_the_bot_deletes_its_branch_once(world: BumpWorld) -> None:
    world.bump()
    (pr,) = pulls(world)
    as_human(world).get_pull(pr["number"]).merge()
    assert world.bump()[0] == 0
    assert world.server.ref_sha("acme", world.name, f"heads/{BRANCH}") is None
    world.server.reset_log()
    assert world.bump()[0] == 0
    assert world.server.writes() == []


def test_dashboard_lists_images_prs_and_ignored_versions(world: BumpWorld) -> None:
    world.bump()
    (issue,) = [
        i
        for i in world.server.get_json(f"/repos/{world.full_name}/issues?state=all")
        if "pull_request" not in i
    ]
    assert issue["title"] == "Dependency dashboard (condabot)"
    assert "| `miniconda3` | py311_23.5.2-0 | py314_26.5.3-1 | #1 |" in issue["body"]
