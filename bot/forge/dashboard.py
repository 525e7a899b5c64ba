"""The dependency dashboard issue and the Actions step summary. Pure rendering.

The dashboard holds nothing that changes between two identical runs (no times, no
run links), so a quiet run leaves it untouched: zero writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.forge.body import declined_record
from bot.forge.grouping import label as _label
from bot.forge.model import Outcome, PrState, Snapshot
from bot.planner import ImagePlan, Plan, is_loud

TITLE = "Dependency dashboard (condabot)"


def render_dashboard(plan: Plan, snapshot: Snapshot, outcomes: Sequence[Outcome]) -> str:
    by_group = {o.group: o for o in outcomes}
    open_prs = {
        p.metadata.group: p.number for p in snapshot.pulls if p.state is PrState.OPEN and p.metadata
    }
    rows = ["| image | pinned | newest allowed upstream | status |", "|---|---|---|---|"]
    for image in plan.images:
        newest = (
            _label(image.to_python, image.to_version) if image.to_version else "(pinned is newest)"
        )
        pinned = _label(image.from_python, image.from_version)
        rows.append(
            f"| `{image.image}` | {pinned} | {newest} | {_status(image, open_prs, by_group)} |"
        )
    parts = [
        "condabot keeps this issue current on every run; edits to it are overwritten.",
        "\n".join(rows),
    ]
    waiting = [f"- `{i.image}`: {w.version} ({w.reason})" for i in plan.images for w in i.waiting]
    if waiting:
        parts.append("### Waiting\n\n" + "\n".join(waiting))
    declined = snapshot.declined()
    ignored = [
        f"- `{t}` (#{n}): reopen the pull request to undo" for (_, t), n in sorted(declined.items())
    ]
    if ignored:
        parts.append("### Ignored (closed without merging)\n\n" + "\n".join(ignored))
    attention = [f"- `{i.image}`: {n}" for i in plan.images for n in i.notes if is_loud(n)]
    if attention:
        parts.append("### Needs attention\n\n" + "\n".join(attention))
    errors = [f"- `{o.group}`: {o.detail}" for o in outcomes if o.action == "error"]
    if errors:
        parts.append("### Errors in the last run\n\n" + "\n".join(errors))
    parts.append(declined_record(declined))
    return "\n\n".join(parts) + "\n"


def _status(image: ImagePlan, open_prs: dict[str, int], outcomes: dict[str, Outcome]) -> str:
    # Only facts that hold until something changes: a quiet rerun must render the same text.
    for group in (image.image, image.product.value):
        outcome = outcomes.get(group)
        if outcome and outcome.number and outcome.action in ("opened", "updated", "edited"):
            return f"#{outcome.number}"
        if group in open_prs:
            return f"#{open_prs[group]}"
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
