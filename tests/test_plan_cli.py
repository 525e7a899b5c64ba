"""`condabot plan` and `condabot bump --local` end to end, against a loopback upstream
(the test mirror, serving the listings and the stand-in installers they name)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import load_catalog
from bot.cli import main
from tests.support.mirror import Fault, Hit, Mirror
from tests.support.upstream_data import (
    publish_upstream,
    replace_upstream_bytes,
    synthetic_installer,
)
from tests.test_planner import (
    ARCHES3,
    alias,
    catalog_text,
    dockerfile,
    file_entry,
    miniconda_file,
    miniconda_pins,
    newer_documents,
)

GOLDEN = Path(__file__).parent / "golden"
NOW = "2025-06-01T00:00:00Z"
NEEDS_REVIEW = 17


@pytest.fixture
def documents() -> dict[str, dict[str, Any]]:
    return newer_documents()


@contextmanager
def serving(documents: dict[str, dict[str, Any]]) -> Iterator[Mirror]:
    mirror = Mirror()
    mirror.start()
    publish_upstream(mirror, documents)
    try:
        yield mirror
    finally:
        mirror.stop()


@contextmanager
def serve(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> Iterator[str]:
    with serving(documents) as mirror:
        yield mirror.url


@pytest.fixture
def mirror(documents: dict[str, dict[str, Any]]) -> Iterator[Mirror]:
    with serving(documents) as running:
        yield running


@pytest.fixture
def upstream(mirror: Mirror) -> str:
    return mirror.url


def downloads(mirror: Mirror) -> list[Hit]:
    """Installer requests (listings are `.files.json`)."""
    return [h for h in mirror.requests() if h.path.endswith(".sh")]


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
    assert "!! miniconda3: ARCH DROPPED: s390x: no installer for 25.3.1-1; last was 25.1.1-2" in out


def test_plan_never_downloads_an_installer(repo: Path, mirror: Mirror, tmp_path: Path) -> None:
    assert run(repo, mirror.url, tmp_path, "plan") == 0
    assert downloads(mirror) == []


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


def test_bump_local_writes_a_change_that_needs_review_and_exits_17(
    repo: Path, upstream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dropping s390x needs a human: written (so nothing is lost), but `&& git commit` stops."""
    assert run(repo, upstream, tmp_path, "bump", "--local") == NEEDS_REVIEW
    out = capsys.readouterr()
    dockerfile_path = repo / "dockerfiles" / "miniconda3" / "Dockerfile"
    expected = (GOLDEN / "miniconda3-debian-drop-s390x.expected").read_bytes()
    assert dockerfile_path.read_bytes() == expected
    assert "--- a/dockerfiles/miniconda3/Dockerfile" in out.out
    assert "-      - linux/s390x" in out.out
    catalog = load_catalog(repo / "dockerfiles" / "images.yaml")
    assert catalog.image("miniconda3").arches == ("x86_64", "aarch64")
    err = out.err.splitlines()
    assert "condabot: wrote dockerfiles/miniconda3/Dockerfile, dockerfiles/images.yaml" in err
    assert any(line.startswith("condabot: miniconda3: ARCH DROPPED: s390x") for line in err)
    assert err[-1].startswith("condabot: error: miniconda3 needs review (drop-arch); the files")
    assert "--accept-review" in err[-1]
    # A second run finds nothing left to do.
    assert run(repo, upstream, tmp_path, "bump", "--local") == 0
    again = capsys.readouterr()
    assert (again.out, again.err.strip()) == ("", "condabot: nothing to change")


