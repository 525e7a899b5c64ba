"""Renovate's CPU (user+sys, median of several warm runs) on the job bench_startup measures for
condabot: `condabot plan` on one Dockerfile (tests/golden/miniconda3-debian.Dockerfile as
dockerfiles/miniconda3/debian/Dockerfile) against a loopback mirror of the upstream listings.

    python -m bench.bench_renovate [--runs N] [--keep]

Not part of `make test` or CI: it installs a pinned Renovate (and, since Renovate 42 needs
Node 22 or 24, a pinned Node from its npm package) into .cache/renovate-bench when missing,
which takes a few minutes and needs the npm registry; everything after that is loopback only.

Renovate runs as a user would run it on this job: `--platform=local --dry-run=lookup` in a
scratch git repository holding the Dockerfile and a renovate.json with a custom datasource
`custom.miniconda_installer` (the `# renovate:` comment the Dockerfiles carry) that reads the
mirror's /miniconda/.files.json and turns it into releases with their sha256 as digest, and
a regex manager that reads each `ARG INSTALLER_URL_<ARCH>` / `ARG SHA256SUM_<ARCH>` pair.
Only that manager is enabled, nothing is extended (no preset is fetched), onboarding is
off: the one request Renovate sends per run is the listing, to the mirror.

The Python line is regex versioning's `compatibility`, as in the preset renovate/images.json,
so Renovate keeps py311 where condabot's plan moves to the default flavour and drops s390x:
the lookups are the same (one listing, three installers, versions and sha256), the policy is
condabot's own. All arches are grouped into one update, as condabot bumps an image at once.

CPU is read with getrusage(RUSAGE_CHILDREN) around each run, as bench_startup does, so it
counts the whole `node renovate` process tree (its git children too) and never this process
nor the mirror's threads. Peak RSS is the largest single process of any measured run.

Measured on the project's 2-CPU machine: medians 2.94 to 3.10 s over five sets of 5 runs
(3.08 s the median of them), peak RSS about 400 MiB; `renovate --version` alone takes 2.16 s,
so most of it is Renovate's start-up. Renovate fetches the listing in full on every run (its
custom datasource keeps no HTTP cache), where condabot's warm run gets a 304.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.mirror import Mirror  # noqa: E402
from tests.support.upstream_data import current_documents  # noqa: E402

RENOVATE_VERSION = "42.99.0"
NODE_VERSION = "22.23.3"  # Renovate 42 asks for Node ^22.13 or ^24.11
INSTALL_DIR = REPO / ".cache" / "renovate-bench"
DOCKERFILE = REPO / "tests" / "golden" / "miniconda3-debian.Dockerfile"
LISTING = "/miniconda/.files.json"

# The listing is {filename: {mtime, sha256, size}}; a release per `Miniconda3-<version>-<arch>.sh`
# of this dependency's arch (its packageName, e.g. Linux-x86_64), with its sha256 as digest.
TRANSFORM = (
    '{"releases": [$keys($)[$match($, /^Miniconda3-py[0-9]+_[0-9.]+-[0-9]+-{{packageName}}[.]sh$/)]'
    ".($f := $; $e := $lookup($$, $f); {"
    '"version": $replace($f, /^Miniconda3-(py[0-9]+_[0-9.]+-[0-9]+)-.*$/, "$1"), '
    '"digest": $e.sha256, "releaseTimestamp": $fromMillis($round($e.mtime * 1000))})]}'
)
MATCH = (
    r"# renovate: datasource=(?<datasource>custom\.miniconda_installer)\n"
    r'ARG INSTALLER_URL_[A-Z0-9]+="https://repo\.anaconda\.com/miniconda/'
    r'Miniconda3-(?<currentValue>py[0-9]+_[0-9.]+-[0-9]+)-(?<packageName>Linux-[a-z0-9_]+)\.sh"\n'
    r'ARG SHA256SUM_[A-Z0-9]+="(?<currentDigest>[0-9a-f]{64})"'
)
VERSIONING = (
    r"regex:^py(?<compatibility>[0-9]+)_(?<major>[0-9]+)\.(?<minor>[0-9]+)\.(?<patch>[0-9]+)"
    r"-(?<build>[0-9]+)$"
)


def renovate_config(mirror_url: str) -> dict[str, Any]:
    return {
        "enabledManagers": ["custom.regex"],
        "customDatasources": {
            "miniconda_installer": {
                "defaultRegistryUrlTemplate": mirror_url + LISTING,
                "format": "json",
                "transformTemplates": [TRANSFORM],
            }
        },
        "customManagers": [
            {
                "customType": "regex",
                "managerFilePatterns": ["/(^|/)Dockerfile$/"],
                "matchStrings": [MATCH],
                "depNameTemplate": "miniconda3-{{{packageName}}}",
                "versioningTemplate": VERSIONING,
            }
        ],
        "separateMajorMinor": False,
        "groupName": "miniconda installers",
    }


# -- install -------------------------------------------------------------------------------


def node_package() -> str:
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine())
    if sys.platform != "linux" or arch is None:
        raise SystemExit(f"no Node package for {sys.platform}/{platform.machine()}")
    return f"node-linux-{arch}"


def node_dir(install_dir: Path) -> Path:
    return install_dir / "node_modules" / node_package()


def renovate_js(install_dir: Path) -> Path:
    return install_dir / "node_modules" / "renovate" / "dist" / "renovate.js"


def installed_version(install_dir: Path) -> str | None:
    manifest = install_dir / "node_modules" / "renovate" / "package.json"
    if not manifest.exists() or not (node_dir(install_dir) / "bin" / "node").exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


def install(install_dir: Path) -> None:
    """npm install, scripts off (none may fetch from elsewhere), then build RE2, Renovate's
    regex engine, against the pinned Node's own headers; without it Renovate falls back to
    JavaScript RegExp and says so."""
    if installed_version(install_dir) == RENOVATE_VERSION:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found: it is needed once, to install Renovate")
    install_dir.mkdir(parents=True, exist_ok=True)
    (install_dir / "package.json").write_text('{"private": true}\n')
    started = time.monotonic()
    packages = [f"renovate@{RENOVATE_VERSION}", f"{node_package()}@{NODE_VERSION}"]
    print(f"installing {' '.join(packages)} into {install_dir} ...", flush=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", *packages],
        cwd=install_dir,
        check=True,
    )
    node = node_dir(install_dir)
    gyp = install_dir / "node_modules" / "node-gyp" / "bin" / "node-gyp.js"
    built = subprocess.run(
        [str(node / "bin" / "node"), str(gyp), "rebuild", "-j", "max", f"--nodedir={node}"],
        cwd=install_dir / "node_modules" / "re2",
        env=node_env(install_dir, {"HOME": os.environ.get("HOME", str(install_dir))}),
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        print(f"RE2 did not build (Renovate will use RegExp): {built.stderr[-400:]}")
    print(f"installed in {time.monotonic() - started:.0f} s", flush=True)


def node_env(install_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    path = f"{node_dir(install_dir) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return {"PATH": path, "LANG": "C.UTF-8", **extra}


# -- the job -------------------------------------------------------------------------------


def scratch_repo(root: Path, mirror_url: str) -> Path:
    repo = root / "repo"
    dockerfile = repo / "dockerfiles" / "miniconda3" / "debian" / "Dockerfile"
    dockerfile.parent.mkdir(parents=True)
    shutil.copyfile(DOCKERFILE, dockerfile)
    (repo / "renovate.json").write_text(json.dumps(renovate_config(mirror_url), indent=2) + "\n")
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], [*ident, "commit", "-q", "-m", "job"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def renovate_command(install_dir: Path, report: Path) -> list[str]:
    return [
        str(node_dir(install_dir) / "bin" / "node"), str(renovate_js(install_dir)),
        "--platform=local", "--dry-run=lookup", "--onboarding=false",
        "--require-config=optional", "--report-type=file", f"--report-path={report}",
    ]  # fmt: skip


def run(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, float]:
    """User+sys CPU seconds and peak RSS (MiB) of one run, which must succeed. CPU is the
    RUSAGE_CHILDREN difference around it; the peak is wait4's ru_maxrss of this child, the
    largest process of its tree (RUSAGE_CHILDREN's would keep npm's from the install)."""
    with log.open("wb") as output:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode != 0:
        text = log.read_text(errors="replace")
        raise SystemExit(f"renovate failed ({child.returncode}): {text[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, usage.ru_maxrss / 1024  # KiB on Linux


def found(report: Path) -> tuple[list[str], list[str]]:
    """One phrase per dependency (`x86_64 py311_23.5.1-0 -> py311_26.5.3-1`), and the
    problems Renovate reported other than the RE2 fallback."""
    data = json.loads(report.read_text())
    local = data["repositories"]["local"]
    phrases = []
    for package_file in local["packageFiles"].get("regex", []):
        for dep in package_file["deps"]:
            arch = dep["packageName"].removeprefix("Linux-")
            updates = [
                f"{u['newValue']} ({u['updateType']}, sha256 {u['newDigest'][:12]})"
                for u in dep.get("updates", [])
            ]
            phrases.append(f"{arch} {dep['currentValue']} -> {', '.join(updates) or 'none'}")
    problems = [
        p.get("msg", "?")
        for p in data.get("problems", []) + local.get("problems", [])
        if "RE2" not in p.get("msg", "")
    ]
    return phrases, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--install-dir", type=Path, default=INSTALL_DIR)
    parser.add_argument("--log-level", default="info", help="Renovate's LOG_LEVEL (default info)")
    parser.add_argument("--log", type=Path, help="keep the last run's Renovate log (JSON lines)")
    args = parser.parse_args()
    args.install_dir = args.install_dir.resolve()
    install(args.install_dir)
    version = installed_version(args.install_dir)
    mirror = Mirror()
    mirror.start()
    mirror.publish_listings(current_documents())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            repo = scratch_repo(root, mirror.url)
            report = root / "report.json"
            env = node_env(
                args.install_dir,
                {
                    "HOME": str(root),
                    "LOG_LEVEL": args.log_level,
                    "LOG_FORMAT": "json",
                    "RENOVATE_BASE_DIR": str(root / "base"),
                },
            )
            command = renovate_command(args.install_dir, report)
            log = root / "renovate.log"
            run(command, repo, env, log)  # warm-up: page cache, Renovate's cache dir
            mirror.hits.clear()
            measured = [run(command, repo, env, log) for _ in range(args.runs)]
            if args.log:
                shutil.copyfile(log, args.log)
            phrases, problems = found(report)
    finally:
        mirror.stop()
    cpu = [seconds for seconds, _ in measured]
    peak = max(rss for _, rss in measured)
    listing = [h for h in mirror.hits if h.path == LISTING]
    other = [h.path for h in mirror.hits if h.path != LISTING]
    print(f"Renovate {version} on Node {NODE_VERSION}, --platform=local --dry-run=lookup:")
    print(f"  CPU user+sys, median of {args.runs} warm runs: {statistics.median(cpu):.2f} s")
    print(f"  runs: {', '.join(f'{c:.2f}' for c in cpu)} s; peak RSS {peak:.0f} MiB")
    statuses = sorted({h.status for h in listing})
    print(f"  mirror: {len(listing)} GET {LISTING} (status {statuses}), other requests: {other}")
    print(f"  found: {'; '.join(phrases)}")
    if problems:
        print(f"  problems: {problems}")
    if not any("->" in p and "none" not in p for p in phrases) or not listing:
        raise SystemExit("Renovate did not look the installers up from the mirror")


if __name__ == "__main__":
    main()
