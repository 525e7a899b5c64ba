"""Using condabot from another repository (issue 10): the composite actions take the root and
the catalog, run `condabot doctor` first, and the README's adoption section and catalog
table say exactly what the workflows and the schema do.

The bump action's own script runs for real (bash, the installed `condabot`) against the
GitHub stand-in and the upstream mirror on a copy of the Anaconda-layout fixture with no
catalog; the rest reads the workflow files and the README as GitHub and a reader would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.catalog import keys_table
from tests.support.bump_world import BOT_TOKEN, BumpWorld
from tests.support.github_standin import GitHubStandin
from tests.support.mirror import Mirror

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = ROOT / "workflows"
WORKFLOWS = ROOT / ".github" / "workflows"
LAYOUT = ROOT / "tests" / "fixtures" / "anaconda-layout"
README = (ROOT / "README.md").read_text()


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def run_step(action: str, name: str) -> dict[str, Any]:
    steps = load(ACTIONS / action / "action.yml")["runs"]["steps"]
    return next(s for s in steps if s.get("name") == name)


def bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run an action's `run:` script as the runner does (bash -e), with the bot on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", script], env={**os.environ, **env, "PATH": path}, cwd=cwd,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


# -- the actions --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["setup-bot", "bump"])
def test_the_actions_take_the_root_and_the_catalog(action: str) -> None:
    inputs = load(ACTIONS / action / "action.yml")["inputs"]
    assert inputs["root"]["default"] == "."
    assert inputs["catalog"]["default"] == ""  # empty: the default path, discovered if absent
    steps = load(ACTIONS / action / "action.yml")["runs"]["steps"]
    runs = [s for s in steps if "condabot" in s.get("run", "") and "--version" not in s["run"]]
    for step in runs:
        assert step["env"]["CONDABOT_ROOT"] == "${{ inputs.root }}"
        assert step["env"]["CONDABOT_CATALOG"] == "${{ inputs.catalog }}"


def test_the_bump_action_runs_doctor_then_bumps_a_repository_without_a_catalog(
    github_server: GitHubStandin, mirror: Mirror, tmp_path: Path
) -> None:
    files = {str(p.relative_to(LAYOUT)): p.read_bytes() for p in LAYOUT.rglob("*") if p.is_file()}
    github_server.create_repo("ContinuumIO", "docker-images-adoption", files)
    world = BumpWorld(github_server, mirror, "ContinuumIO", "docker-images-adoption", tmp_path)
    world.refresh()
    step = run_step("bump", "Bump installer pins")
    env = {
        "GITHUB_TOKEN": "", "CONDABOT_REPOSITORY": world.full_name, "CONDABOT_DRY_RUN": "false",
        "CONDABOT_UPSTREAM_URL": mirror.url, "CONDABOT_ROOT": str(world.clone),
        "CONDABOT_CATALOG": "", "CONDABOT_SCHEMA_URL": "", "CONDABOT_ONBOARDING": "true",
        "GITHUB_API_URL": github_server.base_url,
        "HOME": str(tmp_path / "home"),
    }  # fmt: skip
    refused = bash(step["run"], env, tmp_path)
    assert refused.returncode == 15, refused.stderr  # doctor --for bump: no token, no run
    assert "error credentials: bump: GitHub token (GITHUB_TOKEN): none found" in refused.stdout
    assert not github_server.writes()

    done = bash(step["run"], {**env, "GITHUB_TOKEN": BOT_TOKEN}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.index("ok    credentials: bump:") < done.stdout.index("opened")
    pulls = github_server.get_json(f"/repos/{world.full_name}/pulls?state=open")
    assert {p["head"]["ref"] for p in pulls} == {
        "condabot/anaconda3-amazonlinux", "condabot/anaconda3-debian", "condabot/miniconda3-debian",
        "condabot/onboarding",
    }  # fmt: skip
    assert bash(step["run"], {**env, "GITHUB_TOKEN": BOT_TOKEN, "CONDABOT_ONBOARDING": "false"},
                tmp_path).returncode == 0  # fmt: skip
    assert (tmp_path / "home" / ".cache" / "condabot").is_dir()  # what the cache step keeps


def test_setup_bots_doctor_fails_fast_on_a_broken_catalog(tmp_path: Path) -> None:
    repo = tmp_path / "images"
    shutil.copytree(LAYOUT, repo)
    step = run_step("setup-bot", "Check the repository (condabot doctor)")
    env = {"CONDABOT_ROOT": str(repo), "CONDABOT_CATALOG": ""}
    assert bash(step["run"], env, tmp_path).returncode == 0  # discovered: fine
    (repo / "condabot.yaml").write_text("version: 1\nimages: []\n")
    broken = bash(step["run"], {**env, "CONDABOT_CATALOG": "condabot.yaml"}, tmp_path)
    assert broken.returncode == 3
    assert broken.stdout.startswith("error catalog: ")
    assert "condabot.yaml:2: images: must be a non-empty list" in broken.stdout


# -- the README says what the files do ------------------------------------------------------


def test_the_catalog_table_is_the_schemas() -> None:
    assert keys_table() in section("The catalog"), (
        "regenerate the README's table: python -c 'from bot.catalog import keys_table; "
        "print(keys_table())'"
    )


def test_every_secret_variable_and_environment_the_workflows_read_is_documented() -> None:
    adoption = section("Using condabot in your own image repository")
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `(\w+)` \| (\w+) \|", adoption, re.M)}
    for name in ("bump.yml", "release.yml"):
        text = (WORKFLOWS / name).read_text()
        for kind, found in (("secret", "secrets"), ("variable", "vars")):
            for used in set(re.findall(rf"\b{found}\.(\w+)", text)):
                assert rows.get(used) == kind, f"{name} reads {found}.{used}"
        for job in load(WORKFLOWS / name)["jobs"].values():
            if "environment" in job:
                assert rows.get(job["environment"]) == "environment"
    for name in ("DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN", "AWS_ROLE_ARN", "AWS_REGION",
                 "CONDABOT_APP_ID", "CONDABOT_APP_PRIVATE_KEY", "release"):  # fmt: skip
        assert name in rows
    assert '"ecr:GetAuthorizationToken"' in adoption and ":environment:release" in adoption
    for permission in ("Contents: Read\nand write", "Pull requests: Read and write",
                       "Issues: Read and write"):  # fmt: skip
        assert permission in adoption


def test_the_readme_bump_workflow_calls_the_actions_as_they_are() -> None:
    adoption = section("Using condabot in your own image repository")
    block = re.search(r"```yaml\n(name: condabot bump\n.*?)```", adoption, re.S)
    assert block, "the bump workflow to copy"
    document = YAML(typ="safe").load(block[1])
    ours = {s.get("uses"): s for s in load(WORKFLOWS / "bump.yml")["jobs"]["bump"]["steps"]}
    steps = document["jobs"]["bump"]["steps"]
    assert document["jobs"]["bump"]["permissions"] == load(WORKFLOWS / "bump.yml")["jobs"][
        "bump"]["permissions"]  # fmt: skip
    for step in steps:
        uses = step["uses"]
        match = re.fullmatch(r"OWNER/condabot/workflows/([\w-]+)@<sha>", uses)
        if match is None:
            assert uses in ours, f"{uses}: not the pin this repository uses"
            continue
        declared = load(ACTIONS / match[1] / "action.yml")["inputs"]
        given = set(step.get("with", {}))
        assert given <= set(declared), given - set(declared)
        assert {k for k, v in declared.items() if v.get("required")} <= given


@pytest.mark.parametrize("action", ["setup-bot", "bump"])
def test_the_inputs_table_lists_every_input(action: str) -> None:
    adoption = section("Using condabot in your own image repository")
    documented = {
        name.strip("` ")
        for row in re.findall(rf"^\| `{action}` \| ([^|]+) \|", adoption, re.M)
        for name in row.split(",")
    }
    assert documented == set(load(ACTIONS / action / "action.yml")["inputs"])


def test_the_release_workflow_uses_only_actions_of_this_repository() -> None:
    """The README's recipe: replace each `./workflows/<name>` with OWNER/condabot/...@<sha>."""
    release = load(WORKFLOWS / "release.yml")
    used = {
        s["uses"] for job in release["jobs"].values() for s in job["steps"]
        if s.get("uses", "").startswith("./")
    }  # fmt: skip
    names = {u.removeprefix("./workflows/") for u in used}
    assert all(u.startswith("./workflows/") for u in used)
    assert all((ACTIONS / n / "action.yml").is_file() for n in names)
    adoption = section("Using condabot in your own image repository")
    recipe = adoption[adoption.index("**The release workflow**") :]
    assert all(f"`{n}`" in recipe[:600] for n in names), names
