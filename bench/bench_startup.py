"""Start-up figures (issue #11): CPU seconds (user+sys, median of several runs) of

- a bare interpreter, `python -c pass`;
- `condabot --version` and `condabot --help`. Goal: `--version` at most 3x the bare interpreter;
- `condabot plan` on one Dockerfile (no catalog: the image is discovered) against a loopback
  mirror of the upstream listings, warm cache (one conditional request per listing). Goal: at
  most 1/25 of Renovate's CPU on the same job.

    python -m bench.bench_startup [--runs N] [--renovate-cpu SECONDS]

CPU is read with getrusage(RUSAGE_CHILDREN) around each run, so it counts the child only,
never this process nor the mirror's threads; wall time on a shared machine would not do.
The children may write bytecode (PYTHONDONTWRITEBYTECODE is dropped), as an installed
condabot has: a warm-up run of each writes it, so no measured run compiles source.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.mirror import Mirror  # noqa: E402
from tests.support.upstream_data import current_documents  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
NOW = "2026-12-31T00:00:00+00:00"  # fixed: every run plans the same thing
DOCKERFILE = REPO / "tests" / "golden" / "miniconda3-debian.Dockerfile"

# Renovate on the same job, measured by bench/bench_renovate.py (`make bench-renovate`:
# Renovate 42.99.0 on Node 22, local platform, lookup dry run, the same Dockerfile and mirror):
# the median of five sets of 5 warm runs on the project's 2-CPU machine. Pass --renovate-cpu
# with a fresh figure from that script on another machine.
RENOVATE_CPU = 3.08
RENOVATE_SOURCE = "measured by bench_renovate.py, Renovate 42.99.0"


def cpu_seconds(command: list[str], cwd: Path) -> float:
    """User+sys CPU of one run of `command` (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(command: list[str], cwd: Path, runs: int) -> float:
    cpu_seconds(command, cwd)  # warm-up: bytecode caches, the listing cache, the page cache
    return statistics.median(cpu_seconds(command, cwd) for _ in range(runs))


def condabot() -> list[str]:
    """The console script users run, else `python -m bot`."""
    script = Path(sys.executable).with_name("condabot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def plan_command(root: Path, mirror: Mirror) -> list[str]:
    dockerfile = root / "repo" / "dockerfiles" / "miniconda3" / "debian" / "Dockerfile"
    dockerfile.parent.mkdir(parents=True)
    shutil.copyfile(DOCKERFILE, dockerfile)
    return [
        *condabot(), "plan", "--root", str(root / "repo"), "--upstream-url", mirror.url,
        "--cache-dir", str(root / "cache"), "--now", NOW,
    ]  # fmt: skip


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--renovate-cpu",
        type=float,
        default=RENOVATE_CPU,
        metavar="SECONDS",
        help="Renovate's user+sys CPU on the same job (default: the recorded figure)",
    )
    args = parser.parse_args()
    mirror = Mirror()
    mirror.start()
    mirror.publish_listings(current_documents())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "condabot --version": [*condabot(), "--version"],
                "condabot --help": [*condabot(), "--help"],
                "condabot plan (1 Dockerfile)": plan_command(Path(tmp), mirror),
            }
            cpu = {name: median_cpu(command, REPO, args.runs) for name, command in figures.items()}
            mirror.hits.clear()
            cpu_seconds(figures["condabot plan (1 Dockerfile)"], REPO)
            asked = [f"{h.path} {h.status}" for h in mirror.requests()]
    finally:
        mirror.stop()
    report(cpu, args.runs, args.renovate_cpu)
    print(f"  requests of one warm plan: {len(asked)} ({', '.join(asked)}); Renovate's: 1")


def report(cpu: dict[str, float], runs: int, renovate: float) -> None:
    bare = cpu["python -c pass"]
    print(f"start-up CPU, user+sys, median of {runs} runs:")
    for name, seconds in cpu.items():
        print(f"  {name:<30} {seconds * 1000:7.1f} ms   {seconds / bare:5.1f}x bare")
    version = cpu["condabot --version"] / bare
    print(f"  --version / bare = {version:.1f} (goal <= 3: {verdict(version <= 3)})")
    plan = cpu["condabot plan (1 Dockerfile)"]
    source = RENOVATE_SOURCE if renovate == RENOVATE_CPU else "--renovate-cpu"
    share = renovate / plan
    print(
        f"  Renovate on the same job: {renovate:.2f} s ({source}); plan is 1/{share:.1f} of it "
        f"(goal 1/25 or less, {renovate / 25 * 1000:.0f} ms: {verdict(share >= 25)})"
    )


if __name__ == "__main__":
    main()
