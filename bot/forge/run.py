"""One bump run against a forge: snapshot, decide, act, then the dashboard and summary."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.catalog import Catalog
from bot.errors import CondabotError, ForgeError
from bot.forge.apply import Executor, ForgeWriter, Raced, group_of
from bot.forge.dashboard import TITLE, render_dashboard, render_summary
from bot.forge.decide import Action, Cleanup, Probe, decide
from bot.forge.grouping import flag_changed_checksums
from bot.forge.model import GroupUpdate, Limits, Outcome, Snapshot
from bot.planner import Plan
from bot.summary import write_step_summary


class Forge(ForgeWriter, Probe, Protocol):
    def snapshot(self, base_sha: str, base_tree: str) -> Snapshot: ...
    def write_dashboard(self, number: int | None, title: str, body: str) -> int: ...
    def close_duplicate(self, number: int, kept: int) -> None: ...


RACE_ATTEMPTS = 3


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
    catalog: Catalog | None = None,
    held: frozenset[str] = frozenset(),
) -> RunResult:
    snapshot = forge.snapshot(*base)
    updates = [flag_changed_checksums(u, snapshot.open_for(u.group)) for u in updates]
    actions = decide(updates, snapshot, forge, limits, held)
    executor = Executor(forge, snapshot, dry_run, say, run_url())
    outcomes, error = [], None
    for action in actions:
        try:
            outcomes.extend(_carry_out(action, executor, updates, snapshot, forge, limits))
        except CondabotError as exc:  # one group's failure must not starve the others
            error = error or exc
            outcomes.append(Outcome(group_of(action), "error", exc.message))
    _write_dashboard(forge, render_dashboard(plan, snapshot, outcomes, updates, catalog),
                     snapshot, dry_run, say)  # fmt: skip
    write_step_summary(render_summary(outcomes, dry_run))
    return RunResult(tuple(outcomes), error)


def _write_dashboard(
    forge: Forge, text: str, snapshot: Snapshot, dry_run: bool, say: Callable[[str], None]
) -> None:
    if dry_run:
        if text != snapshot.dashboard_body:
            say("would update the dependency dashboard")
        for number in snapshot.duplicate_dashboards:
            say(f"would close duplicate dashboard #{number}")
        return
    if text != snapshot.dashboard_body:
        forge.write_dashboard(snapshot.dashboard_number, TITLE, text)
    for number in snapshot.duplicate_dashboards:
        assert snapshot.dashboard_number is not None
        forge.close_duplicate(number, snapshot.dashboard_number)


def _carry_out(
    action: Action,
    executor: Executor,
    updates: Sequence[GroupUpdate],
    snapshot: Snapshot,
    forge: Forge,
    limits: Limits,
) -> list[Outcome]:
    """Run one action; when its ref swap loses a race, decide that group again from the new
    head (someone pushed meanwhile): never "retry with force"."""
    group = group_of(action)
    wanted = [u for u in updates if u.group == group]
    for _ in range(RACE_ATTEMPTS):
        try:
            return executor.run([action])
        except Raced:
            redone = [
                a
                for a in decide(wanted, snapshot, forge, limits)
                if group_of(a) == group and not isinstance(a, Cleanup)
            ]
            if not redone:
                return [Outcome(group, "left alone", "the branch moved during the update")]
            action = redone[0]
    raise ForgeError(
        f"condabot/{group} kept moving while condabot updated it", "rerun when pushes settle"
    )


def run_url() -> str | None:
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None
