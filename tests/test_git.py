"""`bot.git` and the three callers that each say what its one failure means for them: a bump's
checkout (exit 2), a release's pinned Dockerfiles (exit 6), the release context (do without)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import git
from bot.cli import main
from bot.errors import DockerfileError, UsageError
from bot.forge.checkout import read_checkout, require_clean
from bot.release.context import Options, gather
from tests.support.release_world import SmallRepo, _git


@pytest.fixture
def repo(tmp_path: Path) -> SmallRepo:
    small = SmallRepo(tmp_path / "repo", "127.0.0.1:1", "127.0.0.1:2").init()
    small.release("26.5.3-1")
    return small


def test_queries_answer_from_the_checkout(repo: SmallRepo) -> None:
    assert git.tags(repo.root) == ["small-26.5.3-1"]
    assert git.commit_of(repo.root, "refs/tags/small-26.5.3-1") == repo.head()
    assert git.commit_of(repo.root, "refs/tags/no-such-tag") is None
    assert git.commit_time(repo.root, "HEAD") == 1780315200  # 2026-06-01T12:00:00Z
    assert git.remote_url(repo.root) is None
    _git(repo.root, "remote", "add", "upstream", "https://example.invalid/a.git")
    assert git.remote_url(repo.root) == "https://example.invalid/a.git"
    _git(repo.root, "remote", "add", "origin", "https://example.invalid/b.git")
    assert git.remote_url(repo.root) == "https://example.invalid/b.git"


def test_a_failure_carries_the_command_and_gits_words(tmp_path: Path) -> None:
    with pytest.raises(git.GitError) as caught:
        git.rev_parse(tmp_path, "HEAD")
    assert caught.value.command == "git rev-parse HEAD"
    assert "not a git repository" in caught.value.stderr
    with pytest.raises(git.GitError):
        git.commit_of(tmp_path, "HEAD")  # no repository is a failure, not "no such commit"


def test_a_bump_from_a_folder_that_is_no_checkout_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read_checkout(tmp_path, None)
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        f"{tmp_path} is not a usable git checkout (git rev-parse HEAD HEAD^{{tree}} failed); "
        "run condabot bump --repo from a clone of the repository"
    )


def test_a_detached_head_needs_a_base_branch(repo: SmallRepo) -> None:
    _git(repo.root, "checkout", "-q", "--detach")
    with pytest.raises(UsageError, match="detached HEAD; pass --base BRANCH"):
        read_checkout(repo.root, None)
    assert read_checkout(repo.root, "main").branch == "main"


def test_uncommitted_changes_are_named_by_their_whole_path(repo: SmallRepo) -> None:
    checkout = read_checkout(repo.root, "main")
    require_clean(checkout, ["dockerfiles/small/Dockerfile"])
    with (repo.root / "dockerfiles/small/Dockerfile").open("a") as dockerfile:
        dockerfile.write("# edited by hand\n")
    with pytest.raises(UsageError) as caught:
        require_clean(checkout, ["dockerfiles/small/Dockerfile"])
    assert caught.value.what == "uncommitted changes in dockerfiles/small/Dockerfile"


def test_a_release_commit_the_checkout_lacks_is_a_dockerfile_error(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo
) -> None:
    missing = "f" * 40
    argv = ["release", "plan", "--root", str(repo.root), "--tag", "small-26.5.3-1"]
    assert main([*argv, "--revision", missing]) == DockerfileError.exit_code
    err = capsys.readouterr().err
    assert f"cannot read dockerfiles/small/Dockerfile at {missing[:12]}: fatal: " in err
    assert err.endswith("fetch the release commit (actions/checkout with fetch-depth: 0) "
                        "or fix the catalog\n")  # fmt: skip


def test_a_release_from_a_folder_inside_another_checkout_never_asks_that_checkout(
    repo: SmallRepo,
) -> None:
    """The outer checkout's HEAD is not the release commit: with no checkout of its own,
    the release needs --revision (or GITHUB_SHA) and reads the working tree."""
    inner = repo.root / "vendored"
    shutil.copytree(repo.root / "dockerfiles", inner / "dockerfiles")
    options = Options(tag="small-26.5.3-1", root=inner)
    with pytest.raises(UsageError) as caught:
        gather(options, env={})
    assert caught.value.what == "cannot tell which commit release 'small-26.5.3-1' is"
    plan = gather(Options(tag="small-26.5.3-1", root=inner, revision="e" * 40), env={}).plan
    assert plan.revision == "e" * 40 and plan.source == ""
