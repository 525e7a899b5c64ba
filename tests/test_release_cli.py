"""`condabot release plan` from a GitHub release event and a real git checkout, and the
report section's idempotent merge into a release body. No Docker, no registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.release.report import BEGIN, END, merge_section
from tests.harness.github import BOT_TOKEN, MAINTAINER_TOKEN, GitHubRepo
from tests.support.release_world import SmallRepo, _git

SECTION = f"{BEGIN}\n## Published images: x\n{END}\n"


@pytest.fixture
def repo(tmp_path: Path) -> SmallRepo:
    return SmallRepo(tmp_path / "repo", "127.0.0.1:1", "127.0.0.1:2").init()


def event_file(tmp_path: Path, tag: str, **release: object) -> Path:
    path = tmp_path / "event.json"
    path.write_text(
        json.dumps(
            {
                "action": "published",
                "release": {
                    "tag_name": tag,
                    "target_commitish": "main",
                    "published_at": "2026-06-02T08:00:00Z",
                    **release,
                },
                "repository": {
                    "full_name": "acme/images",
                    "html_url": "https://github.com/acme/images",
                },
            }
        )
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_from_a_release_event_writes_the_matrix_for_actions(
    capsys: pytest.CaptureFixture[str],
    repo: SmallRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tag = repo.release("26.5.3-1")
    output = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event_file(tmp_path, tag)))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "release")
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--github-output")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["tag"] == tag and plan["revision"] == repo.head()
    assert plan["created"] == "2026-06-01T12:00:00Z"  # the commit's time, not the run's
    assert plan["source"] == "https://github.com/acme/images"
    matrix = {"include": [
        {"image": "small", "platform": "linux/amd64", "runner": "ubuntu-24.04"},
        {"image": "small", "platform": "linux/arm64", "runner": "ubuntu-24.04-arm"},
    ]}  # fmt: skip
    assert plan["matrix"] == matrix
    assert output.read_text() == f"matrix={json.dumps(matrix)}\ntag={tag}\n"


def test_the_revision_is_the_tagged_commit_not_the_checkout(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo
) -> None:
    tag = repo.release("26.5.3-1")
    tagged = repo.head()
    repo.release("26.5.4-0")  # HEAD moves on; the tag stays
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--tag", tag)
    assert code == 0, err
    assert json.loads(out)["revision"] == tagged


def test_a_tag_whose_commit_pins_another_version_is_refused(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo
) -> None:
    repo.release("26.5.3-1")
    _git(repo.root, "tag", "small-26.5.4-0")  # a maintainer tagged the wrong commit
    code, _, err = run(
        capsys, "release", "plan", "--root", str(repo.root), "--tag", "small-26.5.4-0"
    )
    assert code == 14
    assert "names version 26.5.4-0 but dockerfiles/small/Dockerfile@" in err
    assert "retag as small-26.5.3-1" in err


def test_a_misspelt_tag_is_an_error_with_suggestions_never_a_silent_no_op(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, tmp_path: Path
) -> None:
    repo.release("26.5.3-1")
    event = event_file(tmp_path, "smal-26.5.3-1")
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--event", str(event))
    assert code == 14 and out == ""
    assert "closest valid names: small" in err


def test_no_tag_at_all_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    code, _, err = run(capsys, "release", "plan", "--root", str(repo.root))
    assert code == 2 and "--tag" in err


def test_publish_needs_a_staging_registry(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = repo.release("26.5.3-1")
    monkeypatch.delenv("CONDABOT_STAGING", raising=False)
    code, _, err = run(capsys, "release", "publish", "--root", str(repo.root), "--tag", tag)
    assert code == 2 and "CONDABOT_STAGING" in err


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, SECTION),
        ("", SECTION),
        ("Notes.", f"Notes.\n\n{SECTION}"),
        ("Notes.\n\n\n", f"Notes.\n\n{SECTION}"),
        (f"Notes.\n\n{BEGIN}\nold\n{END}\n", f"Notes.\n\n{SECTION}"),
        (f"Notes.\n\n{BEGIN}\nold\n{END}\nAfter.\n", f"Notes.\n\n{SECTION}After.\n"),
    ],
)
def test_the_report_section_replaces_itself(body: str | None, expected: str) -> None:
    merged = merge_section(body, SECTION)
    assert merged == expected
    assert merge_section(merged, SECTION) == merged


def test_the_release_workflow_plans_builds_on_native_runners_then_publishes() -> None:
    from ruamel.yaml import YAML

    root = Path(__file__).resolve().parents[1]
    workflow = YAML(typ="safe").load((root / ".github/workflows/release.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]
    assert triggers["release"] == {"types": ["published"]}
    assert "tag" in triggers["workflow_dispatch"]["inputs"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    plan_step = next(s for s in jobs["plan"]["steps"] if s.get("id") == "plan")
    assert "--github-output" in plan_step["run"]
    assert jobs["build"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert jobs["build"]["runs-on"] == "${{ matrix.runner }}"
    assert jobs["publish"]["needs"] == ["plan", "build"]
    assert jobs["publish"]["permissions"] == {
        "contents": "write",
        "packages": "read",
        "id-token": "write",
    }
    for name in ("plan", "build", "publish"):
        checkout = jobs[name]["steps"][0]
        assert checkout["with"]["fetch-depth"] == 0  # every release tag, for the tag ladder


def test_a_build_from_a_checkout_of_another_commit_is_refused(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = repo.release("26.5.3-1")
    repo.release("26.5.4-0")
    monkeypatch.setenv("CONDABOT_STAGING", "127.0.0.1:1/staging")
    code, _, err = run(capsys, "release", "build", "--root", str(repo.root), "--tag", tag)
    assert code == 10
    assert f"check out the tag first (git checkout {tag})" in err


def test_the_buildx_command_asks_for_attestations_and_pushes_by_the_staging_tag(
    repo: SmallRepo,
) -> None:
    from bot.release.build import BuildxEngine, requests_for
    from bot.release.context import Options, gather
    from bot.release.staging import Staging

    tag = repo.release("26.5.3-1")
    plan = gather(Options(tag=tag, root=repo.root)).plan
    request = requests_for(plan, Staging("ghcr.io", "acme/staging"), repo.root)[1]
    engine = BuildxEngine.__new__(BuildxEngine)
    engine.cli = "docker"
    command = engine._command(request, "--push", "--provenance=mode=max", "--sbom=true")
    assert command[:5] == ["docker", "buildx", "build", "--platform", "linux/arm64"]
    assert "IMAGE_REVISION=" + plan.revision in command
    assert command[-4:-1] == ["--push", "--provenance=mode=max", "--sbom=true"]
    assert command[-1] == str(repo.root / "dockerfiles/small")
    assert request.staging_repository == "ghcr.io/acme/staging/small"
    assert request.staging_tag == f"build-{plan.revision}-arm64"


# -- bad input: the event, the tag, the created time ----------------------------------------

TAG = "small-26.5.3-1"
DEEP = "[" * 100_000 + "]" * 100_000  # valid JSON that a recursive parser cannot read


@pytest.mark.parametrize(
    "document",
    [
        "[]",
        json.dumps([{"release": {"tag_name": TAG}}]),
        "5",
        '"small-26.5.3-1"',
        "null",
        '{"release": 5}',
        '{"release": []}',
        '{"release": {"tag_name": 7}}',
        json.dumps({"release": {"tag_name": [TAG]}}),
        json.dumps({"release": {"tag_name": TAG, "target_commitish": 5}}),
        json.dumps({"release": {"tag_name": TAG, "published_at": {}}}),
        json.dumps({"release": {"tag_name": TAG}, "repository": "acme/images"}),
        json.dumps({"release": {"tag_name": TAG}, "repository": {"full_name": 5}}),
        json.dumps({"release": {"tag_name": TAG}, "repository": {"html_url": []}}),
        json.dumps({"release": {"tag_name": TAG, "prerelease": "yes"}}),
        json.dumps({"release": {"tag_name": TAG, "draft": 1}}),
        DEEP,
        # Missing keys: no tag to release.
        "{}",
        '{"release": {}}',
        '{"release": {"tag_name": null}}',
        json.dumps({"repository": {"full_name": "acme/images"}}),
    ],
)
def test_an_event_of_the_wrong_shape_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, tmp_path: Path, document: str
) -> None:
    repo.release("26.5.3-1")
    event = tmp_path / "event.json"
    event.write_text(document)
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--event", str(event))
    assert (code, out) == (2, "")
    assert err.startswith("condabot: error: ") and err.count("\n") == 1, err


LONG = 100_000


@pytest.mark.parametrize(
    "tag",
    [
        "x" * LONG,  # not <name>-<version>
        "a" * LONG + "-26.5.3-1",  # names nothing
        "small-26.5.3-" + "1" * LONG,  # well formed, a version no Dockerfile pins
        "small-" + "1." * (LONG // 2) + "1",
    ],
)
@pytest.mark.parametrize("via", ["--tag", "--event"])
def test_a_huge_tag_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, tmp_path: Path, tag: str, via: str
) -> None:
    repo.release("26.5.3-1")
    source = ["--tag", tag] if via == "--tag" else ["--event", str(event_file(tmp_path, tag))]
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), *source)
    assert (code, out) == (14, "")
    assert err.startswith("condabot: error: release tag ") and err.count("\n") == 1
    assert len(err) < 400 and f"({len(tag)} characters)" in err


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--created", "yesterday"], {}),
        (["--created", "2026-13-01T00:00:00Z"], {}),
        ([], {"SOURCE_DATE_EPOCH": "yesterday"}),
    ],
)
def test_a_created_time_that_is_not_iso_8601_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    repo: SmallRepo,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
) -> None:
    tag = repo.release("26.5.3-1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--tag", tag, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("condabot: error: ") and err.count("\n") == 1, err
    assert "ISO 8601" in err or "SOURCE_DATE_EPOCH" in err


def test_a_created_time_with_an_offset_is_labelled_in_utc(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo
) -> None:
    tag = repo.release("26.5.3-1")
    argv = ["--tag", tag, "--created", "2026-06-01T14:00:00+02:00"]
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), *argv)
    assert code == 0, err
    assert json.loads(out)["created"] == "2026-06-01T12:00:00Z"


# -- prereleases and drafts ------------------------------------------------------------------


def test_a_prerelease_event_plans_only_immutable_tags(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, tmp_path: Path
) -> None:
    tag = repo.release("26.5.3-1")
    event = event_file(tmp_path, tag, prerelease=True)
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--event", str(event))
    assert code == 0, err
    plan = json.loads(out)
    assert plan["prerelease"] is True
    tags = [t["name"] for t in plan["images"][0]["tags"]]
    assert tags == ["26.5.3-1_build1", "py314_26.5.3-1_build1", "26.5.3-1", "py314_26.5.3-1"]
    held = {h["tag"]: h["by"] for h in plan["images"][0]["held"]}
    assert set(held) == {"26.5.3", "26.5", "26", "py314", "latest"}
    # By hand, the same: --prerelease.
    code, out, err = run(
        capsys, "release", "plan", "--root", str(repo.root), "--tag", tag, "--prerelease"
    )
    assert code == 0 and [t["name"] for t in json.loads(out)["images"][0]["tags"]] == tags


def test_a_draft_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, tmp_path: Path
) -> None:
    tag = repo.release("26.5.3-1")
    event = event_file(tmp_path, tag, draft=True)
    for step, extra in (("plan", []), ("build", ["--staging", "127.0.0.1:1/s"]),
                        ("publish", ["--staging", "127.0.0.1:1/s"])):  # fmt: skip
        argv = ["release", step, "--root", str(repo.root), "--event", str(event), *extra]
        code, out, err = run(capsys, *argv)
        assert (code, out) == (14, ""), step
        assert (
            err.startswith(f"condabot: error: release '{tag}' is a draft") and err.count("\n") == 1
        )
        assert "publish the release on GitHub" in err


def test_a_manual_run_reads_the_release_state_from_github(
    capsys: pytest.CaptureFixture[str],
    repo: SmallRepo,
    github_repo: GitHubRepo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """workflow_dispatch has no release event: --github-release asks the GitHub stand-in."""
    tag = repo.release("26.5.3-1")
    monkeypatch.setenv("GITHUB_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", github_repo.full_name)
    monkeypatch.setenv("GITHUB_API_URL", github_repo.base_url)
    argv = ["release", "plan", "--root", str(repo.root), "--tag", tag, "--github-release"]
    code, _, err = run(capsys, *argv)
    assert code == 14 and f"has no published release tagged {tag}" in err
    maintainer = github_repo.pygithub(MAINTAINER_TOKEN)
    draft = maintainer.create_git_release(tag, tag, "notes", draft=True)
    code, _, err = run(capsys, *argv)
    assert code == 14 and "is a draft" in err
    draft.update_release(name=tag, message="notes", draft=False, prerelease=True)
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    plan = json.loads(out)
    assert plan["prerelease"] is True and "latest" not in str(plan["images"][0]["tags"])
    assert plan["source"].endswith(f"/{github_repo.full_name}")  # the repository's html_url
    draft.update_release(name=tag, message="notes", draft=False, prerelease=False)
    code, out, err = run(capsys, *argv)
    assert code == 0 and "latest" in str(json.loads(out)["images"][0]["tags"])


# -- the source label --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("https://github.com/acme/images.git", "https://github.com/acme/images"),
        ("https://x-access-token:ghs_s3cret@github.com/acme/images.git",
         "https://github.com/acme/images"),
        ("git@github.com:acme/images.git", "https://github.com/acme/images"),
        ("ssh://git@gitlab.example.org:2222/team/images", "https://gitlab.example.org/team/images"),
        ("/srv/git/images.git", ""),
        ("file:///srv/git/images.git", ""),
    ],
)  # fmt: skip
def test_a_git_remote_becomes_the_repositorys_web_address(remote: str, url: str) -> None:
    from bot.release.context import web_url

    assert web_url(remote) == url


def test_outside_actions_the_source_label_comes_from_the_git_remote(
    capsys: pytest.CaptureFixture[str], repo: SmallRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_EVENT_PATH", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    tag = repo.release("26.5.3-1")
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--tag", tag)
    assert code == 0
    assert json.loads(out)["source"] == ""
    assert "WARNING: org.opencontainers.image.source is empty" in err
    assert "--source" in err
    _git(repo.root, "remote", "add", "origin", "https://bot:ghp_s3cret@github.com/acme/images.git")
    code, out, err = run(capsys, "release", "plan", "--root", str(repo.root), "--tag", tag)
    assert code == 0 and err == ""
    plan = json.loads(out)
    assert plan["source"] == "https://github.com/acme/images"
    assert plan["images"][0]["labels"]["org.opencontainers.image.source"] == plan["source"]
