"""Model-based test of the PR lifecycle: random upstream releases, bot runs and human
actions (merge, close, push to the bot's branch, move the base, ask for a rebase).

Real parts as in test_bump_github: the GitHub stand-in over real git repositories,
a real clone per run, the loopback upstream mirror. A human may push to the bot's branch
right before any request of a regenerate (the stand-in's `before()` hook), so every step
between the bot's read of its branch and its ref swap is raced. After every bot run:
- at most one open bot PR per group, and never two for one branch;
- no human commit is lost (each stays reachable from some ref);
- a version closed unmerged is never proposed again;
- each open PR the bot still owns holds exactly what the planner would write.
"""

from __future__ import annotations

import itertools
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import ClassVar

import pytest
from github import Auth, Github
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bot.cli import main
from bot.forge.body import metadata_of
from tests.support.bump_world import BumpWorld, make_world
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror
from tests.support.upstream_data import (
    add_miniconda_release,
    current_documents,
    publish_upstream,
)

DOCKERFILE = "dockerfiles/miniconda3/debian/Dockerfile"
BRANCH = "condabot/miniconda3"
_names = itertools.count()
# Each request of a bot run that a human's push can land right before.
RACES = {
    "head read": ("POST", r"^/graphql$", "ref(qualifiedName"),
    "tree": ("POST", r"/git/trees$", None),
    "commit": ("POST", r"/git/commits$", None),
    "ref swap": ("POST", r"^/graphql$", "updateRefs"),
    "PR edit": ("PATCH", r"/pulls/\d+$", None),
}


