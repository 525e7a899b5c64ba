"""The README's test command sets up what the suite talks to (issue 10): `.ci/components`.

The script runs for real (bash) with the commands it drives replaced by recording stubs on
PATH (`id`, `sudo`, `apt-get`, `docker`, `dockerd`, `systemctl`, `npm`): what it installs,
through what, whether it starts an engine only when none runs, and how it fails under CI.
Then the wiring: `make test` runs it, then the suite; `.ci/run` and the CI workflow call
`make test` and keep their apt line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "components"
REAL_TOOLS = ("bash", "env", "dirname", "seq", "sleep", "tail", "tr", "cat", "mkdir", "touch")


def stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f'#!/bin/bash\necho "{name} $*" >> "$CALLS"\n{body}\n')
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    """A PATH with only the real tools the script needs and nothing it checks for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in REAL_TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(sys.executable)  # a real interpreter, not a shim
    stub(bin_dir, "apt-get", "exit 0")
    return bin_dir


def run(machine: Path, tmp_path: Path, ci: bool = True) -> tuple[int, str, list[str]]:
    calls = tmp_path / "calls"
    calls.touch()
    env = {"PATH": str(machine), "CALLS": str(calls), "HOME": str(tmp_path),
           "CI": "true" if ci else "", "ENGINE": str(tmp_path / "engine")}  # fmt: skip
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    return done.returncode, done.stderr, calls.read_text().splitlines()


def engine(machine: Path) -> None:
    """`docker info` answers once the engine's flag file exists; dockerd makes it. Also git
    and npm, so that only what a test leaves out is missing."""
    stub(machine, "docker", '[ "$1" = info ] && [ -e "$ENGINE" ]')
    stub(machine, "dockerd", 'touch "$ENGINE"')
    stub(machine, "git", "exit 0")
    stub(machine, "npm", "exit 0")


def test_without_root_or_sudo_under_ci_it_fails_naming_what_is_missing(
    machine: Path, tmp_path: Path
) -> None:
    stub(machine, "id", "echo 1000")
    code, err, calls = run(machine, tmp_path)
    assert code == 1
    assert "MISSING packages: apt-get install git docker.io" in err
    assert "apache2-utils" in err and "npm" in err
    assert "MISSING Docker engine" in err and "CI=true: failing" in err
    assert not [c for c in calls if c.startswith("apt-get")], "nothing installed without root"


def test_outside_ci_it_warns_and_lets_the_suite_run(machine: Path, tmp_path: Path) -> None:
    stub(machine, "id", "echo 1000")
    code, err, _ = run(machine, tmp_path, ci=False)
    assert code == 0
    assert "will be skipped, loudly (they fail under CI=true)" in err


def test_as_root_it_installs_what_is_missing_and_starts_the_engine(
    machine: Path, tmp_path: Path
) -> None:
    stub(machine, "id", "echo 0")
    engine(machine)
    (machine / "npm").unlink()  # the one package missing (the apt-get stub installs nothing)
    stub(machine, "htpasswd", "exit 0")
    code, err, calls = run(machine, tmp_path)
    install = [c for c in calls if c.startswith("apt-get") and " install " in c]
    assert len(install) == 1
    assert install[0].endswith("--no-install-recommends ca-certificates npm")
    assert code == 1 and "MISSING GitHub's API descriptions" in err  # the stub made no npm
    started = [c for c in calls if c.startswith("dockerd ")]
    assert started == ["dockerd --storage-driver=overlay2 --iptables=false --ip-forward=false "
                       "--bridge=none"]  # fmt: skip


def test_through_sudo_and_idempotent(machine: Path, tmp_path: Path) -> None:
    stub(machine, "id", "echo 1000")
    stub(machine, "sudo", '[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; "$@"')
    engine(machine)
    (tmp_path / "engine").touch()  # an engine runs already
    for tool in ("htpasswd", "docker-registry", "debootstrap"):
        stub(machine, tool, "exit 0")
    code, err, calls = run(machine, tmp_path)
    assert code == 0, err
    assert not [c for c in calls if c.startswith(("apt-get", "dockerd", "sudo -n env"))]
    # Now take npm away: it is installed through sudo, and nothing else changes.
    (machine / "npm").unlink()
    code, err, calls = run(machine, tmp_path)
    install = [
        c
        for c in calls
        if c.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install")
    ]
    assert len(install) == 1 and install[0].endswith("ca-certificates npm")
    assert not [c for c in calls if c.startswith("dockerd")], "never a second engine"


def test_make_test_runs_the_setup_then_the_suite_and_ci_calls_make_test() -> None:
    dry = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()  # fmt: skip
    assert dry.index("./.ci/components") < next(
        i for i, line in enumerate(dry) if line.endswith("-m pytest")
    )
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert ci_run.rstrip().endswith("make lint\nmake test")
    assert "apt-get install -y -qq --no-install-recommends git make python3 python3-venv" in ci_run
    ci = YAML(typ="safe").load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    test_job = ci["jobs"]["test"]
    assert test_job["env"]["CI"] == "true"
    assert [s["run"] for s in test_job["steps"] if "run" in s] == ["make test"]
