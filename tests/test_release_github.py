"""The release talks to GitHub through the forge's one connection (`bot.forge.github.connect`):
its retries, and its error mapping into exit codes 8, 9 and 15, for both the release's
state (`--github-release`) and the report it writes into the release body. No Docker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import ForgeError
from bot.release.report import BEGIN, END, update_release_body
from tests.harness.github import BOT_TOKEN, MAINTAINER_TOKEN, GitHubRepo
from tests.support.release_world import SmallRepo

SECTION = f"{BEGIN}\n## Published images: small-26.5.3-1\n{END}\n"


@pytest.fixture
def tag(tmp_path: Path, github_repo: GitHubRepo, monkeypatch: pytest.MonkeyPatch) -> str:
    """A published release on the stand-in, and a checkout of its tag in the working dir."""
    repo = SmallRepo(tmp_path / "repo", "127.0.0.1:1", "127.0.0.1:2").init()
    name = repo.release("26.5.3-1")
    github_repo.pygithub(MAINTAINER_TOKEN).create_git_release(name, name, "Notes.")
    monkeypatch.chdir(repo.root)
    monkeypatch.setenv("GITHUB_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", github_repo.full_name)
    monkeypatch.setenv("GITHUB_API_URL", github_repo.base_url)
    return name


def plan(capsys: pytest.CaptureFixture[str], tag: str) -> tuple[int, str]:
    code = main(["release", "plan", "--tag", tag, "--github-release"])
    return code, capsys.readouterr().err


def test_a_transient_github_failure_is_retried(
    capsys: pytest.CaptureFixture[str], tag: str, github_repo: GitHubRepo
) -> None:
    github_repo.server.inject("GET", r"/releases/tags/", 502)
    code, err = plan(capsys, tag)
    assert code == 0, err
    assert len(github_repo.server.requests("GET", f"/repos/{github_repo.full_name}/releases/")) == 2


def test_a_long_rate_limit_wait_ends_the_release_with_when_to_rerun(
    capsys: pytest.CaptureFixture[str], tag: str, github_repo: GitHubRepo
) -> None:
    github_repo.server.inject("GET", r"/releases/tags/", 403, {"Retry-After": "3600"}, times=10)
    started = time.monotonic()
    code, err = plan(capsys, tag)
    assert time.monotonic() - started < 30
    assert code == 9, err
    assert "wait 3600 s while reading release small-26.5.3-1" in err and "rerun after" in err
    assert err.count("\n") == 1


def test_a_refused_token_is_an_auth_error(
    capsys: pytest.CaptureFixture[str], tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x" * 36)
    code, err = plan(capsys, tag)
    assert code == 15, err
    assert "GitHub refused the token while reading release small-26.5.3-1" in err
    assert err.rstrip().endswith("check GITHUB_TOKEN") and "ghp_xxxx" not in err


def test_a_forbidden_read_names_the_access_the_release_job_needs(
    capsys: pytest.CaptureFixture[str], tag: str, github_repo: GitHubRepo
) -> None:
    forbidden = {"message": "Resource not accessible by integration"}
    github_repo.server.inject("GET", r"/releases/tags/", 403, body=forbidden)
    code, err = plan(capsys, tag)
    assert code == 8, err
    assert "Resource not accessible by integration" in err
    assert err.rstrip().endswith("the token needs `contents: read`")


def test_the_report_goes_into_the_release_body_once_around_the_maintainers_notes(
    tag: str, github_repo: GitHubRepo
) -> None:
    def write() -> bool:
        return update_release_body(
            SECTION, github_repo.full_name, tag, BOT_TOKEN, github_repo.base_url
        )

    assert write() is True
    assert write() is False  # a rerun: nothing to change, nothing written
    assert github_repo.pygithub().get_release(tag).body == f"Notes.\n\n{SECTION}"
    assert len(github_repo.server.requests("PATCH")) == 1


def test_a_report_github_refuses_says_the_images_are_published(
    tag: str, github_repo: GitHubRepo
) -> None:
    github_repo.server.inject("PATCH", r"/releases/", 403, body={"message": "Forbidden"})
    with pytest.raises(ForgeError) as caught:
        update_release_body(SECTION, github_repo.full_name, tag, BOT_TOKEN, github_repo.base_url)
    assert caught.value.exit_code == 8
    assert "after publishing the images" in caught.value.what
    assert caught.value.hint == "the token needs `contents: write`"
