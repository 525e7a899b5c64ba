"""The pure release planner: tag names, alias ladders, backports, suffixes, pinned flavours."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.catalog import Catalog, parse_catalog
from bot.errors import PlanError, ReleaseTagError
from bot.pins import read_pins
from bot.release.pinned import Pinned, summarise
from bot.release.plan import ReleasePlan, make_plan
from bot.release.tagname import resolve_tag, split_tag
from bot.release.tags import TagKind, assign_tags, candidate_tags
from bot.versions import Version

CATALOG = """
version: 1
registries:
  dockerhub: {kind: dockerhub, host: docker.io, namespace: continuumio}
  ecr: {kind: ecr, host: 123456789012.dkr.ecr.us-east-1.amazonaws.com, namespace: continuumio}
images:
  - name: miniconda3
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/debian/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    registries: [dockerhub, ecr]
  - name: miniconda3-ubuntu
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/ubuntu/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    repository: miniconda3
    tags: {suffix: -ubuntu}
    registries: [dockerhub]
  - name: miniconda3-py312
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/py312/Dockerfile
    platforms: [linux/amd64]
    python: py312
    repository: miniconda3
    registries: [dockerhub]
  - name: miniconda2
    product: miniconda2
    dockerfile: dockerfiles/miniconda2/Dockerfile
    platforms: [linux/amd64]
    frozen: true
    registries: [dockerhub]
  - name: anaconda3
    product: anaconda3
    dockerfile: dockerfiles/anaconda3/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    registries: [dockerhub]