def test_accept_review_takes_the_change_and_exits_0(
    repo: Path, upstream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(repo, upstream, tmp_path, "bump", "--local", "--accept-review") == 0
    err = capsys.readouterr().err
    assert "condabot: miniconda3: ARCH DROPPED: s390x" in err  # still said
    expected = (GOLDEN / "miniconda3-debian-drop-s390x.expected").read_bytes()
    assert (repo / "dockerfiles" / "miniconda3" / "Dockerfile").read_bytes() == expected


def test_bump_dry_run_writes_and_downloads_nothing(
    repo: Path, mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert run(repo, mirror.url, tmp_path, "bump", "--local", "--dry-run") == NEEDS_REVIEW
    out = capsys.readouterr()
    assert "+++ b/dockerfiles/miniconda3/Dockerfile" in out.out
    assert "nothing was written" in out.err.splitlines()[-1]
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before
    assert downloads(mirror) == []


def test_each_proposed_installer_is_downloaded_once_ever(
    repo: Path, mirror: Mirror, tmp_path: Path, documents: dict[str, dict[str, Any]]
) -> None:
    pristine = tmp_path / "pristine"
    shutil.copytree(repo, pristine)
    assert run(repo, mirror.url, tmp_path, "bump", "--local", "--accept-review") == 0
    proposed = [miniconda_file("py311", "25.3.1-1", a) for a in ARCHES3[:2]]
    fetched = downloads(mirror)
    assert sorted(h.path for h in fetched) == sorted(f"/miniconda/{n}" for n in proposed)
    assert sum(h.body_bytes for h in fetched) == sum(
        file_entry(documents, n)["size"] for n in proposed
    )
    # The same change again from a pristine tree: the cache remembers (sha256, size), not bytes.
    shutil.rmtree(repo)
    shutil.copytree(pristine, repo)
    assert run(repo, mirror.url, tmp_path, "bump", "--local", "--accept-review") == 0
    assert len(downloads(mirror)) == 2
    cached = [p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert not any(synthetic_installer(n) in blob for n in proposed for blob in cached)
    assert len(list((tmp_path / "c" / "verified").iterdir())) == 2  # one record per installer


def test_no_verify_downloads_nothing(repo: Path, mirror: Mirror, tmp_path: Path) -> None:
    assert run(repo, mirror.url, tmp_path, "bump", "--local", "--no-verify", "--accept-review") == 0
    assert downloads(mirror) == []


def test_bump_needs_a_mode(repo: Path, upstream: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        run(repo, upstream, tmp_path, "bump")
    assert caught.value.code == 2


def test_checksum_change_is_shouted(
    tmp_path: Path, documents: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Upstream replaced the bytes under the same name and lists them: verified, written,
    and a human must look (exit 17)."""
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), documents)
    replace_upstream_bytes(documents, miniconda_file("py313", "25.3.1-1", "x86_64"))
    new_sha = file_entry(documents, miniconda_file("py313", "25.3.1-1", "x86_64"))["sha256"]
    repo = make_repo(tmp_path, [({"name": "img", "arches": ARCHES3[:2]}, text)])
    with serve(tmp_path, documents) as url:
        assert run(repo, url, tmp_path, "plan") == 0
        out = capsys.readouterr().out
        assert "checksum-changed" in out
        assert "!! img: CHECKSUM CHANGED UPSTREAM: x86_64" in out
        assert run(repo, url, tmp_path, "bump", "--local") == NEEDS_REVIEW
        err = capsys.readouterr().err
        assert "condabot: img: CHECKSUM CHANGED UPSTREAM" in err
        assert "img needs review (checksum-changed)" in err.splitlines()[-1]
    assert new_sha in (repo / "dockerfiles" / "img" / "Dockerfile").read_text()


def lying_world(
    tmp_path: Path, documents: dict[str, dict[str, Any]], **lie: Any
) -> tuple[Path, str, bytes]:
    """py312 pinned at 25.1.1-2; the listing misdescribes 25.3.1-1's x86_64 installer."""
    text = dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), documents)
    name = miniconda_file("py312", "25.3.1-1", "x86_64")
    file_entry(documents, name).update(lie)
    repo = make_repo(tmp_path, [({"name": "img", "python": "py312", "arches": ARCHES3[:2]}, text)])
    return repo, name, text.encode()


@pytest.mark.parametrize(
    ("lie", "says"),
    [
        ({"sha256": "c" * 64}, f"the listing says {'c' * 64}"),
        ({"size": 1000}, "the listing says 1000"),
    ],
    ids=["sha256", "size"],
)
def test_an_installer_whose_bytes_differ_from_the_listing_is_not_proposed(
    tmp_path: Path,
    documents: dict[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    lie: dict[str, Any],
    says: str,
) -> None:
    repo, name, before = lying_world(tmp_path, documents, **lie)
    dockerfile_path = repo / "dockerfiles" / "img" / "Dockerfile"
    with serve(tmp_path, documents) as url:
        for extra in ((), ("--accept-review",)):  # the flag accepts changes, not bad bytes
            assert run(repo, url, tmp_path, "bump", "--local", *extra) == NEEDS_REVIEW
            err = capsys.readouterr().err.splitlines()
            (note,) = [line for line in err if "NOT VERIFIED" in line]
            assert note.startswith(f"condabot: img: NOT VERIFIED: x86_64: {name}: upstream serve")
            assert says in note and note.endswith("not proposed, the pins stay at py312_25.1.1-2")
            assert "img needs review (unverified)" in err[-1]
            assert dockerfile_path.read_bytes() == before
        assert run(repo, url, tmp_path, "bump", "--local", "--no-verify") == 0
    assert name in dockerfile_path.read_text()


def two_images(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> Path:
    """`a` (py312) and `b` (py311), both due for 25.3.1-1: different installers."""
    return make_repo(tmp_path, [
        ({"name": "a", "python": "py312", "arches": ARCHES3[:2]},
         dockerfile(miniconda_pins("py312", "25.1.1-2", ARCHES3[:2]), documents)),
        ({"name": "b", "python": "py311", "arches": ARCHES3[:2]},
         dockerfile(miniconda_pins("py311", "25.1.1-2", ARCHES3[:2]), documents)),
    ])  # fmt: skip


@pytest.mark.parametrize(("status", "code"), [(503, 4), (404, 16)])
def test_a_download_that_fails_is_an_error_for_its_image_not_a_mismatch(
    tmp_path: Path,
    documents: dict[str, dict[str, Any]],
    mirror: Mirror,
    capsys: pytest.CaptureFixture[str],
    status: int,
    code: int,
) -> None:
    repo = two_images(tmp_path, documents)
    a_before = (repo / "dockerfiles" / "a" / "Dockerfile").read_bytes()
    name = miniconda_file("py312", "25.3.1-1", "x86_64")
    mirror.inject(Fault(f"/miniconda/{name}", status=status), times=50)
    assert run(repo, mirror.url, tmp_path, "bump", "--local") == code
    err = capsys.readouterr().err
    assert "NOT VERIFIED" not in err and "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith(f"condabot: error: downloading {name} to verify it: ")
    assert f"HTTP {status}" in last and last.endswith("the image keeps its pins until then")
    assert (repo / "dockerfiles" / "a" / "Dockerfile").read_bytes() == a_before
    assert "py311_25.3.1-1" in (repo / "dockerfiles" / "b" / "Dockerfile").read_text()
    mirror.reset()
    publish_upstream(mirror, documents)
    assert run(repo, mirror.url, tmp_path, "bump", "--local") == 0  # upstream is back
    assert "py312_25.3.1-1" in (repo / "dockerfiles" / "a" / "Dockerfile").read_text()


def test_a_download_cut_off_midway_is_fetched_again(
    tmp_path: Path, documents: dict[str, dict[str, Any]], mirror: Mirror
) -> None:
    repo = two_images(tmp_path, documents)
    path = f"/miniconda/{miniconda_file('py312', '25.3.1-1', 'x86_64')}"
    mirror.inject(Fault(path, truncate_to=100))
    assert run(repo, mirror.url, tmp_path, "bump", "--local") == 0
    size = file_entry(documents, path.rsplit("/", 1)[-1])["size"]
    assert [h.body_bytes for h in mirror.requests(path)] == [100, size]


def test_mirror_credentials_never_reach_the_output(
    tmp_path: Path,
    documents: dict[str, dict[str, Any]],
    mirror: Mirror,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = two_images(tmp_path, documents)
    name = miniconda_file("py312", "25.3.1-1", "x86_64")
    mirror.inject(Fault(f"/miniconda/{name}", status=503), times=50)
    secret_url = mirror.url.replace("http://", "http://condabot:s3cret-Pa55word@")
    assert run(repo, secret_url, tmp_path, "bump", "--local") == 4
    out = capsys.readouterr()
    assert "s3cret-Pa55word" not in out.out + out.err
    assert "downloading" in out.err


def test_bump_local_waits_while_upstream_is_mid_upload(
    tmp_path: Path, documents: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The primary aliases carry bytes not listed yet; s390x's alias still names py312."""
    for arch in ARCHES3[:2]:
        alias(documents, arch, None, "2025-05-31")
    text = dockerfile(miniconda_pins("py313", "25.3.1-1", ARCHES3[:2]), documents)
    repo = make_repo(tmp_path, [({"name": "img", "arches": ARCHES3[:2]}, text)])
    with serve(tmp_path, documents) as url:
        assert run(repo, url, tmp_path, "bump", "--local") == 0
    err = capsys.readouterr().err
    assert "condabot: img: waiting: latest is 1d old (upstream is mid-upload: " in err
    assert "nothing to change" in err
    assert (repo / "dockerfiles" / "img" / "Dockerfile").read_text() == text


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