class Lifecycle(RuleBasedStateMachine):
    server: GitHubStandin
    mirror: Mirror
    workdir: Path

    def __init__(self) -> None:
        super().__init__()
        self.mirror.reset()
        self.documents = current_documents()
        publish_upstream(self.mirror, self.documents)
        work = self.workdir / f"w{next(_names)}"
        work.mkdir()
        self.world: BumpWorld = make_world(self.server, self.mirror, work, f"model-{work.name}")
        self.humans: set[str] = set()
        self.released = 0
        self.ran = False
        bob = Github(base_url=self.server.base_url, auth=Auth.Token("maintainer-token"), retry=None)
        self.bob = bob.get_repo(self.world.full_name)

    # -- upstream --------------------------------------------------------------
    @rule()
    def upstream_release(self) -> None:
        self.released += 1
        version, date = f"26.{5 + self.released}.0-0", f"2026-10-{min(10 + self.released, 28):02d}"
        add_miniconda_release(self.documents, version, date, ("py313", "py314"))
        publish_upstream(self.mirror, self.documents)

    # -- the bot -----------------------------------------------------------------
    steps = 0  # bot runs, across examples: the benchmark reports it
    # pushes that landed in the middle of a bot run, by the request they preceded
    races: ClassVar[Counter[str]] = Counter()

    @rule()
    def bot_run(self) -> None:
        Lifecycle.steps += 1
        code, _, err = self.world.bump()
        assert code == 0, err
        self.ran = True
        self.check_after_run()

    @precondition(lambda self: self.ran)
    @rule(race=st.sampled_from(sorted(RACES)), n=st.integers(0, 99), newer=st.booleans())
    def bot_run_while_a_human_pushes(self, race: str, n: int, newer: bool) -> None:
        if newer:  # an open PR then has a regenerate to race
            self.upstream_release()
        pushed: list[str] = []

        def push() -> None:
            if self.server.ref_sha("acme", self.world.name, f"heads/{BRANCH}"):
                pushed.append(self.server.push_commit(
                    "acme", self.world.name, BRANCH, {f"race/{n}.md": b"x\n"}, "alice", "mine"
                ))  # fmt: skip

        method, path, contains = RACES[race]
        hook = self.server.before(method, path, push, contains=contains)
        try:
            self.bot_run()
        finally:
            self.server.forget(hook)
            self.humans.update(pushed)
            Lifecycle.races[race] += len(pushed)

    # -- humans --------------------------------------------------------------------
    def open_pr(self) -> dict | None:
        open_prs = self.server.get_json(f"/repos/{self.world.full_name}/pulls?state=open")
        return open_prs[0] if open_prs else None

    @precondition(lambda self: self.ran)
    @rule()
    def human_merges(self) -> None:
        pr = self.open_pr()
        if (
            pr
            and self.server.get_json(f"/repos/{self.world.full_name}/pulls/{pr['number']}")[
                "mergeable"
            ]
        ):
            self.bob.get_pull(pr["number"]).merge()

    @precondition(lambda self: self.ran)
    @rule()
    def human_closes(self) -> None:
        pr = self.open_pr()
        if pr:
            self.bob.get_pull(pr["number"]).edit(state="closed")

    @precondition(lambda self: self.ran)
    @rule(n=st.integers(0, 99))
    def human_pushes_to_the_bot_branch(self, n: int) -> None:
        if self.server.ref_sha("acme", self.world.name, f"heads/{BRANCH}"):
            sha = self.server.push_commit(
                "acme", self.world.name, BRANCH, {f"notes/{n}.md": b"x\n"}, "alice", "mine"
            )
            self.humans.add(sha)

    @rule(edit_dockerfile=st.booleans())
    def human_moves_the_base(self, edit_dockerfile: bool) -> None:
        files = {f"docs/{self.released}-{len(self.humans)}.md": b"doc\n"}
        if edit_dockerfile:
            text = self.server.read_file("acme", self.world.name, "main", DOCKERFILE)
            files = {DOCKERFILE: text + b"# note\n"}
        self.humans.add(
            self.server.push_commit("acme", self.world.name, "main", files, "bob", "edit")
        )

    @precondition(lambda self: self.ran)
    @rule()
    def human_asks_for_rebase(self) -> None:
        pr = self.open_pr()
        if pr:
            self.bob.get_issue(pr["number"]).add_to_labels("rebase")

    # -- invariants ---------------------------------------------------------------
    @invariant()
    def no_human_commit_is_lost(self) -> None:
        bare = self.world.bare_path()
        for sha in self.humans:
            refs = subprocess.run(
                ["git", "-C", str(bare), "for-each-ref", "--contains", sha, "--format=%(refname)"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            assert refs.strip(), f"human commit {sha[:12]} is reachable from no ref"

    def check_after_run(self) -> None:
        pulls = self.server.get_json(f"/repos/{self.world.full_name}/pulls?state=all")
        open_prs = [p for p in pulls if p["state"] == "open"]
        assert len(open_prs) <= 1, [p["number"] for p in open_prs]
        declined = {
            m.target for p in pulls if p["state"] == "closed" and p["merged_at"] is None
            for m in [metadata_of(p["body"])] if m
        }  # fmt: skip
        for pr in open_prs:
            meta = metadata_of(pr["body"])
            assert meta is not None
            assert meta.target not in declined, f"re-proposed a declined version: {meta.target}"
            head = self.server.ref_sha("acme", self.world.name, f"heads/{BRANCH}")
            if head == meta.head:  # the bot still owns it: exactly the planner's content
                expected = self.planned_dockerfile()
                assert (
                    self.server.read_file("acme", self.world.name, BRANCH, DOCKERFILE) == expected
                )

    def planned_dockerfile(self) -> bytes:
        self.world.refresh()
        clone = self.world.clone
        assert main(["bump", "--local", "--catalog", str(clone / "dockerfiles/images.yaml"),
                     "--upstream-url", self.mirror.url, "--cache-dir", str(self.world.workdir / "c2"),
                     "--now", self.world.now, "--accept-review"]) == 0  # fmt: skip
        return (clone / DOCKERFILE).read_bytes()


@pytest.mark.slow
def test_pr_lifecycle_model(
    github_server: GitHubStandin, mirror_server: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as work:
        Lifecycle.server, Lifecycle.mirror, Lifecycle.workdir = (
            github_server,
            mirror_server,
            Path(work),
        )
        run_state_machine_as_test(
            Lifecycle,
            settings=settings(
                max_examples=12,
                stateful_step_count=10,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
