"""Plans become one PR per group: images sharing a Dockerfile share a PR; product grouping."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.catalog import parse_catalog
from bot.forge.grouping import group_updates
from bot.planner import ImagePlan, Kind, PinChange, Plan
from bot.upstream.model import Product

CATALOG = """\
version: 1
registries: {hub: {kind: dockerhub, host: docker.io, namespace: x}}
images:
  - {name: miniconda3, product: miniconda3, dockerfile: d/m/Dockerfile, platforms: [linux/amd64],
     bot: {labels: [deps], reviewers: [bob]}}
  - {name: miniconda3-usrlocal, product: miniconda3, dockerfile: d/m/Dockerfile, platforms: [linux/amd64],
     bot: {labels: [usrlocal]}}
  - {name: anaconda3, product: anaconda3, dockerfile: d/a/Dockerfile, platforms: [linux/amd64], bot: {group: product}}
  - {name: anaconda3-ubuntu, product: anaconda3, dockerfile: d/au/Dockerfile, platforms: [linux/amd64],
     bot: {group: product}}
"""


def image_plan(
    name: str, dockerfile: str, product: Product, version: str, python: str | None
) -> ImagePlan:
    change = PinChange("x86_64", "https://repo.anaconda.com/a/old.sh", f"https://repo.anaconda.com/a/{version}.sh",
                       "0" * 64, "1" * 64, 10**8, 1.7e9)  # fmt: skip
    return ImagePlan(name, dockerfile, product, Kind.BUMP, (Kind.BUMP,), "1.0.0-0", python, version, python,
                     None, (change,))  # fmt: skip


def test_shared_dockerfiles_and_product_groups() -> None:
    catalog = parse_catalog(CATALOG)
    plan = Plan(datetime(2026, 11, 1, tzinfo=UTC), (
        image_plan("miniconda3", "d/m/Dockerfile", Product.MINICONDA3, "26.5.3-1", "py314"),
        image_plan("miniconda3-usrlocal", "d/m/Dockerfile", Product.MINICONDA3, "26.5.3-1", "py314"),
        image_plan("anaconda3", "d/a/Dockerfile", Product.ANACONDA3, "2025.06-0", None),
        image_plan("anaconda3-ubuntu", "d/au/Dockerfile", Product.ANACONDA3, "2025.06-0", None),
    ))  # fmt: skip
    seen: list[tuple[str, ...]] = []

    def edits_for(sub: Plan) -> list[tuple[str, str]]:
        seen.append(tuple(i.image for i in sub.images))
        return sorted({(i.dockerfile, f"pinned {i.to_version}\n") for i in sub.images})

    updates = {u.group: u for u in group_updates(plan, catalog, edits_for)}
    assert sorted(updates) == ["anaconda3", "miniconda3"]
    mini = updates["miniconda3"]
    assert mini.title == "chore(deps): update miniconda3 (py314) to 26.5.3-1"
    assert [f.path for f in mini.files] == ["d/m/Dockerfile"]
    assert mini.labels == ("deps", "usrlocal") and mini.reviewers == ("bob",)
    assert mini.body.count("### ") == 1 and "`miniconda3`, `miniconda3-usrlocal`" in mini.body
    ana = updates["anaconda3"]
    assert [f.path for f in ana.files] == ["d/a/Dockerfile", "d/au/Dockerfile"]
    assert ana.target == "anaconda3=2025.06-0;anaconda3-ubuntu=2025.06-0"
    assert ("miniconda3", "miniconda3-usrlocal") in seen


def test_installer_sizes_read_well_at_any_scale() -> None:
    from bot.forge.grouping import _size

    assert _size(1_080_000_000) == "1080.0 MB"
    assert _size(8_552) == "8.6 kB"  # a stand-in installer, not "0.0 MB"


def test_each_warning_is_said_once_in_a_pr_body() -> None:
    """A kind with a warning block leaves its own loud notes out of the list below it."""
    import dataclasses

    from bot.forge.grouping import body

    flagged = (Kind.CHECKSUM_CHANGED, Kind.DROP_ARCH, Kind.FLAVOUR_CHANGE, Kind.STALE_HASH)
    notes = tuple(f"{k.tag}: x86_64: details" for k in flagged)
    plan = dataclasses.replace(
        image_plan("miniconda3", "d/m/Dockerfile", Product.MINICONDA3, "26.5.3-1", "py314"),
        kind=flagged[0], flags=flagged, notes=notes,
    )  # fmt: skip
    text = body([plan])
    for kind in flagged:
        assert text.count(kind.tag) == 0, kind  # the warning block says it, in its own words
    assert text.count("[!WARNING]") == len(flagged)
