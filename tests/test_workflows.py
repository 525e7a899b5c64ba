"""The GitHub Actions wiring is what the README says, and safe.

These read the workflow files as GitHub would (YAML) and check the properties a
maintainer relies on; actionlint, zizmor and check-jsonschema run in `make lint`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONS = ROOT / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def workflow(name: str) -> Any:
    return load(WORKFLOWS / name)


def all_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")])


def steps_of(document: Any) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", all_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_remote_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*-?\s*uses:\s*(.+)$", line)
        if match and not match[1].startswith("./"):
            assert PINNED.match(match[1]), f"{path.name}: unpinned or uncommented: {match[1]}"


@pytest.mark.parametrize("path", all_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_expression_inside_run(path: Path) -> None:
    # Inputs reach scripts through env:, never by text substitution into the script.
    for step in steps_of(load(path)):
        assert "${{" not in step.get("run", ""), (
            f"{path.name}: expression inside run: {step['run']!r}"
        )


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_default_permissions_are_empty_and_checkouts_keep_no_credentials(path: Path) -> None:
    document = workflow(path.name)
    assert document["permissions"] == {}
    for step in steps_of(document):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


def test_bump_runs_on_a_schedule_and_by_hand_never_overlapping() -> None:
    bump = workflow("bump.yml")
    triggers = bump[True] if True in bump else bump["on"]  # YAML 1.1 reads `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"]
    assert bump["concurrency"]["cancel-in-progress"] is False
    job = bump["jobs"]["bump"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "issues": "write"}


def test_bump_job_calls_the_bot_with_the_app_token_or_github_token() -> None:
    steps = workflow("bump.yml")["jobs"]["bump"]["steps"]
    app = next(s for s in steps if s.get("id") == "app-token")
    assert app["with"]["permission-contents"] == "write"
    bump = next(s for s in steps if s.get("uses") == "./workflows/bump")
    assert bump["with"]["token"] == "${{ steps.app-token.outputs.token || github.token }}"
    action = load(ACTIONS / "bump" / "action.yml")
    (run_step,) = action["runs"]["steps"]
    assert run_step["env"]["GITHUB_TOKEN"] == "${{ inputs.token }}"
    assert "condabot" in run_step["run"] and "bump --repo" in run_step["run"]


def test_ci_lints_tests_and_builds_images_without_pushing() -> None:
    ci = workflow("ci.yml")
    triggers = ci[True] if True in ci else ci["on"]
    assert set(triggers) == {"push", "pull_request"}
    runs = [s.get("run", "") for job in ci["jobs"].values() for s in job["steps"]]
    assert "make lint" in runs and "make test" in runs
    build = next(r for r in runs if "docker build" in r)
    assert "push" not in build
    for job in ci["jobs"].values():
        assert job["permissions"] == {"contents": "read"}


def test_renovate_leaves_installer_pins_to_the_bot() -> None:
    import json

    config = json.loads((ROOT / "renovate.json").read_text())
    assert config["customManagers"] == []
    disabled = [r for r in config["packageRules"] if r.get("enabled") is False]
    assert any(
        set(r.get("matchDatasources", []))
        == {"custom.miniconda_installer", "custom.anaconda_installer"}
        for r in disabled
    )
    assert {"dockerfile", "github-actions", "pep621"} == set(config["enabledManagers"])
