"""The PR lifecycle rules, one test each, on the pure decision function."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.forge.body import REBASE_CHECKBOX, compose, metadata_of, rebase_checked
from bot.forge.decide import Acknowledge, Cleanup, Close, Edit, Open, Regenerate, Skip, decide
from bot.forge.model import (
    FileChange,
    GroupUpdate,
    Limits,
    Metadata,
    PrState,
    PullRequest,
    Snapshot,
)

BASE = "b" * 40


@dataclass
class Probe:
    heads: dict[str, str | None] = field(default_factory=dict)
    merge: dict[int, bool | None] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def head(self, group: str) -> str | None:
        self.asked.append(f"head:{group}")
        return self.heads.get(group)

    def mergeable(self, number: int) -> bool | None:
        self.asked.append(f"mergeable:{number}")
        return self.merge.get(number)


def update(group: str = "miniconda3", target: str = "26.5.3-1") -> GroupUpdate:
    return GroupUpdate(
        group=group,
        title=f"chore(deps): update {group} to {target}",
        body=f"Bump {group} to {target}",
        target=target,
        digest=f"d-{target}",
        files=(FileChange("dockerfiles/x/Dockerfile", b"FROM x\n"),),
    )


def pr(
    number: int = 7,
    state: PrState = PrState.OPEN,
    target: str = "26.5.3-1",
    head: str = "h" * 40,
    base: str = BASE,
    group: str = "miniconda3",
    rebase: bool = False,
    **meta: bool,
) -> PullRequest:
    u = update(group, target)
    metadata = Metadata(group, target, f"d-{target}", base, head, **meta)
    return PullRequest(
        number, state, u.title, compose(u.body, metadata), ("condabot",), metadata, rebase
    )


def snap(*pulls: PullRequest, base: str = BASE) -> Snapshot:
    return Snapshot(base, "t" * 40, pulls)


def test_metadata_round_trips_through_the_body() -> None:
    meta = Metadata("miniconda3", "26.5.3-1", "d", BASE, "h" * 40, ignored_ack=True)
    body = compose("visible text", meta)
    assert metadata_of(body) == meta
    assert not rebase_checked(body)
    assert rebase_checked(body.replace("- [ ]", "- [x]", 1))
    assert REBASE_CHECKBOX in body


def test_new_update_opens_a_pr() -> None:
    assert decide([update()], snap(), Probe()) == [Open(update())]


def test_same_target_up_to_date_is_nothing_and_asks_nothing() -> None:
    probe = Probe()
    assert decide([update()], snap(pr()), probe) == []
    assert probe.asked == []


def test_newer_target_regenerates() -> None:
    probe = Probe(heads={"miniconda3": "h" * 40})
    (action,) = decide([update(target="26.6.0-0")], snap(pr()), probe)
    assert isinstance(action, Regenerate) and action.reason == "newer target"


def test_changed_content_for_the_same_versions_regenerates() -> None:
    changed = GroupUpdate(**{**update().__dict__, "digest": "other"})
    (action,) = decide([changed], snap(pr()), Probe(heads={"miniconda3": "h" * 40}))
    assert isinstance(action, Regenerate)


def test_changed_text_only_is_an_edit() -> None:
    changed = GroupUpdate(**{**update().__dict__, "body": "new wording"})
    assert decide([changed], snap(pr()), Probe()) == [Edit(changed, pr())]


def test_target_no_longer_needed_closes_and_deletes_the_branch() -> None:
    (action,) = decide([], snap(pr()), Probe(heads={"miniconda3": "h" * 40}))
    assert action == Close(pr(), "miniconda3", delete_head="h" * 40)


def test_obsolete_pr_with_foreign_commits_keeps_the_branch() -> None:
    (action,) = decide([], snap(pr()), Probe(heads={"miniconda3": "f" * 40}))
    assert isinstance(action, Close) and action.delete_head is None


def test_closed_unmerged_means_ignored_with_one_comment() -> None:
    closed = pr(state=PrState.CLOSED)
    assert decide([update()], snap(closed), Probe()) == [
        Acknowledge(closed, "miniconda3", "ignored")
    ]
    acked = pr(state=PrState.CLOSED, ignored_ack=True)
    (action,) = decide([update()], snap(acked), Probe())
    assert isinstance(action, Skip) and "ignored" in action.reason


def test_a_newer_version_than_the_ignored_one_is_proposed_again() -> None:
    closed = pr(state=PrState.CLOSED, ignored_ack=True)
    assert decide([update(target="26.6.0-0")], snap(closed), Probe()) == [
        Open(update(target="26.6.0-0"))
    ]


def test_foreign_commits_stop_updates_with_one_comment() -> None:
    probe = Probe(heads={"miniconda3": "f" * 40})
    (action,) = decide([update(target="26.6.0-0")], snap(pr()), probe)
    assert action == Acknowledge(pr(), "miniconda3", "foreign")
    assert decide([update(target="26.6.0-0")], snap(pr(foreign_ack=True)), probe) == []


def test_rebase_request_regenerates_over_foreign_commits_keeping_a_backup() -> None:
    probe = Probe(heads={"miniconda3": "f" * 40})
    (action,) = decide([update()], snap(pr(rebase=True)), probe)
    assert isinstance(action, Regenerate) and action.keep_head and action.head == "f" * 40


def test_base_moved_and_conflicting_regenerates() -> None:
    moved = snap(pr(), base="c" * 40)
    probe = Probe(heads={"miniconda3": "h" * 40}, merge={7: False})
    (action,) = decide([update()], moved, probe)
    assert isinstance(action, Regenerate) and action.reason == "conflict"


def test_base_moved_but_mergeable_is_nothing() -> None:
    assert decide([update()], snap(pr(), base="c" * 40), Probe(merge={7: True})) == []
    assert decide([update()], snap(pr(), base="c" * 40), Probe(merge={7: None})) == []


def test_merged_target_is_not_reopened_and_its_branch_is_cleaned_once() -> None:
    merged = pr(state=PrState.MERGED)
    skip, cleanup = decide([update()], snap(merged), Probe())
    assert isinstance(skip, Skip) and "merged" in skip.reason
    assert cleanup == Cleanup(merged, "miniconda3")
    assert decide([], snap(pr(state=PrState.MERGED, cleaned=True)), Probe()) == []


def test_limits_on_open_and_new_prs() -> None:
    updates = [update(group=f"img{i}") for i in range(4)]
    actions = decide(updates, snap(), Probe(), Limits(max_open=10, max_new_per_run=2))
    assert [type(a) for a in actions] == [Open, Open, Skip, Skip]
    existing = pr(group="other", target="x")
    actions = decide(updates, snap(existing), Probe(heads={"other": "h" * 40}), Limits(max_open=2))
    assert sum(isinstance(a, Open) for a in actions) == 1


def test_a_declined_version_remembered_by_the_dashboard_stays_ignored() -> None:
    remembered = Snapshot(BASE, "t" * 40, (), remembered=(("miniconda3", "26.5.3-1", 4),))
    (action,) = decide([update()], remembered, Probe())
    assert action == Skip("miniconda3", "closed by a maintainer: ignored", 4)
    assert decide([update(target="26.6.0-0")], remembered, Probe()) == [
        Open(update(target="26.6.0-0"))
    ]


def test_reopening_lifts_a_remembered_decline() -> None:
    reopened = Snapshot(
        BASE, "t" * 40, (pr(number=4),), remembered=(("miniconda3", "26.5.3-1", 4),)
    )
    assert reopened.declined() == {}
    assert decide([update()], reopened, Probe()) == []


def test_a_held_group_keeps_its_open_pr_as_it_is() -> None:
    # Upstream mid-upload or an installer not verified: no update this run, yet not "obsolete".
    (action,) = decide([], snap(pr()), Probe(), held=frozenset({"miniconda3"}))
    assert action == Skip("miniconda3", "held: upstream is not settled for it", 7)
