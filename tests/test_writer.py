"""Writing a plan: only the changed values' bytes move (pins and catalog); goldens,
properties, atomic files."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog import parse_catalog
from bot.catalog_edit import drop_platforms
from bot.edits import FileEdit, write_edits
from bot.errors import CatalogError, DockerfileError
from bot.files import write_atomic
from bot.pins import read_pins
from bot.planner import PinChange, plan
from bot.platforms import BY_ARCH
from bot.rewrite import rewrite
from tests.test_planner import (
    NOW,
    fixture_documents,
    make_catalog,
    make_listing,
    newer_documents,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CONDABOT_UPDATE_GOLDEN") == "1"
ROOT = "https://repo.anaconda.com/miniconda"


# -- golden files --------------------------------------------------------------------------

# (input, image policy, listing documents, now)
GOLDEN_CASES: dict[str, tuple[str, dict[str, Any], str, datetime]] = {
    # Anaconda's images-repo format, py311 pinned: 25.3.1-1 has no s390x, so its block goes.
    "miniconda3-debian-drop-s390x": (
        "miniconda3-debian.Dockerfile", {"python": "py311"}, "newer", NOW,
    ),
    "miniconda3-debian-bump": (
        "miniconda3-debian.Dockerfile", {}, "fixture", datetime(2023, 8, 1, tzinfo=UTC),
    ),
    "anaconda3-debian-drop-ppc64le-s390x": (
        "anaconda3-debian.Dockerfile",
        {"product": "anaconda3", "arches": ("x86_64", "aarch64", "ppc64le", "s390x")},
        "newer",
        NOW,
    ),
    "miniconda3-templated-bump": (
        "miniconda3-templated.Dockerfile",
        {"python": "py39", "arches": ("x86_64", "aarch64", "ppc64le", "s390x")},
        "fixture",
        datetime(2023, 8, 1, tzinfo=UTC),
    ),
    "miniconda3-inline-bump": (
        "miniconda3-inline.Dockerfile",
        {"python": "py39", "arches": ("x86_64", "aarch64")},
        "fixture",
        datetime(2023, 8, 1, tzinfo=UTC),
    ),
}  # fmt: skip


def golden_changes(case: str, text: str) -> tuple[PinChange, ...]:
    _, policy, docs, now = GOLDEN_CASES[case]
    documents = newer_documents() if docs == "newer" else fixture_documents()
    image = {"name": "img", **policy}
    pins = {"img": read_pins(text, "Dockerfile")}
    result = plan(make_catalog(image), pins, make_listing(documents), now)
    return result.images[0].changes


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_golden_rewrites(case: str, newline: str) -> None:
    source = (GOLDEN / GOLDEN_CASES[case][0]).read_text().replace("\n", newline)
    changes = golden_changes(case, source)
    assert changes, "a golden case must change something"
    expected_path = GOLDEN / f"{case}.expected"
    result = rewrite(source, changes)
    if UPDATE and newline == "\n":
        expected_path.write_text(result)
    assert result == expected_path.read_text().replace("\n", newline)
    assert rewrite(result, changes) == result


def test_templated_form_cannot_drop_an_arch() -> None:
    text = (GOLDEN / "miniconda3-templated.Dockerfile").read_text()
    image = {"name": "img", "python": "py310", "arches": ("x86_64",)}
    result = plan(
        make_catalog(image), {"img": read_pins(text)}, make_listing(newer_documents()), NOW
    )
    with pytest.raises(
        DockerfileError, match="cannot remove the ppc64le installer from the templated"
    ):
        rewrite(text, result.images[0].changes)


def test_a_changed_file_is_refused() -> None:
    text = (GOLDEN / "miniconda3-debian.Dockerfile").read_text()
    changes = golden_changes("miniconda3-debian-bump", text)
    edited = text.replace("333779c9cae3", "000000000000")
    with pytest.raises(DockerfileError, match="not what the plan was made from"):
        rewrite(edited, changes)


def test_a_shared_version_arg_refuses_mixed_releases() -> None:
    text = (GOLDEN / "miniconda3-templated.Dockerfile").read_text()
    pins = {p.arch: p for p in read_pins(text)}
    changes = [
        PinChange(
            arch, pins[arch].url, pins[arch].url.replace("py39_23.1.0-1", f"py39_{version}"),
            pins[arch].sha256, "a" * 64,
        )
        for arch, version in (("x86_64", "23.5.2-0"), ("aarch64", "23.5.1-0"))
    ]  # fmt: skip
    with pytest.raises(DockerfileError, match="different values"):
        rewrite(text, changes)


def test_inline_rewrite_moves_repeats_of_the_url_and_filename() -> None:
    old = "Miniconda3-py311_23.5.1-0-Linux-x86_64.sh"
    new = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    text = (
        f"RUN wget -q {ROOT}/{old} && \\\n"
        f'    echo "{"1" * 64}  {old}" | sha256sum -c && bash {old} -b\n'
        f'LABEL installer="{ROOT}/{old}"\n'
        f"# {old} in a comment stays\n"
    )
    change = PinChange("x86_64", f"{ROOT}/{old}", f"{ROOT}/{new}", "1" * 64, "2" * 64)
    result = rewrite(text, [change])
    assert result == text.replace(old, new, 4).replace("1" * 64, "2" * 64)
    assert result.splitlines()[-1] == f"# {old} in a comment stays"


# -- properties ----------------------------------------------------------------------------

RELEASES = ("py311_23.5.2-0", "py312_24.1.2-0", "py313_25.3.1-1", "py39_4.12.0")
filler = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)


@dataclass
class Block:
    arch: str
    marker: bool
    gap: list[str]  # filler lines between the URL ARG and the sha ARG
    after: list[str]  # filler lines after the block


@st.composite
def dockerfiles(draw: st.DrawFn) -> dict[str, Any]:
    arches = draw(st.permutations(list(BY_ARCH)).map(lambda a: a[: draw(st.integers(1, 4))]))
    blocks = [
        Block(
            arch,
            draw(st.booleans()),
            draw(st.lists(filler, max_size=1)),
            draw(st.lists(filler, max_size=2)),
        )
        for arch in arches
    ]
    return {
        "newline": draw(st.sampled_from(["\n", "\r\n"])),
        "quote": draw(st.sampled_from(['"', "'", ""])),
        "head": draw(st.lists(filler, max_size=3)),
        "blocks": blocks,
        "old": {a: (draw(st.sampled_from(RELEASES)), draw(hex64)) for a in arches},
        "new_release": draw(st.sampled_from(RELEASES)),
        "new_shas": {a: draw(hex64) for a in arches},
        "drop": draw(st.sets(st.sampled_from(arches))),
    }


def url(release: str, arch: str) -> str:
    return f"{ROOT}/Miniconda3-{release}-Linux-{arch}.sh"


def render(spec: dict[str, Any], values: dict[str, tuple[str, str]], dropped: set[str]) -> str:
    """The Dockerfile for `spec` with each arch's (release, sha); dropped arches keep only filler."""
    q, lines = spec["quote"], [f"# {line}" for line in spec["head"]]
    for block in spec["blocks"]:
        suffix = BY_ARCH[block.arch].arg_suffix
        gap = [f"# {line}" for line in block.gap]
        if block.arch in dropped:
            lines += gap
        else:
            release, sha = values[block.arch]
            marker = ["# renovate: datasource=custom.miniconda_installer"] if block.marker else []
            lines += [
                *marker,
                f"ARG INSTALLER_URL_{suffix}={q}{url(release, block.arch)}{q}",
                *gap,
                f"ARG SHA256SUM_{suffix}={q}{sha}{q}",
            ]
        lines += [f"RUN echo {line!r}" for line in block.after]
    newline: str = spec["newline"]
    return "".join(line + newline for line in lines)


