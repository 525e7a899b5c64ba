"""The job summary: every step appends its own section, none replaces another's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.summary import write_step_summary


def test_steps_append_to_the_job_summary_and_outside_actions_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_step_summary("## bump\n")
    write_step_summary("## release\n")
    assert summary.read_text() == "# an earlier step\n## bump\n## release\n"
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    write_step_summary("## nowhere\n")
    assert list(tmp_path.iterdir()) == [summary]
