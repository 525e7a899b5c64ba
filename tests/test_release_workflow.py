"""The release workflow's wiring, run for real where it is a script: each step's `run:` is
executed by bash with the environment the workflow gives it, and `condabot`, `cosign` and
friends are recording stand-ins on PATH (no OIDC, no registry credentials and no network
exist here, so the signing and attestation actions themselves cannot run)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import docker
import pytest
from ruamel.yaml import YAML

from tests.harness.registry import Registries
from tests.support.release_world import SmallRepo, _git

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
    from bot.cli import build_parser

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
            args = build_parser("release").parse_args(["release", "plan", "--tag", "x-1.0"])
        finally:
            del os.environ["CONDABOT_GITHUB_RELEASE"]
        assert args.github_release is expected, value


# -- signing and provenance: exactly the published digests ------------------------------------


def test_the_sign_job_takes_its_matrix_from_what_publish_published() -> None:
    jobs = workflow()["jobs"]
    publish, sign = jobs["publish"], jobs["sign"]
    assert publish["outputs"]["subjects"] == "${{ steps.publish.outputs.subjects }}"
    used = next(s for s in publish["steps"] if s.get("uses") == "./workflows/publish")
    assert used["id"] == "publish"
    action = load(ROOT / "workflows/publish/action.yml")
    assert action["outputs"]["subjects"]["value"] == "${{ steps.publish.outputs.subjects }}"
    assert action_step("publish", "Publish")["id"] == "publish"
    assert "--github-output" in action_step("publish", "Publish")["run"]
    assert sign["needs"] == "publish"
    assert sign["strategy"]["matrix"] == "${{ fromJSON(needs.publish.outputs.subjects) }}"
    assert sign["permissions"] == {
        "contents": "read", "id-token": "write", "attestations": "write",
    }  # fmt: skip
    steps = {s.get("name") or s["uses"].split("@")[0]: s for s in sign["steps"]}
    assert "sigstore/cosign-installer" in steps
    cosign = steps["Sign the published digest (keyless; its platform images too)"]
    assert cosign["env"] == {"IMAGE": "${{ matrix.name }}", "DIGEST": "${{ matrix.digest }}"}
    attest = steps["Record build provenance, pushed to the registry"]
    assert attest["uses"].startswith("actions/attest-build-provenance@")
    assert attest["with"] == {
        "subject-name": "${{ matrix.name }}",
        "subject-digest": "${{ matrix.digest }}",
        "push-to-registry": True,
    }
    # Only matrix.name and matrix.digest name what is signed: nothing else can slip in.
    expressions = re.findall(r"matrix\.(\w+)", str(cosign) + str(attest))
    assert set(expressions) == {"name", "digest"}


def test_exactly_the_published_digests_reach_cosign_and_the_attestation(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    small_repo: SmallRepo,
    release_env: Registries,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Publish for real (two images, two registries), read the `subjects` output the sign
    job's matrix is made of, and run the sign step of every cell with a recording cosign."""
    from tests.test_release_publish import clients, publish, stage

    small_repo.twin = True
    small_repo.init_catalog()
    tag = small_repo.release("26.5.3-1").replace("small-", "miniconda3-")
    _git(small_repo.root, "tag", tag)
    plan = stage(capsys, docker_client, small_repo, tag)
    output = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    code, _, err = publish(capsys, small_repo, tag, "--github-output")
    assert code == 0, err
    (line,) = output.read_text().splitlines()
    matrix = json.loads(line.removeprefix("subjects="))
    published = set()
    for image in plan.images:
        for target in image.targets:
            _, client = clients(release_env)[target.registry]
            digest = client.manifest_digest(target.repository, image.all_tags[0].name)
            published.add((f"{target.host}/{target.repository}", digest))
    cells = matrix["include"]
    assert len(cells) == 4 and {(c["name"], c["digest"]) for c in cells} == published
    assert {c["kind"] for c in cells} == {"dockerhub", "ecr"}
    bin_dir = recorder(tmp_path, "cosign")
    script = step("sign", "Sign the published digest")["run"]
    for cell in cells:
        done = run_script(script, {"IMAGE": cell["name"], "DIGEST": cell["digest"]}, bin_dir)
        assert done.returncode == 0, done.stderr
    signed = calls(tmp_path, "cosign")
    assert signed == [["sign", "--yes", "--recursive", f"{c['name']}@{c['digest']}"] for c in cells]


def test_docker_hub_subjects_are_named_as_cosign_and_attestations_resolve_them() -> None:
    from bot.release.plan import Target
    from bot.release.publish import subject_name

    hub = Target("dockerhub", "dockerhub", "docker.io", "condabot/miniconda3")
    ecr = Target("ecr", "ecr", "1.dkr.ecr.us-east-1.amazonaws.com", "condabot/miniconda3")
    assert subject_name(hub) == "index.docker.io/condabot/miniconda3"
    assert subject_name(ecr) == "1.dkr.ecr.us-east-1.amazonaws.com/condabot/miniconda3"


def test_publish_sets_ecr_immutability_before_it_writes_a_tag(tmp_path: Path) -> None:
    steps = load(ROOT / "workflows/publish/action.yml")["runs"]["steps"]
    names = [s["name"] for s in steps]
    protect = action_step("publish", "Build tags immutable")
    assert names.index(protect["name"]) < names.index("Publish, verify, report")
    bin_dir = recorder(tmp_path, "condabot")
    done = run_script(protect["run"], {"RELEASE_TAG": "miniconda3-26.5.3-1"}, bin_dir)
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path, "condabot") == [["release", "protect", "--tag", "miniconda3-26.5.3-1"]]