def changes_for(spec: dict[str, Any], drops: set[str]) -> list[PinChange]:
    changes = []
    for arch, (release, sha) in spec["old"].items():
        new = (
            (None, None)
            if arch in drops
            else (url(spec["new_release"], arch), spec["new_shas"][arch])
        )
        changes.append(PinChange(arch, url(release, arch), new[0], sha, new[1]))
    return changes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_rewrite_changes_only_the_values(spec: dict[str, Any]) -> None:
    original = render(spec, spec["old"], set())
    new = {a: (spec["new_release"], spec["new_shas"][a]) for a in spec["old"]}
    result = rewrite(original, changes_for(spec, spec["drop"]))
    # Every byte outside the changed values is identical, comments and line endings included.
    assert result == render(spec, new, spec["drop"])
    assert rewrite(result, changes_for(spec, spec["drop"])) == result
    read = {p.arch: (p.url, p.sha256) for p in read_pins(result)}
    assert read == {a: (url(new[a][0], a), new[a][1]) for a in new if a not in spec["drop"]}


@settings(max_examples=200, deadline=None)
@given(dockerfiles())
def test_rewrite_round_trips(spec: dict[str, Any]) -> None:
    original = render(spec, spec["old"], set())
    forward = changes_for(spec, set())
    back = [
        PinChange(c.arch, c.to_url or "", c.from_url, c.to_sha or "", c.from_sha) for c in forward
    ]
    assert rewrite(rewrite(original, forward), back) == original


