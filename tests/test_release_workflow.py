"""The release workflow's wiring, run for real where it is a script: each step's `run:` is
executed by bash with the environment the workflow gives it, and `condabot`, `cosign` and
friends are recording stand-ins on PATH (no OIDC, no registry credentials and no network
exist here, so the signing and attestation actions themselves cannot run)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / ".github/workflows/release.yml"


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def workflow() -> Any:
    return load(RELEASE)


def step(job: str, name_start: str) -> dict[str, Any]:
    steps = workflow()["jobs"][job]["steps"]
    return next(s for s in steps if s.get("name", "").startswith(name_start))


def action_step(action: str, name_start: str) -> dict[str, Any]:
    steps = load(ROOT / "workflows" / action / "action.yml")["runs"]["steps"]
    return next(s for s in steps if s.get("name", "").startswith(name_start))


def recorder(tmp_path: Path, *names: str) -> Path:
    """Stand-ins on PATH: each appends its arguments, one JSON list a line, to <name>.log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        script = bin_dir / name
        script.write_text(
            "#!/usr/bin/env python3\n"
            "import json, os, sys\n"
            f"with open(os.path.join({str(tmp_path)!r}, {name + '.log'!r}), 'a') as log:\n"
            "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        )
        script.chmod(0o755)
    return bin_dir


def calls(tmp_path: Path, name: str) -> list[list[str]]:
    log = tmp_path / f"{name}.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def run_script(script: str, env: dict[str, str], bin_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(bin_dir), **env}
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_staging_repository_is_lower_case_for_an_owner_with_capitals(tmp_path: Path) -> None:
    staging = step("plan", "Staging repository")
    output = tmp_path / "output"
    done = run_script(
        staging["run"],
        {"OWNER": "Conda-Incubator", "GITHUB_OUTPUT": str(output)},
        recorder(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert output.read_text() == "staging=ghcr.io/conda-incubator/condabot-staging\n"
    assert staging["env"]["OWNER"] == "${{ github.repository_owner }}"
    jobs = workflow()["jobs"]
    assert jobs["plan"]["outputs"]["staging"] == "${{ steps.staging.outputs.staging }}"
    build = next(s for s in jobs["build"]["steps"] if s.get("uses") == "./workflows/build")
    publish = next(s for s in jobs["publish"]["steps"] if s.get("uses") == "./workflows/publish")
    for used in (build, publish):
        assert used["with"]["staging"] == "${{ needs.plan.outputs.staging }}"
    assert "ghcr.io/${{" not in RELEASE.read_text()  # the owner is never used as typed


def test_a_manual_run_reads_the_release_state_and_a_release_event_does_not() -> None:
    """Only plan and publish compute tags: they (and only they) read the release's state
    from GitHub when there is no release event; the CLI's default is the variable."""
    import argparse

    from bot.commands.release import add_parser

    want = "${{ github.event_name != 'release' }}"
    plan = step("plan", "Plan")
    publish = action_step("publish", "Publish")
    assert plan["env"]["CONDABOT_GITHUB_RELEASE"] == want
    assert plan["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert publish["env"]["CONDABOT_GITHUB_RELEASE"] == want
    assert publish["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert "CONDABOT_GITHUB_RELEASE" not in str(load(ROOT / "workflows/build/action.yml"))
    for value, expected in (("true", True), ("false", False), ("", False)):
        os.environ["CONDABOT_GITHUB_RELEASE"] = value
        try:
            parser = argparse.ArgumentParser()
            add_parser(parser.add_subparsers())
            args = parser.parse_args(["release", "plan", "--tag", "x-1.0"])
        finally:
            del os.environ["CONDABOT_GITHUB_RELEASE"]
        assert args.github_release is expected, value
