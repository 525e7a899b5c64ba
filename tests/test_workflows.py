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

from bot.catalog import load_catalog

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
    cache, run_step = action["runs"]["steps"]
    assert run_step["env"]["GITHUB_TOKEN"] == "${{ inputs.token }}"
    assert "condabot" in run_step["run"] and "bump --repo" in run_step["run"]
    # Verified installers are recorded in the cache dir: it must survive between runs, or
    # every scheduled run downloads each proposed installer again.
    assert cache["uses"].startswith("actions/cache@")
    assert cache["with"]["path"] == "~/.cache/condabot"
    assert "CONDABOT_CACHE_DIR" not in run_step["env"]  # the bot's default is what is cached


def test_ci_lints_tests_and_builds_images_without_pushing() -> None:
    ci = workflow("ci.yml")
    triggers = ci[True] if True in ci else ci["on"]
    assert set(triggers) == {"push", "pull_request"}
    runs = [s.get("run", "") for job in ci["jobs"].values() for s in job["steps"]]
    assert "make lint" in runs
    assert any(r.endswith("make test") for r in runs)
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


def test_release_matrix_is_the_plans_output(tmp_path: Path) -> None:
    """Run the plan step as the workflow does, on this repository, and feed its output to the
    build job's matrix: every key the job reads must be in every cell."""
    import json
    import os
    import subprocess
    import sys

    output = tmp_path / "github_output"
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    env = {**os.environ, "GITHUB_OUTPUT": str(output)}
    # A line pinned today (the product tag waits for the py312-py314 first pins).
    tag = "miniconda3-py310-23.5.2-0"
    args = [sys.executable, "-m", "bot", "release", "plan", "--root", str(ROOT), "--tag", tag]
    subprocess.run(
        [*args, "--github-output", "--revision", head.stdout.strip()],
        env=env,
        check=True,
        capture_output=True,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    matrix = json.loads(outputs["matrix"])
    release = workflow("release.yml")
    plan_job, build_job = release["jobs"]["plan"], release["jobs"]["build"]
    assert plan_job["outputs"]["matrix"] == "${{ steps.plan.outputs.matrix }}"
    assert next(s for s in plan_job["steps"] if s.get("id") == "plan")["run"].startswith(
        "condabot release plan"
    )
    assert build_job["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    used = set(re.findall(r"matrix\.(\w+)", str(build_job)))
    assert used == {"image", "platform", "runner"}
    assert matrix["include"] and all(used <= set(cell) for cell in matrix["include"])
    assert {c["platform"] for c in matrix["include"]} == {"linux/amd64", "linux/arm64"}


def test_release_triggers_on_every_published_release_so_a_typo_fails_loudly() -> None:
    release = workflow("release.yml")
    triggers = release[True] if True in release else release["on"]
    assert triggers["release"] == {"types": ["published"]}  # no tag filter that a typo could miss
    assert release["concurrency"]["cancel-in-progress"] is False  # never cancelled mid-publish
    publish = release["jobs"]["publish"]
    assert publish["permissions"]["id-token"] == "write"
    oidc = next(
        s
        for s in publish["steps"]
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    )
    assert "role-to-assume" in oidc["with"] and "aws-access-key-id" not in oidc["with"]
    text = (WORKFLOWS / "release.yml").read_text()
    assert "AWS_SECRET_ACCESS_KEY" not in text and "AWS_ACCESS_KEY_ID" not in text
    for name, job in release["jobs"].items():
        if name not in ("publish", "sign"):  # sign: keyless signing and attestations
            assert "id-token" not in job["permissions"]


def test_readme_states_the_triggers_and_permissions_the_workflows_have() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("bump.yml", "ci.yml", "release.yml"):
        document = workflow(name)
        row = next(
            line for line in readme.splitlines() if line.startswith(f"| `.github/workflows/{name}`")
        )
        triggers = document[True] if True in document else document["on"]
        for trigger in triggers:
            assert trigger in row, f"README row for {name} omits trigger {trigger}"
        for job in document["jobs"].values():
            for permission, level in job["permissions"].items():
                assert f"{permission}: {level}" in row, (
                    f"README row for {name} omits {permission}: {level}"
                )


def run_images_step(tmp_path: Path, change: str) -> list[list[str]]:
    """Runs the images job's script for real (git, bash, sed) on a repository where a PR
    made `change` under dockerfiles/; `docker` is a stand-in that records each call's
    arguments."""
    import os
    import shutil
    import subprocess

    step = next(
        s
        for s in workflow("ci.yml")["jobs"]["images"]["steps"]
        if "docker build" in s.get("run", "")
    )
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "dockerfiles", repo / "dockerfiles")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    base = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    changed = repo / "dockerfiles" / change
    changed.write_text(changed.read_text().replace("23.5.2-0", "26.5.3-1") + "\n")
    subprocess.run([*git, "commit", "-qam", "change"], check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text('#!/bin/sh\nprintf "%s\\n" "$@" "::" >> "$DOCKER_LOG"\n')
    (bin_dir / "docker").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "BASE_SHA": base.strip(),
           "DOCKER_LOG": str(tmp_path / "docker.log")}  # fmt: skip
    subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, check=True)
    log = (tmp_path / "docker.log").read_text()
    return [call.strip("\n").splitlines() for call in log.split("::\n") if call.strip()]


def test_ci_builds_a_changed_python_line_from_the_shared_dockerfile_with_its_pins(
    tmp_path: Path,
) -> None:
    [args] = run_images_step(tmp_path, "miniconda3/debian/lines/py310.pins")
    assert args[args.index("-f") + 1] == "dockerfiles/miniconda3/debian/Dockerfile"
    assert args[-1] == "dockerfiles", "the build context of every image (images.yaml)"
    built = [args[i + 1] for i, a in enumerate(args) if a == "--build-arg"]
    assert any(
        a.startswith("INSTALLER_URL_LINUX64=") and "Miniconda3-py310_26.5.3-1-Linux-x86_64" in a
        for a in built
    )
    assert any(a.startswith("SHA256SUM_LINUX64=") for a in built)


def test_ci_builds_every_dockerfile_when_the_shared_install_script_changes(
    tmp_path: Path,
) -> None:
    calls = run_images_step(tmp_path, "install-conda.sh")
    built = sorted(args[args.index("-f") + 1] for args in calls)
    assert built == sorted(
        {image.dockerfile for image in load_catalog(ROOT / "dockerfiles" / "images.yaml").images}
    )
    assert {args[-1] for args in calls} == {"dockerfiles"}
