"""The dependency dashboard issue and the Actions step summary. Pure rendering.

The dashboard holds nothing that changes between two identical runs (no times, no
run links), so a quiet run leaves it untouched: zero writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.catalog import Catalog
from bot.forge.body import declined_record
from bot.forge.grouping import group_key
from bot.forge.model import DASHBOARD_MARKER, GroupUpdate, Outcome, PrState, Snapshot
from bot.planner import ImagePlan, Plan

TITLE = "Dependency dashboard (condabot)"


def render_dashboard(
    plan: Plan,
    snapshot: Snapshot,
    outcomes: Sequence[Outcome],
    updates: Sequence[GroupUpdate] = (),
    catalog: Catalog | None = None,
) -> str:
    groups = {
        i.image: group_key(catalog.image(i.image), catalog) if catalog else i.image
        for i in plan.images
    }
    rows = ["| image | pinned | newest allowed upstream | status |", "|---|---|---|---|"]
    for image in plan.images:
        newest = image.to_label if image.to_version else "(pinned is newest)"
        status = _status(image, groups[image.image], snapshot, outcomes)
        rows.append(f"| `{image.image}` | {image.from_label} | {newest} | {status} |")
    parts = [
        "condabot keeps this issue current on every run; edits to it are overwritten.",
        "\n".join(rows),
    ]
    waiting = [f"- `{i.image}`: {w.release} ({w.reason})" for i in plan.images for w in i.waiting]
    if waiting:
        parts.append("### Waiting\n\n" + "\n".join(waiting))
    declined = snapshot.declined()
    ignored = [
        f"- `{t}` (#{n}): reopen the pull request to undo" for (_, t), n in sorted(declined.items())
    ]
    if catalog:
        ignored += [
            f"- `{i.name}` {v}: `bot.ignore` in the catalog" for i in catalog.images
            for v in i.bot.ignore if i.name in groups
        ]  # fmt: skip
    if ignored:
        parts.append("### Ignored\n\n" + "\n".join(ignored))
    attention = _attention(plan, snapshot, updates)
    if attention:
        parts.append("### Needs attention\n\n" + "\n".join(attention))
    errors = [f"- `{o.group}`: {o.detail}" for o in outcomes if o.action == "error"]
    if errors:
        parts.append("### Errors in the last run\n\n" + "\n".join(errors))
    parts.append(declined_record(declined) + "\n" + DASHBOARD_MARKER)
    return "\n\n".join(parts) + "\n"


def _attention(plan: Plan, snapshot: Snapshot, updates: Sequence[GroupUpdate]) -> list[str]:
    lines = [f"- `{i.image}`: {n.text}" for i in plan.images for n in i.notes if n.loud]
    lines += [f"- `{u.group}`: {a}" for u in updates for a in u.alarms]
    lines += [
        f"- `{p.metadata.group}` (#{p.number}): someone else pushed to its branch, so condabot "
        "stopped updating it; add the `rebase` label to regenerate it"
        for p in snapshot.pulls
        if p.state is PrState.OPEN and p.metadata and p.metadata.foreign_ack
    ]
    return lines


def _status(image: ImagePlan, group: str, snapshot: Snapshot, outcomes: Sequence[Outcome]) -> str:
    # Only facts that hold until something changes: a quiet rerun must render the same text.
    outcome = next((o for o in outcomes if o.group == group), None)
    if outcome and outcome.number and outcome.action in ("opened", "updated", "edited"):
        return f"#{outcome.number}"
    pr = snapshot.open_for(group)
    if pr is not None:
        foreign = (pr.metadata and pr.metadata.foreign_ack) or (
            outcome is not None and outcome.action == "left alone"
        )
        return f"#{pr.number} (not updated: someone else pushed)" if foreign else f"#{pr.number}"
    if outcome and outcome.action == "skipped" and outcome.detail.startswith("limit"):
        return "held back: open-PR limit (`--max-open`/`--max-new`)"
    declined = outcome and (
        outcome.action == "ignored" or outcome.detail.startswith("closed by a maintainer")
    )
    if outcome and declined:
        return f"ignored (#{outcome.number} closed)"
    return image.kind.value


def render_summary(outcomes: Sequence[Outcome], dry_run: bool) -> str:
    heading = "### condabot bump" + (" (dry run)" if dry_run else "")
    if not outcomes:
        return f"{heading}\n\nNothing to do: every image is current.\n"
    rows = ["| group | action | pull request | detail |", "|---|---|---|---|"]
    for o in outcomes:
        pr = f"[#{o.number}]({o.url})" if o.url else (f"#{o.number}" if o.number else "-")
        rows.append(f"| `{o.group}` | {o.action} | {pr} | {o.detail.replace('|', '/')} |")
    return f"{heading}\n\n" + "\n".join(rows) + "\n"
