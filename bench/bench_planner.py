"""Planner figures: in-process planning time and the whole `condabot plan` process.

    python bench/bench_planner.py [--runs N]

1. 50 images x 4 arches against a 10,000-entry listing (synthesized by the real naming
   scheme, synthetic sha256): listing parse, pin reading, planning (+ JSON) timed apart.
   Target: planning under 200 ms.
2. `python -m bot plan` against a loopback mirror of that listing, start to exit, plus the
   import time of its modules (`-X importtime`). Target: under 1 s. The mirror sends
   Last-Modified and no ETag, like a plain static server: after the first run every run
   must cost one conditional request per listing (304) and 0 body bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.catalog import parse_catalog  # noqa: E402
from bot.pins import read_pins  # noqa: E402
from bot.planner import plan, plan_to_json  # noqa: E402
from bot.platforms import BY_ARCH  # noqa: E402
from bot.upstream.listing import parse_listing  # noqa: E402
from tests.support.mirror import Mirror  # noqa: E402

ENTRIES = 10_000  # both directories together
IMAGES = 50
ARCHES = ("x86_64", "aarch64", "ppc64le", "s390x")
FLAVOURS = ("py39", "py310", "py311", "py312", "py313")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC).timestamp()


def sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def versions() -> list[str]:
    return [f"{20 + i // 40}.{(i // 8) % 5 + 1}.{i % 8}-{i % 3}" for i in range(400)]


def synthetic_listing() -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Exactly ENTRIES entries (one of them Anaconda); s390x ends at n=300, ppc64le at 240."""
    entries: dict[str, Any] = {}
    limit = ENTRIES - 1 - len(ARCHES)  # room for the archive entry and the aliases
    used: list[str] = []
    all_versions = versions()
    for n, version in enumerate(all_versions):
        mtime = EPOCH + n * 86400 * 4
        ended = {"s390x"} if n > 300 else set()
        ended |= {"ppc64le"} if n > 240 else set()
        arches = [a for a in ARCHES if a not in ended]
        names = [f"Miniconda3-{py}_{version}-Linux-{a}.sh" for py in FLAVOURS for a in arches]
        names += [f"Miniconda3-{py}_{version}-MacOSX-arm64.pkg" for py in FLAVOURS]
        names += [f"Miniconda3-{py}_{version}-Windows-x86_64.exe" for py in FLAVOURS]
        for name in names:
            if len(entries) >= limit:
                break
            entries[name] = {"mtime": mtime, "sha256": sha(name), "size": 100_000_000}
        used.append(version)
        if len(entries) >= limit:
            break
    newest = used[-2]  # the last fully published release
    for arch in ARCHES:
        target = f"Miniconda3-py313_{newest}-Linux-{arch}.sh"
        if target in entries:
            entries[f"Miniconda3-latest-Linux-{arch}.sh"] = dict(entries[target])
    while len(entries) < ENTRIES - 1:
        entries[f"Miniconda3-py27_4.{len(entries)}.0-Linux-x86_64.sh"] = {
            "mtime": EPOCH, "sha256": sha(str(len(entries))), "size": 1,
        }  # fmt: skip
    archive = {
        "Anaconda3-2023.09-0-Linux-x86_64.sh": {"mtime": EPOCH, "sha256": sha("a"), "size": 1}
    }
    return {"miniconda": entries, "archive": archive}, used


def workload(used: list[str]) -> tuple[str, dict[str, str]]:
    """A catalog of IMAGES images x 4 arches, and each image's Dockerfile text."""
    lines = ["version: 1", "registries: {}", "images:"]
    dockerfiles = {}
    for i in range(IMAGES):
        name = f"image-{i:02d}"
        python = FLAVOURS[i % len(FLAVOURS)]
        version = used[(i * 5) % 230]  # old enough to still have all four arches
        policy = "default" if i % 3 == 0 else python
        lines += [
            f"  - name: {name}",
            "    product: miniconda3",
            f"    dockerfile: dockerfiles/{name}/Dockerfile",
            "    platforms: [linux/amd64, linux/arm64, linux/ppc64le, linux/s390x]",
            f'    python: "{policy}"',
            f"    frozen: {str(i % 10 == 9).lower()}",
            "    bot:",
            f'      min_release_age: "{i % 4 * 7}d"',
            f'      ignore: ["{used[-3]}"]',
        ]
        if i % 4 == 1:
            lines.append(f'      allow: "<{used[200].split("-")[0]}"')  # a plain bump
        blocks = []
        for arch in ARCHES:
            filename = f"Miniconda3-{python}_{version}-Linux-{arch}.sh"
            suffix = BY_ARCH[arch].arg_suffix
            blocks.append(
                f"# renovate: datasource=custom.miniconda_installer\n"
                f'ARG INSTALLER_URL_{suffix}="https://repo.anaconda.com/miniconda/{filename}"\n'
                f'ARG SHA256SUM_{suffix}="{sha(filename)}"\n'
            )
        dockerfiles[name] = "FROM debian:bookworm-slim\n" + "".join(blocks) + "RUN true\n"
    return "\n".join(lines) + "\n", dockerfiles