# -- files ---------------------------------------------------------------------------------


def test_an_edit_replaces_the_file_atomically_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    source = (GOLDEN / "miniconda3-debian.Dockerfile").read_text().replace("\n", "\r\n")
    path.write_bytes(source.encode())
    path.chmod(0o640)
    changes = golden_changes("miniconda3-debian-bump", source)
    after = rewrite(source, changes)
    inode = path.stat().st_ino
    write_edits([FileEdit("Dockerfile", source, after)], tmp_path)
    assert path.read_bytes() == after.encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # replaced by rename, never written in place
    assert rewrite(after, changes) == after  # applied again, nothing moves
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


def test_a_bad_pin_or_a_file_changed_since_planning_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM x\nARG INSTALLER_URL_LINUX64=http://evil\n")
    with pytest.raises(DockerfileError):
        rewrite(path.read_text(), [])
    with pytest.raises(DockerfileError, match="changed while planning"):
        write_edits([FileEdit("Dockerfile", "FROM x\n", "FROM y\n")], tmp_path)
    assert path.read_text() == "FROM x\nARG INSTALLER_URL_LINUX64=http://evil\n"
    assert len(list(tmp_path.iterdir())) == 1


def test_a_write_removes_its_own_leftovers_and_nobody_elses(tmp_path: Path) -> None:
    """A killed run leaves `.<name>.condabot-*.tmp` in the build context; the next write of
    that file removes it. Other temporary files there belong to someone else."""
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\n")
    ours = tmp_path / ".Dockerfile.condabot-k1ll3d00.tmp"
    ours.write_text("FROM half")
    theirs = [tmp_path / n for n in ("notes.tmp", ".Dockerfile.swp.tmp", ".other.condabot-x.tmp")]
    for other in theirs:
        other.write_text("keep")
    write_atomic(path, b"FROM b\n")
    assert path.read_text() == "FROM b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["Dockerfile", *(p.name for p in theirs)]
    )


def test_a_read_only_dockerfile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    source = (GOLDEN / "miniconda3-debian.Dockerfile").read_text()
    path.write_text(source)
    path.chmod(0o444)
    after = rewrite(source, golden_changes("miniconda3-debian-bump", source))
    with pytest.raises(DockerfileError, match="is read-only; condabot never replaces"):
        write_edits([FileEdit("Dockerfile", source, after)], tmp_path)
    assert path.read_text() == source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


CATALOG = """\
# The image catalog.
version: 1
registries: {}
images:
  - name: miniconda3
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/Dockerfile
    platforms:
      - linux/amd64   # the main one
      - linux/arm64
      - linux/s390x   # ends with 25.1.1-2
    python: default
  - name: anaconda3
    product: anaconda3
    dockerfile: dockerfiles/anaconda3/Dockerfile
    platforms: [linux/amd64, "linux/ppc64le", linux/arm64, linux/s390x]
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_drop_platforms_edits_only_those_items(newline: str) -> None:
    text = CATALOG.replace("\n", newline)
    result = drop_platforms(
        text, {"miniconda3": ["linux/s390x"], "anaconda3": ["linux/ppc64le", "linux/s390x"]}
    )
    expected = (
        CATALOG.replace("      - linux/s390x   # ends with 25.1.1-2\n", "")
        .replace('[linux/amd64, "linux/ppc64le", linux/arm64, linux/s390x]', "[linux/amd64, linux/arm64]")
        .replace("\n", newline)
    )  # fmt: skip
    assert result == expected
    catalog = parse_catalog(result)
    assert [p.arch for p in catalog.image("anaconda3").platforms] == ["x86_64", "aarch64"]
    assert drop_platforms(result, {"miniconda3": ["linux/s390x"]}) == result


def test_drop_platforms_never_leaves_an_image_without_one() -> None:
    with pytest.raises(CatalogError, match="no platform"):
        drop_platforms(CATALOG, {"miniconda3": ["linux/amd64", "linux/arm64", "linux/s390x"]})
