"""Installer verification figures (issue 14): what `bump` downloads to verify what it proposes,
counted at the loopback mirror, per new target.

`condabot bump --local` runs on a copy of this repository's dockerfiles/ against the bundled
listings (stand-in installers of a few KB: the counts carry over to real ones, the bytes scale
with the listed sizes, ~150 MB for Miniconda and ~1 GB for Anaconda).

1. First run: each new target's installers are downloaded once, whatever images share them.
   Target: bytes downloaded = the listed sizes (1.00x), one request per installer.
2. The same change again from a pristine tree with the same cache: 0 requests, 0 bytes.
3. The next upstream release: only its new installers.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.cli import main
from bot.upstream.names import parse_installer_name
from tests.support.mirror import Mirror
from tests.support.upstream_data import add_miniconda_release, current_documents, publish_upstream

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-01T00:00:00Z"


def bump(tree: Path, mirror: Mirror, cache: Path) -> int:
    argv = ["bump", "--local", "--accept-review", "--now", NOW, "--upstream-url", mirror.url,
            "--catalog", str(tree / "dockerfiles" / "images.yaml"), "--cache-dir", str(cache)]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def listed_size(documents: dict[str, dict[str, Any]], path: str) -> int:
    directory, filename = path.strip("/").split("/", 1)
    return int(documents[directory][filename]["size"])


def report(label: str, mirror: Mirror, documents: dict[str, dict[str, Any]]) -> None:
    per_target: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hit in mirror.requests():
        name = parse_installer_name(hit.path.rsplit("/", 1)[-1])
        if name is not None:
            target = f"{name.python}_{name.version}" if name.python else name.version.text
            per_target[target].append((hit.body_bytes, listed_size(documents, hit.path)))
    if not per_target:
        print(f"{label}: 0 installer requests, 0 bytes (target: 0: ok)")
    for target, hits in sorted(per_target.items()):
        fetched, listed = sum(h[0] for h in hits), sum(h[1] for h in hits)
        ratio = fetched / listed
        verdict = "ok" if abs(ratio - 1) < 1e-9 else "MISSED"
        print(f"{label}: new target {target}: {len(hits)} installers verified, {fetched} bytes "
              f"downloaded = {ratio:.2f}x their listed sizes (target 1.00x: {verdict})")  # fmt: skip
    mirror.hits.clear()


def main_bench() -> None:
    mirror = Mirror()
    mirror.start()
    documents = current_documents()
    publish_upstream(mirror, documents)
    with tempfile.TemporaryDirectory() as tmp:
        work, cache = Path(tmp), Path(tmp) / "cache"
        pristine = work / "pristine"
        shutil.copytree(ROOT / "dockerfiles", pristine / "dockerfiles")
        first = shutil.copytree(pristine, work / "first")
        assert bump(first, mirror, cache) == 0
        report("first run (4 images share one Miniconda target)", mirror, documents)
        assert bump(shutil.copytree(pristine, work / "again"), mirror, cache) == 0
        report("same targets again, same cache", mirror, documents)
        add_miniconda_release(documents, "26.6.0-0", "2026-10-20", ("py313", "py314"))
        publish_upstream(mirror, documents)
        assert bump(first, mirror, cache) == 0
        report("next release", mirror, documents)
    mirror.stop()


if __name__ == "__main__":
    main_bench()
