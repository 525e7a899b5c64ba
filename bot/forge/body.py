"""PR bodies: the visible text plus hidden machine-readable metadata. Pure."""

from __future__ import annotations

import json
import re

from bot.forge.model import Metadata

_METADATA = re.compile(r"<!-- condabot-metadata: (\{.*?\}) -->", re.DOTALL)
REBASE_CHECKBOX = (
    "- [ ] <!-- condabot-rebase --> Check this box to regenerate this PR on the base branch"
)
_REBASE_CHECKED = re.compile(r"- \[[xX]\] <!-- condabot-rebase -->")


def compose(visible: str, metadata: Metadata, run_url: str | None = None) -> str:
    """The full body. The footer (run link, checkbox, metadata) never counts as an edit."""
    data = json.dumps(metadata.__dict__, sort_keys=True, separators=(",", ":"))
    run = f"Updated by [this workflow run]({run_url}).\n\n" if run_url else ""
    return (
        f"{visible.rstrip()}\n\n---\n\n{run}{REBASE_CHECKBOX}\n\n"
        f"<!-- condabot-metadata: {data} -->\n"
    )


def metadata_of(body: str | None) -> Metadata | None:
    match = _METADATA.search(body or "")
    if not match:
        return None
    try:
        data = json.loads(match[1])
        fields = {k: data[k] for k in Metadata.__dataclass_fields__ if k in data}
        fields["pins"] = tuple((str(url), str(sha)) for url, sha in fields.get("pins", ()))
        fields["alarms"] = tuple(str(a) for a in fields.get("alarms", ()))
        return Metadata(**fields)
    except (json.JSONDecodeError, TypeError, ValueError):
        return None


def rebase_checked(body: str | None) -> bool:
    return bool(_REBASE_CHECKED.search(body or ""))


def visible_part(body: str) -> str:
    return body.split("\n\n---\n\n", 1)[0]


_DECLINED = re.compile(r"<!-- condabot-declined: (\[.*?\]) -->", re.DOTALL)


def declined_record(declined: dict[tuple[str, str], int]) -> str:
    rows = sorted([g, t, n] for (g, t), n in declined.items())
    return f"<!-- condabot-declined: {json.dumps(rows, separators=(',', ':'))} -->"


def declined_of(body: str | None) -> tuple[tuple[str, str, int], ...]:
    match = _DECLINED.search(body or "")
    if not match:
        return ()
    try:
        rows = json.loads(match[1])
        return tuple((str(g), str(t), int(n)) for g, t, n in rows)
    except (json.JSONDecodeError, TypeError, ValueError):
        return ()