"""
REV = "0123456789abcdef0123456789abcdef01234567"
CREATED = "2026-06-01T12:00:00Z"
SOURCE = "https://github.com/conda/condabot-images"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(CATALOG, "test-catalog.yaml")


def pins(version: str, flavour: str | None = "py314", **pinned_flavours: str) -> dict[str, Pinned]:
    names = ("miniconda3", "miniconda3-ubuntu", "miniconda3-py312", "anaconda3", "miniconda2")
    return {
        name: Pinned(
            name, Version.parse(version), pinned_flavours.get(name.replace("-", "_"), flavour), name
        )
        for name in names
    }


def plan_for(
    catalog: Catalog, tag: str, existing: tuple[str, ...] = (), **pinned: dict[str, Pinned]
) -> ReleasePlan:
    plain = re.sub(r"_build\d+$", "", tag)
    version = plain.rsplit("-", 2)[-2] + "-" + plain.rsplit("-", 1)[-1]
    table = pinned.get("pinned") or pins(version, miniconda3_py312="py312")
    return make_plan(catalog, resolve_tag(tag, catalog), table, existing, REV, CREATED, SOURCE)


def tags_of(plan: ReleasePlan, image: str) -> list[str]:
    return [t.name for t in plan.image(image).tags]


# -- release tag names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "name", "version"),
    [
        ("miniconda3-26.5.3-1", "miniconda3", "26.5.3-1"),
        ("miniconda3-ubuntu-26.5.3-1", "miniconda3-ubuntu", "26.5.3-1"),
        ("anaconda3-2024.10-1", "anaconda3", "2024.10-1"),
        ("anaconda3-2022.10", "anaconda3", "2022.10"),
        ("miniconda3-4.7.12.1", "miniconda3", "4.7.12.1"),
    ],
)
def test_split_tag(tag: str, name: str, version: str) -> None:
    assert split_tag(tag) == (name, Version.parse(version))


def test_product_tag_selects_every_buildable_image_of_the_product(catalog: Catalog) -> None:
    release = resolve_tag("miniconda3-26.5.3-1", catalog)
    assert release.by_product
    assert [i.name for i in release.images] == [
        "miniconda3",
        "miniconda3-ubuntu",
        "miniconda3-py312",
    ]


def test_image_tag_selects_one_image(catalog: Catalog) -> None:
    release = resolve_tag("miniconda3-ubuntu-26.5.3-1", catalog)
    assert [i.name for i in release.images] == ["miniconda3-ubuntu"]


def test_a_product_without_buildable_images_falls_back_to_its_image(catalog: Catalog) -> None:
    release = resolve_tag("miniconda2-4.8.3", catalog)
    assert (release.by_product, [i.name for i in release.images]) == (False, ["miniconda2"])


def test_a_product_without_buildable_images_or_namesake_is_an_error() -> None:
    renamed = parse_catalog(CATALOG.replace("name: miniconda2", "name: miniconda2-eol"))
    with pytest.raises(ReleaseTagError, match="no buildable image"):
        resolve_tag("miniconda2-4.8.3", renamed)


def test_unknown_image_lists_the_closest_names(catalog: Catalog) -> None:
    with pytest.raises(ReleaseTagError) as caught:
        resolve_tag("minconda3-ubuntu-26.5.3-1", catalog)
    assert caught.value.exit_code == 14
    assert "'minconda3-ubuntu'" in caught.value.message
    assert "closest valid names: miniconda3-ubuntu" in caught.value.message


@pytest.mark.parametrize("tag", ["v26.5.3-1", "miniconda3", "miniconda3-v26.5.3-1", "26.5.3"])
def test_malformed_tag_is_an_error_naming_the_form(catalog: Catalog, tag: str) -> None:
    with pytest.raises(ReleaseTagError, match="<image or product>-<version>"):
        resolve_tag(tag, catalog)


def test_version_the_dockerfiles_do_not_pin_is_an_error(catalog: Catalog) -> None:
    with pytest.raises(ReleaseTagError) as caught:
        make_plan(
            catalog,
            resolve_tag("miniconda3-ubuntu-26.5.4-0", catalog),
            pins("26.5.3-1"),
            (),
            REV,
            CREATED,
            SOURCE,
        )
    message = caught.value.message
    assert "names version 26.5.4-0 but miniconda3-ubuntu pins 26.5.3-1" in message
    assert "retag as miniconda3-ubuntu-26.5.3-1" in message


def test_pinned_flavour_must_match_the_catalog(catalog: Catalog) -> None:
    with pytest.raises(PlanError, match="pinned to py312"):
        make_plan(
            catalog,
            resolve_tag("miniconda3-26.5.3-1", catalog),
            pins("26.5.3-1"),
            (),
            REV,
            CREATED,
            SOURCE,
        )


# -- tag ladders -----------------------------------------------------------------------


def test_first_release_gets_the_whole_ladder(catalog: Catalog) -> None:
    plan = plan_for(catalog, "miniconda3-26.5.3-1")
    assert tags_of(plan, "miniconda3") == [
        "26.5.3-1", "py314_26.5.3-1", "26.5.3", "26.5", "26", "py314", "latest",
    ]  # fmt: skip
    assert [t.name for t in plan.image("miniconda3").tags if t.immutable] == [
        "26.5.3-1",
        "py314_26.5.3-1",
    ]


def test_suffix_is_appended_and_replaces_latest(catalog: Catalog) -> None:
    plan = plan_for(catalog, "miniconda3-26.5.3-1")
    assert tags_of(plan, "miniconda3-ubuntu") == [
        "26.5.3-1-ubuntu", "py314_26.5.3-1-ubuntu", "26.5.3-ubuntu", "26.5-ubuntu",
        "26-ubuntu", "py314-ubuntu", "ubuntu",
    ]  # fmt: skip


def test_pinned_flavour_gets_prefixed_tags_and_never_latest(catalog: Catalog) -> None:
    plan = plan_for(catalog, "miniconda3-26.5.3-1")
    assert tags_of(plan, "miniconda3-py312") == [
        "py312_26.5.3-1", "py312_26.5.3", "py312_26.5", "py312_26", "py312",
    ]  # fmt: skip


def test_anaconda_has_no_flavour_tags_and_dedupes_its_ladder(catalog: Catalog) -> None:
    plan = plan_for(
        catalog,
        "anaconda3-2024.10-1",
        pinned={"anaconda3": Pinned("anaconda3", Version.parse("2024.10-1"), None, "x")},
    )
    assert tags_of(plan, "anaconda3") == ["2024.10-1", "2024.10", "2024", "latest"]


def test_a_newer_release_keeps_its_floating_tags_from_a_backport(catalog: Catalog) -> None:
    existing = ("miniconda3-26.5.3-1", "miniconda3-25.11.2-0", "v1.0.0", "unrelated")
    plan = plan_for(catalog, "miniconda3-25.11.3-0", existing)
    assert tags_of(plan, "miniconda3") == [
        "25.11.3-0", "py314_25.11.3-0", "25.11.3", "25.11", "25",
    ]  # fmt: skip
    held = dict(plan.image("miniconda3").held)
    assert held == {
        "py314": "newer release 26.5.3-1",
        "latest": "newer release 26.5.3-1",
    }


def test_a_backport_build_of_an_old_series_moves_only_its_own_rungs(catalog: Catalog) -> None:
    existing = ("miniconda3-26.5.3-1", "miniconda3-26.5.2-2", "miniconda3-26.4.0-0")
    plan = plan_for(catalog, "miniconda3-26.5.2-3", existing)
    assert tags_of(plan, "miniconda3") == ["26.5.2-3", "py314_26.5.2-3", "26.5.2"]


def test_an_older_release_does_not_hold_anything(catalog: Catalog) -> None:
    existing = ("miniconda3-26.5.2-0", "miniconda3-ubuntu-26.5.3-1", "miniconda3-26.5.3-1")
    plan = plan_for(catalog, "miniconda3-26.5.3-1", existing)
    assert "latest" in tags_of(plan, "miniconda3")
    assert plan.image("miniconda3").held == ()


def test_an_image_release_of_another_suffix_does_not_hold_latest(catalog: Catalog) -> None:
    existing = ("miniconda3-ubuntu-27.1.0-0",)
    plan = plan_for(catalog, "miniconda3-26.5.3-1", existing)
    assert "latest" in tags_of(plan, "miniconda3")
    assert "ubuntu" not in tags_of(plan, "miniconda3-ubuntu")
    assert "26-ubuntu" in tags_of(plan, "miniconda3-ubuntu")


def test_a_product_release_holds_the_tags_of_every_image_it_covered(catalog: Catalog) -> None:
    # miniconda3-27.1.0-0 named the product, so it also released miniconda3-py312 at 27.1.0-0.
    plan = plan_for(catalog, "miniconda3-py312-26.5.3-1", ("miniconda3-27.1.0-0",))
    assert tags_of(plan, "miniconda3-py312") == [
        "py312_26.5.3-1", "py312_26.5.3", "py312_26.5", "py312_26",
    ]  # fmt: skip
    assert dict(plan.image("miniconda3-py312").held) == {"py312": "newer release 27.1.0-0"}


def test_a_newer_default_release_holds_flavour_tags_it_may_have_had(catalog: Catalog) -> None:
    # Its flavour is not in its tag: assume it claimed py314 too, so py314 never moves back.
    plan = plan_for(catalog, "miniconda3-ubuntu-26.5.3-1", ("miniconda3-ubuntu-27.1.0-0",))
    assert "py314-ubuntu" not in tags_of(plan, "miniconda3-ubuntu")
    assert "py314_26.5.3-1-ubuntu" in tags_of(plan, "miniconda3-ubuntu")


def test_pinned_flavour_image_owns_its_tags_when_the_default_flavour_is_the_same(
    catalog: Catalog,
) -> None:
    plan = plan_for(catalog, "miniconda3-24.5.0-0", pinned=pins("24.5.0-0", "py312"))
    assert "py312_24.5.0-0" in tags_of(plan, "miniconda3-py312")
    default = tags_of(plan, "miniconda3")
    assert "py312_24.5.0-0" not in default and "py312" not in default
    assert "latest" in default
    held = dict(plan.image("miniconda3").held)
    assert held["py312"] == "owned by pinned-flavour image miniconda3-py312"


def test_two_images_claiming_one_tag_is_a_plan_error() -> None:
    clash = CATALOG.replace("    tags: {suffix: -ubuntu}\n", "")
    with pytest.raises(
        PlanError, match=re.escape("both claim docker.io/continuumio/miniconda3:26.5.3-1")
    ):
        plan_for(parse_catalog(clash), "miniconda3-26.5.3-1")


# -- the plan document -----------------------------------------------------------------


def test_plan_json_and_matrix(catalog: Catalog) -> None:
    plan = plan_for(catalog, "miniconda3-26.5.3-1")
    document = json.loads(json.dumps(plan.to_json()))
    assert document["schema"] == "condabot.release/1"
    assert document["version"] == "26.5.3-1"
    image = document["images"][0]
    assert image["labels"] == {
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.version": "26.5.3-1",
        "org.opencontainers.image.revision": REV,
        "org.opencontainers.image.created": CREATED,
        "io.condabot.build": "1",
    }
    assert [(t["name"], t["kind"]) for t in image["tags"][:3]] == [
        ("26.5.3-1_build1", "build"), ("py314_26.5.3-1_build1", "build"), ("26.5.3-1", "version"),
    ]  # fmt: skip
    assert document["prerelease"] is False and document["build"] == 1
    assert image["targets"] == [
        {"registry": "dockerhub", "kind": "dockerhub", "host": "docker.io",
         "repository": "continuumio/miniconda3"},
        {"registry": "ecr", "kind": "ecr", "host": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
         "repository": "continuumio/miniconda3"},
    ]  # fmt: skip
    assert document["matrix"]["include"][:3] == [
        {"image": "miniconda3", "platform": "linux/amd64", "runner": "ubuntu-24.04"},
        {"image": "miniconda3", "platform": "linux/arm64", "runner": "ubuntu-24.04-arm"},
        {"image": "miniconda3-ubuntu", "platform": "linux/amd64", "runner": "ubuntu-24.04"},
    ]
    assert len(document["matrix"]["include"]) == 5


# -- builds: a rebuild of the same installers --------------------------------------------


def test_every_build_has_its_own_tags_before_its_suffix(catalog: Catalog) -> None:
    plan = plan_for(catalog, "miniconda3-26.5.3-1")
    assert [t.name for t in plan.image("miniconda3").build_tags] == [
        "26.5.3-1_build1", "py314_26.5.3-1_build1",
    ]  # fmt: skip
    assert [t.name for t in plan.image("miniconda3-ubuntu").build_tags] == [
        "26.5.3-1_build1-ubuntu", "py314_26.5.3-1_build1-ubuntu",
    ]  # fmt: skip
    assert [t.name for t in plan.image("miniconda3-py312").build_tags] == ["py312_26.5.3-1_build1"]
    assert all(t.kind is TagKind.BUILD and t.immutable for t in plan.image("miniconda3").build_tags)


def test_a_rebuild_tag_takes_the_version_tags_and_the_ladder_forward(catalog: Catalog) -> None:
    plan = plan_for(catalog, "miniconda3-26.5.3-1_build2", ("miniconda3-26.5.3-1",))
    assert (plan.build, plan.version.text) == (2, "26.5.3-1")
    image = plan.image("miniconda3")
    assert [t.name for t in image.all_tags] == [
        "26.5.3-1_build2", "py314_26.5.3-1_build2",
        "26.5.3-1", "py314_26.5.3-1", "26.5.3", "26.5", "26", "py314", "latest",
    ]  # fmt: skip
    assert dict(image.labels)["io.condabot.build"] == "2"


def test_an_older_build_never_takes_tags_back_from_a_newer_one(catalog: Catalog) -> None:
    existing = ("miniconda3-26.5.3-1", "miniconda3-26.5.3-1_build3", "miniconda3-27.1.0-0")
    plan = plan_for(catalog, "miniconda3-26.5.3-1_build2", existing)
    image = plan.image("miniconda3")
    assert [t.name for t in image.all_tags] == ["26.5.3-1_build2", "py314_26.5.3-1_build2"]
    held = dict(image.held)
    assert held["26.5.3-1"] == "newer release 26.5.3-1_build3"
    assert held["latest"] == "newer release 27.1.0-0"


@pytest.mark.parametrize("tag", ["miniconda3-26.5.3-1_build1", "miniconda3-26.5.3-1_build0"])
def test_build_one_is_the_release_tag_itself(catalog: Catalog, tag: str) -> None:
    with pytest.raises(ReleaseTagError) as caught:
        resolve_tag(tag, catalog)
    assert caught.value.exit_code == 14
    assert "tag it miniconda3-26.5.3-1, and a rebuild" in caught.value.message
    assert "miniconda3-26.5.3-1_build2" in caught.value.message


def test_a_rebuild_must_pin_the_version_it_names(catalog: Catalog) -> None:
    with pytest.raises(ReleaseTagError, match=re.escape("names version 26.5.4-0")):
        make_plan(
            catalog,
            resolve_tag("miniconda3-ubuntu-26.5.4-0_build2", catalog),
            pins("26.5.3-1"),
            (),
            REV,
            CREATED,
            SOURCE,
        )


# -- prereleases ----------------------------------------------------------------------------


def test_a_prerelease_writes_only_its_immutable_tags(catalog: Catalog) -> None:
    table = pins("26.5.3-1", miniconda3_py312="py312")
    plan = make_plan(
        catalog,
        resolve_tag("miniconda3-26.5.3-1", catalog),
        table,
        (),
        REV,
        CREATED,
        SOURCE,
        prerelease=True,
    )
    assert plan.prerelease
    for image in plan.images:
        assert image.all_tags and all(t.immutable for t in image.all_tags), image.name
        held = dict(image.held)
        assert all(why.startswith("prerelease") for why in held.values())
    assert tags_of(plan, "miniconda3") == ["26.5.3-1", "py314_26.5.3-1"]
    assert "latest" in dict(plan.image("miniconda3").held)
    assert "ubuntu" in dict(plan.image("miniconda3-ubuntu").held)
    assert "py312" in dict(plan.image("miniconda3-py312").held)


def test_plan_is_deterministic(catalog: Catalog) -> None:
    existing = ("miniconda3-26.5.2-0", "anaconda3-2024.10-1")
    first = plan_for(catalog, "miniconda3-26.5.3-1", existing)
    assert first == plan_for(catalog, "miniconda3-26.5.3-1", tuple(reversed(existing)))


# -- pins ------------------------------------------------------------------------------

SHA = "a" * 64
DOCKERFILE = f"""FROM debian:bookworm-slim
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_LINUX64="https://repo.anaconda.com/miniconda/Miniconda3-py314_26.5.3-1-Linux-x86_64.sh"
ARG SHA256SUM_LINUX64="{SHA}"
# renovate: datasource=custom.miniconda_installer
ARG INSTALLER_URL_AARCH64="https://repo.anaconda.com/miniconda/Miniconda3-py314_26.5.2-0-Linux-aarch64.sh"
ARG SHA256SUM_AARCH64="{SHA}"
"""


def test_pins_summarise_to_one_version_and_flavour(catalog: Catalog) -> None:
    image = catalog.image("miniconda3")
    amd64_only = DOCKERFILE.replace("26.5.2-0", "26.5.3-1")
    pinned = summarise(image, read_pins(amd64_only), "Dockerfile@abc")
    assert (pinned.version.text, pinned.flavour) == ("26.5.3-1", "py314")


def test_pins_that_differ_per_platform_are_refused(catalog: Catalog) -> None:
    from bot.errors import DockerfileError

    with pytest.raises(DockerfileError, match="different installers per platform"):
        summarise(catalog.image("miniconda3"), read_pins(DOCKERFILE), "Dockerfile@abc")


# -- forward only, whatever the order of releases ---------------------------------------

_versions = st.builds(
    lambda major, minor, patch, build: Version.parse(f"{major}.{minor}.{patch}-{build}"),
    st.integers(24, 27),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(0, 2),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_versions, min_size=1, max_size=8, unique=True))
def test_floating_tags_end_on_the_newest_claimant_in_any_release_order(
    order: list[Version],
) -> None:
    """Releases cut in any order (backports, rebuilds) leave every tag where releasing them
    oldest-first would: on the newest release that claims it."""
    image = parse_catalog(CATALOG).image("miniconda3-ubuntu")
    points_at: dict[str, Version] = {}
    for i, version in enumerate(order):
        earlier = [(v, image) for v in order[:i]]
        for tag in assign_tags(image, version, "py314", earlier).tags:
            points_at[tag.name] = version
    every = {t.name for v in order for t in candidate_tags(image, v, "py314")}
    assert set(points_at) == every
    for name, version in points_at.items():
        claimants = [
            v for v in order if name in {t.name for t in candidate_tags(image, v, "py314")}
        ]
        assert version == max(claimants), name


# -- Python lines and end of life --------------------------------------------------------

LINE = """
  - name: miniconda3-py313
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/debian/Dockerfile
    pins: dockerfiles/miniconda3/debian/lines/py313.pins
    platforms: [linux/amd64]
    python: py313
    repository: miniconda3
    registries: [dockerhub]
