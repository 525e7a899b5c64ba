"""`condabot plan` and `condabot bump --local` end to end, against a loopback upstream."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import load_catalog
from bot.cli import main
from tests.test_planner import (
    ARCHES3,
    catalog_text,
    dockerfile,
    file_entry,
    miniconda_file,
    miniconda_pins,
    newer_documents,
)

GOLDEN = Path(__file__).parent / "golden"
NOW = "2025-06-01T00:00:00Z"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def documents() -> dict[str, dict[str, Any]]:
    return newer_documents()


@contextmanager
def serve(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> Iterator[str]:
    """A tiny mirror: `<dir>/.files.json` for both directories, served from tmp_path."""
    root = tmp_path / "mirror"
    for directory, document in documents.items():
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory / ".files.json").write_text(json.dumps(document))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def upstream(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> Iterator[str]:
    with serve(tmp_path, documents) as url:
        yield url


def make_repo(tmp_path: Path, images: list[tuple[dict[str, Any], str]]) -> Path:
    """A repository with dockerfiles/images.yaml and one Dockerfile per image."""
    repo = tmp_path / "repo"
    for image, text in images:
        path = repo / "dockerfiles" / image["name"] / "Dockerfile"
        path.parent.mkdir(parents=True)
        path.write_bytes(text.encode())
    (repo / "dockerfiles" / "images.yaml").write_text(catalog_text([i for i, _ in images]))
    return repo


def run(repo: Path, upstream: str, tmp_path: Path, *argv: str) -> int:
    catalog = str(repo / "dockerfiles" / "images.yaml")
    options = ["--catalog", catalog, "--upstream-url", upstream, "--cache-dir", str(tmp_path / "c")]
    return main([*argv[:1], *options, "--now", NOW, *argv[1:]])


@pytest.fixture
def repo(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> Path:
    debian = (GOLDEN / "miniconda3-debian.Dockerfile").read_text()
    current = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), documents)
    return make_repo(
        tmp_path,
        [
            ({"name": "miniconda3", "python": "py311"}, debian),
            ({"name": "current", "arches": ARCHES3[:2]}, current),
        ],
    )


def test_plan_prints_a_table(
    repo: Path, upstream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(repo, upstream, tmp_path, "plan") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["IMAGE", "ARCH", "FROM", "TO", "KIND", "AGE"]
    assert lines[1].split() == [
        "miniconda3", "x86_64", "py311_23.5.1-0", "py311_25.3.1-1", "bump", "52d",
    ]  # fmt: skip
    assert lines[3].split() == [
        "miniconda3", "s390x", "py311_23.5.1-0", "(removed)", "drop-arch", "52d",
    ]  # fmt: skip
    assert lines[4].split() == ["current", "all", "py313_25.3.1-1", "-", "up-to-date", "-"]
    assert "miniconda3: s390x: no installer for 25.3.1-1; last was 25.1.1-2" in out


def test_plan_exit_code_flag(repo: Path, upstream: str, tmp_path: Path) -> None:
    assert run(repo, upstream, tmp_path, "plan", "--exit-code") == 1
    assert run(repo, upstream, tmp_path, "plan", "--exit-code", "--image", "current") == 0


def test_plan_json(
    repo: Path, upstream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(repo, upstream, tmp_path, "plan", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "condabot.plan/1"
    assert data["now"] == NOW
    first = data["images"][0]
    assert (first["kind"], first["to"], first["drop_platforms"]) == (
        "drop-arch",
        {"version": "25.3.1-1", "python": "py311"},
        ["linux/s390x"],
    )


def test_bump_local_rewrites_the_tree_and_prints_the_diff(
    repo: Path, upstream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(repo, upstream, tmp_path, "bump", "--local") == 0
    out = capsys.readouterr()
    dockerfile_path = repo / "dockerfiles" / "miniconda3" / "Dockerfile"
    expected = (GOLDEN / "miniconda3-debian-drop-s390x.expected").read_bytes()
    assert dockerfile_path.read_bytes() == expected
    assert "--- a/dockerfiles/miniconda3/Dockerfile" in out.out
    assert "-      - linux/s390x" in out.out
    catalog = load_catalog(repo / "dockerfiles" / "images.yaml")
    assert catalog.image("miniconda3").arches == ("x86_64", "aarch64")
    assert "wrote dockerfiles/miniconda3/Dockerfile, dockerfiles/images.yaml" in out.err
    # A second run finds nothing left to do.
    assert run(repo, upstream, tmp_path, "bump", "--local") == 0
    again = capsys.readouterr()
    assert (again.out, again.err.strip()) == ("", "condabot: nothing to change")


def test_bump_dry_run_writes_nothing(
    repo: Path, upstream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert run(repo, upstream, tmp_path, "bump", "--local", "--dry-run") == 0
    assert "+++ b/dockerfiles/miniconda3/Dockerfile" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before


def test_bump_needs_a_mode(repo: Path, upstream: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        run(repo, upstream, tmp_path, "bump")
    assert caught.value.code == 2


def test_checksum_change_is_shouted(
    tmp_path: Path, documents: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), documents)
    file_entry(documents, miniconda_file("py313", "25.3.1-1", "x86_64"))["sha256"] = "c" * 64
    repo = make_repo(tmp_path, [({"name": "img", "arches": ARCHES3[:2]}, text)])
    with serve(tmp_path, documents) as url:
        assert run(repo, url, tmp_path, "plan") == 0
        out = capsys.readouterr().out
        assert "checksum-changed" in out
        assert "!! img: CHECKSUM CHANGED UPSTREAM: x86_64" in out
        assert run(repo, url, tmp_path, "bump", "--local") == 0
        assert "condabot: img: CHECKSUM CHANGED UPSTREAM" in capsys.readouterr().err
    assert ("c" * 64) in (repo / "dockerfiles" / "img" / "Dockerfile").read_text()


def test_a_hostile_pin_fails_with_the_dockerfile_exit_code(
    tmp_path: Path, upstream: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = 'FROM x\nARG INSTALLER_URL_LINUX64="https://evil.example/Miniconda3-py313_25.3.1-1-Linux-x86_64.sh"\n'
    text += f"ARG SHA256SUM_LINUX64={'a' * 64}\n"
    repo = make_repo(tmp_path, [({"name": "img", "arches": ARCHES3[:1]}, text)])
    assert run(repo, upstream, tmp_path, "plan") == 6
    assert "dockerfiles/img/Dockerfile:2: installer URL" in capsys.readouterr().err


def test_errors_before_any_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unreachable = "http://127.0.0.1:9"
    repo = make_repo(tmp_path, [({"name": "img"}, "FROM x\n")])
    assert run(repo, unreachable, tmp_path, "plan", "--image", "nope") == 2
    assert run(repo, unreachable, tmp_path, "plan") == 7  # no pins: a plan error
    assert "no installer pins found for image 'img'" in capsys.readouterr().err
    assert main(["plan", "--catalog", str(tmp_path / "none.yaml")]) == 3
    with pytest.raises(SystemExit):
        main(["plan", "--now", "yesterday"])


def test_default_catalog_is_relative_to_the_working_directory(
    repo: Path, upstream: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    options = ["--upstream-url", upstream, "--cache-dir", str(tmp_path / "c"), "--now", NOW]
    assert main(["plan", "--exit-code", *options]) == 1
