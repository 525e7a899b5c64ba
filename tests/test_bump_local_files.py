"""`bump --local` on disk: a kill -9 at any file operation, then a rerun, ends where an
uninterrupted run ends; symlinked and read-only Dockerfiles.

The runs are real `python -m bot` processes against the loopback upstream mirror. They are
stopped deterministically by bot.files' test-only hook `CONDABOT_TEST_CRASH_AFTER=N`, which
makes it SIGKILL itself right after its Nth file operation (create, write, rename, remove).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.mirror import Mirror
from tests.support.upstream_data import current_documents
from tests.test_planner import dockerfile, miniconda_pins

GOLDEN = Path(__file__).parent / "golden"
NOW = "2025-06-01T00:00:00Z"  # py311_25.3.1-1 is out and has no s390x installer

# `a` (two images, one Dockerfile) drops s390x from its Dockerfile and the catalog; `b` is a
# plain bump of another Dockerfile. One listing is block style, one flow style.
CATALOG = """\
# The test tree's catalog.
version: 1
registries: {}
images:
  - name: a
    product: miniconda3
    dockerfile: dockerfiles/a/Dockerfile
    platforms:
      - linux/amd64
      - linux/arm64
      - linux/s390x   # ends with 25.1.1-2
    python: py311
  - name: a-usrlocal
    product: miniconda3
    dockerfile: dockerfiles/a/Dockerfile
    platforms: [linux/amd64, linux/s390x, linux/arm64]
    python: py311
  - name: b
    product: miniconda3
    dockerfile: dockerfiles/b/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    python: py311
"""


def make_tree(root: Path) -> Path:
    (root / "dockerfiles" / "a").mkdir(parents=True)
    (root / "dockerfiles" / "b").mkdir()
    (root / "dockerfiles" / "images.yaml").write_text(CATALOG)
    shutil.copy(GOLDEN / "miniconda3-debian.Dockerfile", root / "dockerfiles/a/Dockerfile")
    pins = miniconda_pins("py311", "24.1.2-0", ("x86_64", "aarch64"))
    (root / "dockerfiles/b/Dockerfile").write_text(dockerfile(pins, current_documents()))
    subprocess.run(["git", "init", "-q", str(root)], check=True)  # a checkout, as users have
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def temporaries(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.tmp"))


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def bump(root: Path, mirror: Mirror, cache: Path, crash_after: int | None = None) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "CONDABOT_TEST_CRASH_AFTER"}
    if crash_after is not None:
        env["CONDABOT_TEST_CRASH_AFTER"] = str(crash_after)
    options = ["--catalog", str(root / "dockerfiles" / "images.yaml"), "--now", NOW]
    options += ["--accept-review"]  # dropping s390x needs review (exit 17); here: the files
    options += ["--upstream-url", mirror.url, "--cache-dir", str(cache)]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "bump", "--local", *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def original(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "original")


def test_a_kill_at_any_file_operation_converges_on_the_rerun(
    mirror: Mirror, original: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    start = snapshot(original)
    clean = shutil.copytree(original, tmp_path / "clean", symlinks=True)
    first = bump(clean, mirror, cache)
    final = snapshot(clean)
    second = bump(clean, mirror, cache)
    assert final != start and first.code != -signal.SIGKILL, first.err
    changed = sorted(k for k in final if final[k] != start[k])
    assert changed == [
        "dockerfiles/a/Dockerfile",
        "dockerfiles/b/Dockerfile",
        "dockerfiles/images.yaml",
    ]
    assert snapshot(clean) == final and temporaries(clean) == []

    states = []
    for point in range(1, 100):
        tree = shutil.copytree(original, tmp_path / f"kill-{point}", symlinks=True)
        killed = bump(tree, mirror, cache, crash_after=point)
        if killed.code != -signal.SIGKILL:
            assert (killed.code, snapshot(tree)) == (first.code, final), killed.err
            break
        state = snapshot(tree)
        states.append(state)
        # Even right after the kill, nothing of ours sits in a build context: the temporary
        # file went to .git, on the same file system.
        assert [t for t in temporaries(tree) if not t.startswith(".git/")] == [], point
        # A second kill, during the rerun, at the same point: recovery must survive it too.
        if bump(tree, mirror, cache, crash_after=point).code == -signal.SIGKILL:
            state = snapshot(tree)
        rerun = bump(tree, mirror, cache)
        expected = second if state == final else first
        assert rerun.code == expected.code, f"kill after operation {point}: {rerun.err}"
        assert snapshot(tree) == final, f"kill after operation {point}"
        assert temporaries(tree) == [], f"kill after operation {point}"
    # Every file operation was a kill point, and some left the tree half-applied.
    assert len(states) >= 3 * len(changed)
    assert any(s != start and s != final for s in states)


def test_a_symlinked_dockerfile_is_written_through_to_its_target(
    mirror: Mirror, original: Path, tmp_path: Path
) -> None:
    clean = shutil.copytree(original, tmp_path / "clean")
    assert bump(clean, mirror, tmp_path / "cache").code == 0
    rewritten = (clean / "dockerfiles/a/Dockerfile").read_bytes()
    # a's Dockerfile is a link into a shared folder; a-usrlocal's is a link to a's.
    shared = original / "shared" / "miniconda3.Dockerfile"
    shared.parent.mkdir()
    (original / "dockerfiles/a/Dockerfile").rename(shared)
    (original / "dockerfiles/a/Dockerfile").symlink_to("../../shared/miniconda3.Dockerfile")
    (original / "dockerfiles/c").mkdir()
    (original / "dockerfiles/c/Dockerfile").symlink_to("../a/Dockerfile")
    catalog = original / "dockerfiles/images.yaml"
    flow = "dockerfiles/{}/Dockerfile\n    platforms: ["
    catalog.write_text(catalog.read_text().replace(flow.format("a"), flow.format("c")))

    done = bump(original, mirror, tmp_path / "cache")
    assert done.code == 0, done.err
    assert (
        os.readlink(original / "dockerfiles/a/Dockerfile") == "../../shared/miniconda3.Dockerfile"
    )
    assert os.readlink(original / "dockerfiles/c/Dockerfile") == "../a/Dockerfile"
    assert shared.read_bytes() == rewritten
    assert "wrote shared/miniconda3.Dockerfile, " in done.err
    assert temporaries(original) == []


@pytest.mark.parametrize(
    ("read_only", "code"), [("dockerfiles/b/Dockerfile", 6), ("dockerfiles/images.yaml", 3)]
)
def test_a_read_only_file_is_refused_and_nothing_is_written(
    mirror: Mirror,
    original: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    read_only: str,
    code: int,
) -> None:
    path = original / read_only
    path.chmod(0o444)
    before, inode = snapshot(original), path.stat().st_ino
    argv = ["bump", "--local", "--catalog", str(original / "dockerfiles/images.yaml")]
    argv += ["--upstream-url", mirror.url, "--cache-dir", str(tmp_path / "c"), "--now", NOW]
    assert main(argv) == code
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"condabot: error: {read_only} is read-only; condabot never replaces a read-only "
        f"file: make it writable (chmod u+w {read_only}) and rerun"
    )
    assert snapshot(original) == before  # not one file written, not the others either
    assert (path.stat().st_ino, stat.S_IMODE(path.stat().st_mode)) == (inode, 0o444)
    assert temporaries(original) == []