"""
LINE_PINS = DOCKERFILE.replace("FROM debian:bookworm-slim\n", "").replace("py314", "py313")


def test_a_lines_pins_become_build_arguments_of_the_shared_dockerfile() -> None:
    """Every arch is passed, empty when the line does not pin it: the Dockerfile's own
    default pin for that arch must never be built in the line's name."""
    line = parse_catalog(CATALOG + LINE).image("miniconda3-py313")
    amd64 = "\n".join(LINE_PINS.splitlines()[:3]) + "\n"
    pinned = summarise(line, read_pins(amd64), "lines/py313.pins@abc")
    url = "https://repo.anaconda.com/miniconda/Miniconda3-py313_26.5.3-1-Linux-x86_64.sh"
    assert dict(pinned.build_args) == {
        "INSTALLER_URL_LINUX64": url, "SHA256SUM_LINUX64": SHA,
        "INSTALLER_URL_AARCH64": "", "SHA256SUM_AARCH64": "",
        "INSTALLER_URL_PPC64LE": "", "SHA256SUM_PPC64LE": "",
        "INSTALLER_URL_S390X": "", "SHA256SUM_S390X": "",
    }  # fmt: skip
    catalog = parse_catalog(CATALOG + LINE)
    table = {**pins("26.5.3-1", miniconda3_py312="py312"), "miniconda3-py313": pinned}
    release = make_plan(
        catalog, resolve_tag("miniconda3-py313-26.5.3-1", catalog), table, (), REV, CREATED, SOURCE
    )
    assert dict(release.image("miniconda3-py313").build_args)["INSTALLER_URL_LINUX64"] == url
    assert "py313_26.5.3-1" in tags_of(release, "miniconda3-py313")