def timed(function: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    samples, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return min(samples) * 1000, statistics.median(samples) * 1000, result


def in_process(runs: int) -> None:
    documents, used = synthetic_listing()
    catalog_text, dockerfiles = workload(used)
    print(
        f"listing: {sum(len(d) for d in documents.values())} entries; catalog: {IMAGES} images x 4 arches"
    )
    best, median, listing = timed(
        lambda: parse_listing(documents, "https://repo.anaconda.com"), runs
    )
    print(f"  parse listing         best {best:7.1f} ms   median {median:7.1f} ms")
    catalog = parse_catalog(catalog_text)
    best, median, pins = timed(lambda: {n: read_pins(t, n) for n, t in dockerfiles.items()}, runs)
    print(f"  read 50 Dockerfiles   best {best:7.1f} ms   median {median:7.1f} ms")
    best, median, result = timed(lambda: plan(catalog, pins, listing, NOW), runs)
    print(f"  plan                  best {best:7.1f} ms   median {median:7.1f} ms")
    best_j, median_j, _ = timed(
        lambda: json.dumps(plan_to_json(plan(catalog, pins, listing, NOW))), runs
    )
    verdict = "PASS" if median_j < 200 else "FAIL"
    print(f"  plan + JSON           best {best_j:7.1f} ms   median {median_j:7.1f} ms   "
          f"(target < 200 ms: {verdict})")  # fmt: skip
    kinds: dict[str, int] = {}
    for image in result.images:
        kinds[image.kind.value] = kinds.get(image.kind.value, 0) + 1
    print(f"  plan kinds: {dict(sorted(kinds.items()))}")


def whole_process(runs: int) -> None:
    documents, used = synthetic_listing()
    catalog_text, dockerfiles = workload(used)
    mirror = Mirror(etags=False)  # Last-Modified only, like a plain static server
    mirror.start()
    mirror.publish_listings(documents)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in dockerfiles.items():
            (root / "repo" / "dockerfiles" / name).mkdir(parents=True)
            (root / "repo" / "dockerfiles" / name / "Dockerfile").write_text(text)
        (root / "repo" / "dockerfiles" / "images.yaml").write_text(catalog_text)
        command = [
            sys.executable, "-m", "bot", "plan",
            "--catalog", str(root / "repo" / "dockerfiles" / "images.yaml"),
            "--upstream-url", mirror.url,
            "--cache-dir", str(root / "cache"), "--now", NOW.isoformat(),
        ]  # fmt: skip
        try:
            _measure(command, runs, mirror)
        finally:
            mirror.stop()


def _measure(command: list[str], runs: int, mirror: Mirror) -> None:
    samples, traffic = [], []
    for _ in range(runs):
        mirror.hits.clear()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        samples.append(time.perf_counter() - start)
        traffic.append((len(mirror.requests()), mirror.body_bytes()))
        if done.returncode != 0:
            raise SystemExit(f"condabot plan failed ({done.returncode}): {done.stderr}")
    median = statistics.median(samples) * 1000
    verdict = "PASS" if median < 1000 else "FAIL"
    print(f"`condabot plan` process ({runs} runs, warm listing cache after the first): "
          f"best {min(samples) * 1000:.0f} ms, median {median:.0f} ms (target < 1 s: {verdict})")  # fmt: skip
    # The catalog is Miniconda only: one listing, one conditional request once warm.
    warm = traffic[1:]
    cached = all(requests == 1 and body == 0 for requests, body in warm)
    print(f"  upstream traffic (Last-Modified-only mirror): first run {traffic[0][0]} requests, "
          f"{traffic[0][1]} body bytes; warm runs {sorted(set(warm))} (requests, body bytes) "
          f"(target (1, 0): {'PASS' if cached else 'FAIL'})")  # fmt: skip
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    print(f"  bare interpreter start-up: {(time.perf_counter() - started) * 1000:.0f} ms")
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]], cwd=REPO, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    _report_imports(imports.stderr)


def _report_imports(stderr: str) -> None:
    """Self import time summed per top-level package, from `-X importtime` output."""
    totals: dict[str, int] = {}
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        top = parts[2].strip().split(".")[0]
        totals[top] = totals.get(top, 0) + int(parts[0])
    total = sum(totals.values())
    print(f"  imports: {total / 1000:.0f} ms in all; heaviest top-level packages (self time):")
    for name, micros in sorted(totals.items(), key=lambda kv: -kv[1])[:10]:
        print(f"    {name:<20} {micros / 1000:6.1f} ms")
    heavy = sorted({"docker", "github", "boto3", "botocore"} & totals.keys())
    print(f"  heavy SDKs imported by `plan`: {', '.join(heavy) if heavy else 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    in_process(args.runs)
    whole_process(max(3, args.runs // 3))


if __name__ == "__main__":
    main()
