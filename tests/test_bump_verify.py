"""`condabot bump --repo` verifies what it proposes, and holds an open PR while it cannot.

Real parts as in test_bump_github: PyGithub against the GitHub stand-in (real git
repositories), a real clone per run, and the loopback upstream mirror, which serves the
stand-in installers the listings name (and lies or fails where a test says so).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.bump_world import BumpWorld
from tests.support.mirror import Fault, Mirror
from tests.support.upstream_data import (
    add_miniconda_release,
    current_documents,
    publish_upstream,
    synthetic_entry,
)

BRANCH = "condabot/miniconda3"
NEW = "Miniconda3-py314_26.6.0-0-Linux-x86_64.sh"


def pulls(world: BumpWorld, state: str = "all") -> list[dict[str, Any]]:
    return world.server.get_json(f"/repos/{world.full_name}/pulls?state={state}")


def dashboard(world: BumpWorld) -> str:
    issues = world.server.get_json(f"/repos/{world.full_name}/issues?state=all")
    (issue,) = [i for i in issues if "pull_request" not in i]
    return str(issue["body"])


def downloads(mirror: Mirror) -> list[str]:
    return [h.path for h in mirror.requests() if h.path.endswith(".sh")]


def newer_release(world: BumpWorld) -> dict[str, dict[str, Any]]:
    documents = current_documents()
    add_miniconda_release(documents, "26.6.0-0", "2026-10-20", ("py313", "py314"))
    publish_upstream(world.mirror, documents)
    return documents


def test_a_pr_never_proposes_bytes_the_listing_misdescribes(world: BumpWorld) -> None:
    documents = current_documents()
    lying = "c" * 64  # upstream's listing and alias say so; the file served is other bytes
    for name in ("Miniconda3-py314_26.5.3-1-Linux-x86_64.sh", "Miniconda3-latest-Linux-x86_64.sh"):
        documents["miniconda"][name]["sha256"] = lying
    publish_upstream(world.mirror, documents)
    code, _, err = world.bump()
    assert code == 0, err
    assert pulls(world) == []
    note = (
        "NOT VERIFIED: x86_64: Miniconda3-py314_26.5.3-1-Linux-x86_64.sh: upstream served "
        "bytes with sha256 "
    )
    assert f"condabot: miniconda3: {note}" in err
    assert f"- `miniconda3`: {note}" in dashboard(world)


def test_installers_are_downloaded_once_across_runs(world: BumpWorld) -> None:
    assert world.bump()[0] == 0
    assert world.bump()[0] == 0
    assert sorted(downloads(world.mirror)) == [
        f"/miniconda/Miniconda3-py314_26.5.3-1-Linux-{arch}.sh" for arch in ("aarch64", "x86_64")
    ]


def test_a_failed_download_holds_the_open_pr_and_exits_with_its_error(world: BumpWorld) -> None:
    assert world.bump()[0] == 0
    (opened,) = pulls(world)
    documents = newer_release(world)
    world.mirror.inject(Fault(f"/miniconda/{NEW}", status=503), times=50)
    code, _, err = world.bump()
    assert code == 4
    assert err.splitlines()[-1].startswith(f"condabot: error: downloading {NEW} to verify it:")
    (held,) = pulls(world)
    assert (held["state"], held["title"]) == ("open", opened["title"])  # neither closed nor moved
    assert f"{NEW} could not be verified" in dashboard(world)
    world.mirror.reset()  # upstream answers again
    publish_upstream(world.mirror, documents)
    assert world.bump()[0] == 0
    (updated,) = pulls(world)
    assert updated["number"] == opened["number"] and updated["title"].endswith("to 26.6.0-0")


def test_mid_upload_holds_the_open_pr(world: BumpWorld) -> None:
    """The primary aliases carry new bytes not listed yet; s390x's alias still names py312."""
    assert world.bump()[0] == 0
    (opened,) = pulls(world)
    head = world.server.ref_sha("acme", world.name, f"heads/{BRANCH}")
    documents = current_documents()
    for arch in ("x86_64", "aarch64"):
        unlisted = synthetic_entry(f"Miniconda3-py315_26.7.0-0-Linux-{arch}.sh", "2026-10-31")
        documents["miniconda"][f"Miniconda3-latest-Linux-{arch}.sh"] = unlisted
    publish_upstream(world.mirror, documents)
    code, _, err = world.bump()
    assert code == 0, err
    (held,) = pulls(world)
    assert (held["state"], held["title"]) == ("open", opened["title"])
    assert world.server.ref_sha("acme", world.name, f"heads/{BRANCH}") == head
    assert "latest (upstream is mid-upload: Miniconda3-latest-Linux-x86_64.sh" in dashboard(world)


def test_a_missing_token_fails_before_any_download(
    world: BumpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GH_TOKEN", raising=False)
    code, _, err = world.bump(token="")
    assert code == 2 and "GITHUB_TOKEN is not set" in err
    assert downloads(world.mirror) == []
