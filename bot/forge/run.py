"""One bump run against a forge: snapshot, decide, act, then the dashboard and summary."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.errors import CondabotError
from bot.forge.apply import Executor, ForgeWriter, group_of
from bot.forge.dashboard import TITLE, render_dashboard, render_summary
from bot.forge.decide import Probe, decide
from bot.forge.model import GroupUpdate, Limits, Outcome, Snapshot
from bot.planner import Plan


class Forge(ForgeWriter, Probe, Protocol):
    def snapshot(self, base_sha: str, base_tree: str) -> Snapshot: ...
    def write_dashboard(self, number: int | None, title: str, body: str) -> int: ...


@dataclass(frozen=True)
class RunResult:
    outcomes: tuple[Outcome, ...]
    error: CondabotError | None  # the first failure; the run went on with other groups


def run_bump(
    forge: Forge,
    plan: Plan,
    updates: Sequence[GroupUpdate],
    base: tuple[str, str],
    limits: Limits,
    dry_run: bool,
    say: Callable[[str], None],
) -> RunResult:
    snapshot = forge.snapshot(*base)
    actions = decide(updates, snapshot, forge, limits)
    executor = Executor(forge, snapshot, dry_run, say, run_url())
    outcomes, error = [], None
    for action in actions:
        try:
            outcomes.extend(executor.run([action]))
        except CondabotError as exc:  # one group's failure must not starve the others
            error = error or exc
            outcomes.append(Outcome(group_of(action), "error", exc.message))
    dashboard = render_dashboard(plan, snapshot, outcomes)
    if dashboard != snapshot.dashboard_body:
        if dry_run:
            say("would update the dependency dashboard")
        else:
            forge.write_dashboard(snapshot.dashboard_number, TITLE, dashboard)
    _write_step_summary(render_summary(outcomes, dry_run))
    return RunResult(tuple(outcomes), error)


def run_url() -> str | None:
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def _write_step_summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(text)
