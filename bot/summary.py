"""The GitHub Actions job summary: each step appends its markdown to $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import os
from pathlib import Path


def write_step_summary(text: str) -> None:
    """Append `text` to the job summary; nothing outside Actions (no GITHUB_STEP_SUMMARY)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with Path(path).open("a", encoding="utf-8") as summary:
            summary.write(text)