def test_a_new_line_without_pins_stops_its_release_saying_what_to_do() -> None:
    from bot.errors import DockerfileError

    line = parse_catalog(CATALOG + LINE).image("miniconda3-py313")
    with pytest.raises(DockerfileError, match="holds no installer pins yet") as caught:
        summarise(line, (), "lines/py313.pins@abc")
    assert "first-pins pull request" in (caught.value.hint or "")


def test_end_of_life_is_in_the_labels_and_the_index_annotations() -> None:
    from bot.release.index import make_index

    eol = "    end_of_life: {date: 2020-01-01, replacement: miniconda3}\n"
    catalog = parse_catalog(CATALOG.replace("    frozen: true\n", "    frozen: true\n" + eol))
    table = {"miniconda2": Pinned("miniconda2", Version.parse("4.8.3"), "py27", "x")}
    release = make_plan(
        catalog, resolve_tag("miniconda2-4.8.3", catalog), table, (), REV, CREATED, SOURCE
    )
    labels = dict(release.image("miniconda2").labels)
    assert labels["io.condabot.end-of-life"] == "2020-01-01"
    assert labels["io.condabot.replacement"] == "docker.io/continuumio/miniconda3"
    index = json.loads(make_index([], labels).body)
    assert index["annotations"]["io.condabot.end-of-life"] == "2020-01-01"
    assert "io.condabot.end-of-life" not in dict(plan_for(catalog, "miniconda3-26.5.3-1")
                                                 .image("miniconda3").labels)  # fmt: skip
