"""bot/verify.py on its own: what a plan proposes, and how one installer is checked, against
the loopback mirror (end-to-end behaviour is in test_plan_cli and test_bump_verify)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.http import HttpPolicy
from bot.planner import ImagePlan, Kind, PinChange, Plan
from bot.upstream.model import Product
from bot.verify import Proposal, Status, Verifier, proposals
from bot.versions import Version
from tests.support.mirror import Mirror
from tests.support.upstream_data import current_documents, publish_upstream

ROOT = "https://repo.anaconda.com/miniconda"
NAME = "Miniconda3-py314_26.5.3-1-Linux-x86_64.sh"


def image(name: str, *changes: PinChange) -> ImagePlan:
    return ImagePlan(name, "d/Dockerfile", Product.MINICONDA3, Kind.BUMP, (Kind.BUMP,),
                     Version.parse("1.0.0-0"), "py312", Version.parse("2.0.0-0"), "py312", None,
                     changes)  # fmt: skip


def test_proposals_name_each_new_installer_once() -> None:
    move = PinChange("x86_64", f"{ROOT}/old.sh", f"{ROOT}/{NAME}", "0" * 64, "a" * 64, 10, 1.0)
    drop = PinChange("s390x", f"{ROOT}/old-s390x.sh", None, "1" * 64, None)
    plan = Plan(datetime(2026, 11, 1, tzinfo=UTC), (image("a", move, drop), image("b", move)))
    assert proposals(plan) == (Proposal(NAME, f"miniconda/{NAME}", "a" * 64, 10),)


def listed(documents: dict[str, dict[str, Any]]) -> Proposal:
    entry = documents["miniconda"][NAME]
    return Proposal(NAME, f"miniconda/{NAME}", entry["sha256"], entry["size"])


def test_a_verified_file_is_recorded_and_a_broken_record_costs_one_download(
    mirror: Mirror, tmp_path: Path
) -> None:
    proposal = listed(current_documents())
    verifier = Verifier.create(mirror.url, tmp_path, HttpPolicy.from_env())
    assert verifier.check(proposal).status is Status.VERIFIED
    assert verifier.check(proposal).status is Status.KNOWN
    record = tmp_path / "verified" / f"{proposal.sha256}.json"
    record.write_text("{not json")
    assert verifier.check(proposal).status is Status.VERIFIED
    assert len(mirror.requests(f"/{proposal.path}")) == 2


def test_a_mismatch_leaves_no_record(mirror: Mirror, tmp_path: Path) -> None:
    documents = current_documents()
    documents["miniconda"][NAME]["sha256"] = "c" * 64
    publish_upstream(mirror, documents)
    check = Verifier.create(mirror.url, tmp_path, HttpPolicy.from_env()).check(listed(documents))
    assert check.status is Status.MISMATCH and check.detail.endswith(f"the listing says {'c' * 64}")
    assert not (tmp_path / "verified").exists()


def test_installer_bodies_stream_through_uncopied(mirror: Mirror, tmp_path: Path) -> None:
    """A caching session keeps each body it reads: for a 1 GB Anaconda installer, a 1 GB
    copy. The verifier's keeps only its record of what it verified."""
    proposal = listed(current_documents())
    verifier = Verifier.create(mirror.url, tmp_path, HttpPolicy.from_env())
    assert verifier.check(proposal).status is Status.VERIFIED
    kept = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert kept == [Path("verified") / f"{proposal.sha256}.json"]
