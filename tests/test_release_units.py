"""The pure release functions on their own, no Docker and no registry: the smoke test's
verdict (`check_smoke`), the image index (`make_index`) and the report (`render`,
`merge_section`), fed good and hostile inputs. Each assertion is on what a user reads: an
error's message and exit code, the index a registry serves, the markdown of the report."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.catalog import Catalog, parse_catalog
from bot.errors import BuildError, CatalogError, PublishError
from bot.release import sbom
from bot.release.index import (
    INSTALLER_LABEL,
    INSTALLER_SHA_LABEL,
    StagedPlatform,
    installer_records,
    make_index,
)
from bot.release.pinned import Installer, Pinned
from bot.release.plan import ImageRelease, ReleasePlan, make_plan
from bot.release.publish import Assembled, ImageOutcome, TargetOutcome
from bot.release.registry import OCI_INDEX, OCI_MANIFEST, Manifest
from bot.release.report import BEGIN, END, merge_section, render
from bot.release.smoke import check_smoke, machine_problem
from bot.release.tagname import resolve_tag
from bot.release.verify import Check
from bot.versions import Version

# Names the catalog allows that mean something in markdown: `_`, `__`, `.`, `-`.
CATALOG = """
version: 1
registries:
  hub: {kind: dockerhub, host: docker.io, namespace: continuumio}
  ecr_mirror-2: {kind: ecr, host: 123456789012.dkr.ecr.us-east-1.amazonaws.com, namespace: a__b.c}
images:
  - name: miniconda3
    product: miniconda3
    dockerfile: dockerfiles/miniconda3/debian/Dockerfile
    platforms: [linux/amd64, linux/arm64]
    registries: [hub, ecr_mirror-2]
  - name: anaconda3
    product: anaconda3
    dockerfile: dockerfiles/anaconda3/Dockerfile
    platforms: [linux/amd64]
    registries: [hub]
"""
REV = "0123456789abcdef0123456789abcdef01234567"
CREATED = "2026-06-01T12:00:00Z"
SHA = {"x86_64": "a" * 64, "aarch64": "b" * 64}
OCI_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(CATALOG, "units.yaml")


def plan_of(
    catalog: Catalog,
    tag: str = "miniconda3-26.5.3-1",
    flavour: str | None = "py314",
    existing: tuple[str, ...] = (),
    *,
    prerelease: bool = False,
) -> ReleasePlan:
    release = resolve_tag(tag, catalog)
    version = release.version
    pinned = {
        image.name: Pinned(
            image.name,
            version,
            flavour,
            image.dockerfile,
            installers=tuple(
                Installer(
                    p.arch, installer(image.product.value, version, flavour, p.arch), SHA[p.arch]
                )
                for p in image.platforms
            ),
        )
        for image in release.images
    }
    return make_plan(
        catalog, release, pinned, existing, REV, CREATED, "https://x", prerelease=prerelease
    )


def installer(product: str, version: Version, flavour: str | None, arch: str) -> str:
    prefix = {"miniconda3": "Miniconda3", "anaconda3": "Anaconda3"}[product]
    return f"{prefix}-{flavour + '_' if flavour else ''}{version}-Linux-{arch}.sh"


# -- the smoke test ----------------------------------------------------------------------------


def smoke_output(image: ImageRelease, arch: str = "x86_64", **changes: str | None) -> str:
    """What SMOKE_SCRIPT prints in a good image; `changes` replace (None: drop) lines."""
    values: dict[str, str | None] = {
        "prefix": "/opt/conda",
        "machine": arch,
        "conda": f"conda {image.version.conda}",
        "python": "Python 3.14.1",
        "python_path": "/opt/conda/bin/python",
        "python_real": "/opt/conda/bin/python3.14",
        "filename": installer(image.product, image.version, image.flavour, arch),
        "sha256": SHA[arch],
        "arch": arch,
        **changes,
    }
    return "".join(f"{key}={value}\n" for key, value in values.items() if value is not None)


def smoke_problems(
    output: str,
    image: ImageRelease,
    build_args: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> str:
    """The smoke test's one-line message for an image that fails it."""
    with pytest.raises(BuildError) as caught:
        check_smoke(output, image, image.platforms[0], build_args or {}, labels)
    assert caught.value.exit_code == 10 and "\n" not in caught.value.message
    assert caught.value.hint == "the image was not pushed; fix the Dockerfile or the pins"
    return caught.value.what


def passes(output: str, image: ImageRelease, build_args: dict[str, str] | None = None) -> None:
    check_smoke(output, image, image.platforms[0], build_args or {})


def test_a_good_image_passes_its_smoke_test(catalog: Catalog) -> None:
    image = plan_of(catalog).image("miniconda3")
    labels = {INSTALLER_SHA_LABEL: SHA["x86_64"]}
    check_smoke(smoke_output(image), image, image.platforms[0], {}, labels)
    passes(smoke_output(image).replace("\n", "\r\n"), image)  # read without the \r
    moved = smoke_output(image, prefix="/usr/local", python_path="/usr/local/bin/python")
    passes(moved, image, {"CONDA_PREFIX_DIR": "/usr/local"})
    passes(moved, image, {"CONDA_PREFIX_DIR": "/usr/local/"})  # as written in a Dockerfile


@pytest.mark.parametrize(
    ("changes", "build_args", "problem"),
    [
        ({"machine": "aarch64"}, {}, "uname -m says 'aarch64', not x86_64"),
        (
            {"arch": "aarch64", "filename": "Miniconda3-py314_26.5.3-1-Linux-aarch64.sh"},
            {},
            "it installed Miniconda3-py314_26.5.3-1-Linux-aarch64.sh on aarch64, not x86_64",
        ),
        ({}, {"CONDA_PREFIX_DIR": "/usr/local"}, "conda's base is '/opt/conda', not /usr/local"),
        ({}, {"CONDA_PREFIX_DIR": "/usr/local"}, "'/opt/conda/bin/python', outside /usr/local"),
        # A sibling folder whose name starts with the prefix's is still outside it.
        ({"python_path": "/opt/conda2/bin/python"}, {}, "'/opt/conda2/bin/python', outside"),
        ({"python_path": "/usr/bin/python"}, {}, "python resolves to '/usr/bin/python'"),
        ({"python_path": None}, {}, "python resolves to None, outside /opt/conda"),
        ({"conda": "conda 26.5.2"}, {}, "conda --version says '26.5.2', not 26.5.3"),
        ({"conda": "conda 26.5.3-1"}, {}, "conda --version says '26.5.3-1', not 26.5.3"),
        ({"python": None}, {}, "python --version says None"),
        ({"python": "Python 3.13.2"}, {}, "python is 3.13, not flavour py314"),
        ({"python": "Python three"}, {}, "python --version says 'Python three'"),
        (
            {"filename": "Miniconda3-py314_26.5.2-0-Linux-x86_64.sh"},
            {},
            "it installed Miniconda3-py314_26.5.2-0-Linux-x86_64.sh, not version 26.5.3-1",
        ),
        (
            {"filename": "Miniconda3-py313_26.5.3-1-Linux-x86_64.sh"},
            {},
            "not flavour py314",
        ),
        ({"filename": None}, {}, "no installer identity in the image (.condabot-installer: '')"),
        ({"filename": "../../evil.sh"}, {}, "(.condabot-installer: '../../evil.sh')"),
    ],
)
def test_a_wrong_image_fails_its_smoke_test_naming_the_problem(
    catalog: Catalog, changes: dict[str, str | None], build_args: dict[str, str], problem: str
) -> None:
    image = plan_of(catalog).image("miniconda3")
    message = smoke_problems(smoke_output(image, **changes), image, build_args)
    assert message.startswith("smoke test of miniconda3 for linux/amd64 failed: ")
    assert problem in message


def test_an_installer_other_than_the_labelled_one_fails(catalog: Catalog) -> None:
    image = plan_of(catalog).image("miniconda3")
    labels = {INSTALLER_SHA_LABEL: "c" * 64}
    message = smoke_problems(smoke_output(image), image, labels=labels)
    assert f"it records installer sha256 '{SHA['x86_64']}', not {'c' * 64}" in message


def test_an_image_that_prints_nothing_fails_with_every_problem_in_one_line(
    catalog: Catalog,
) -> None:
    image = plan_of(catalog).image("miniconda3")
    message = smoke_problems("", image)
    for problem in ("no installer identity", "uname -m says None", "conda's base is None",
                    "python resolves to None", "conda --version says ''",
                    "python --version says None"):  # fmt: skip
        assert problem in message


def test_a_four_part_miniconda_version_ships_the_three_part_conda(catalog: Catalog) -> None:
    image = plan_of(catalog, "miniconda3-4.7.12.1", flavour=None).image("miniconda3")
    assert image.version.conda == "4.7.12"
    passes(smoke_output(image, python="Python 3.7.4"), image)
    wrong = smoke_output(image, conda="conda 4.7.12.1", python="Python 3.7.4")
    assert "conda --version says '4.7.12.1', not 4.7.12" in smoke_problems(wrong, image)


def test_anaconda_needs_any_conda_version_but_a_real_one(catalog: Catalog) -> None:
    image = plan_of(catalog, "anaconda3-2025.06-0", flavour="py313").image("anaconda3")
    good = smoke_output(image, conda="conda 25.5.1", python="Python 3.13.5")
    passes(good, image)
    bad = smoke_output(image, conda="conda: command not found", python="Python 3.13.5")
    assert "conda --version says 'conda: command not found'" in smoke_problems(bad, image)


def elf(machine: int, *, big_endian: bool = False) -> bytes:
    """The first 20 bytes of an ELF executable for `machine` (e_machine)."""
    order = "big" if big_endian else "little"
    return (
        b"\x7fELF\x02"
        + (b"\x02" if big_endian else b"\x01")
        + bytes(12)
        + machine.to_bytes(2, order)
    )


def test_the_interpreter_must_be_built_for_the_platform() -> None:
    python = "/opt/conda/bin/python3.14"
    assert machine_problem(elf(0x3E), python, "x86_64") is None
    assert machine_problem(elf(0x16, big_endian=True), python, "s390x") is None
    assert machine_problem(elf(0xB7), python, "x86_64") == (
        f"{python} is an executable for aarch64, not x86_64"
    )
    assert machine_problem(elf(0x99), python, "x86_64") == (
        f"{python} is an executable for ELF machine 0x99, not x86_64"
    )
    assert machine_problem(b"MZ\x90\x00", python, "x86_64") == (
        f"{python} is neither an ELF executable nor a script"
    )
    assert machine_problem(b"\x7fELF", python, "x86_64") is not None  # cut short


# -- the image index ---------------------------------------------------------------------------


def staged(
    platform: str, arch: str | None = None, labels: dict[str, str] | None = None
) -> StagedPlatform:
    """A classic build's staged image: one image manifest and its config."""
    os_name, oci_arch = platform.split("/")[:2]
    config: dict[str, Any] = {
        "architecture": arch or oci_arch,
        "os": os_name,
        "config": {"Labels": labels or {}},
    }
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "platform": platform})
    manifest = Manifest(OCI_MANIFEST, body.encode())
    return StagedPlatform(platform, f"staging/small:{oci_arch}", manifest, config, (manifest,))


def recorded(arch: str) -> dict[str, str]:
    return {INSTALLER_LABEL: f"Miniconda3-py314_26.5.3-1-Linux-{arch}.sh",
            INSTALLER_SHA_LABEL: SHA[arch]}  # fmt: skip


def test_the_index_lists_each_platform_with_the_installer_it_was_built_from() -> None:
    amd64 = staged("linux/amd64", labels=recorded("x86_64"))
    arm64 = staged("linux/arm64", labels=recorded("aarch64"))
    index = make_index([amd64, arm64], {"org.opencontainers.image.version": "26.5.3-1"})
    document = index.document
    assert index.media_type == OCI_INDEX and document["mediaType"] == OCI_INDEX
    assert [e["platform"] for e in document["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    assert [e["digest"] for e in document["manifests"]] == [
        amd64.manifest.digest,
        arm64.manifest.digest,
    ]
    assert document["manifests"][1]["annotations"] == recorded("aarch64")
    assert document["annotations"] == {"org.opencontainers.image.version": "26.5.3-1"}
    assert installer_records(index) == {
        "linux/amd64": SHA["x86_64"],
        "linux/arm64": SHA["aarch64"],
    }


def test_a_rerun_makes_the_same_index_bytes_whatever_the_label_order() -> None:
    platforms = [staged("linux/amd64", labels=recorded("x86_64"))]
    first = make_index(platforms, {"b": "2", "a": "1"})
    again = make_index(platforms, {"a": "1", "b": "2"})
    assert first.body == again.body and first.digest == again.digest


def test_an_image_staged_for_another_platform_is_refused() -> None:
    wrong = staged("linux/arm64", arch="amd64")
    with pytest.raises(PublishError) as caught:
        make_index([staged("linux/amd64"), wrong], {})
    assert caught.value.exit_code == 11
    assert caught.value.message == (
        "staged image staging/small:arm64 is for linux/amd64, not linux/arm64; "
        "rebuild that platform on its own runner"
    )


def buildx(children: list[dict[str, Any]], labels: dict[str, str]) -> StagedPlatform:
    """A BuildKit build's staged image: an index of the image and its attestations."""
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children})
    manifest = Manifest(OCI_INDEX, body.encode())
    config = {"architecture": "amd64", "os": "linux", "config": {"Labels": labels}}
    return StagedPlatform("linux/amd64", "staging/small:amd64", manifest, config, ())


IMAGE = {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": 10,
         "platform": {"architecture": "amd64", "os": "linux"}}  # fmt: skip
ATTESTATION = {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "2" * 64, "size": 20,
               "platform": {"architecture": "unknown", "os": "unknown"},
               "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}  # fmt: skip


def test_a_buildx_image_keeps_its_attestations_and_only_the_image_carries_the_record() -> None:
    index = make_index([buildx([IMAGE, ATTESTATION], recorded("x86_64"))], {})
    image, attestation = index.document["manifests"]
    assert image["digest"] == IMAGE["digest"] and image["annotations"] == recorded("x86_64")
    assert attestation == ATTESTATION
    assert installer_records(index) == {"linux/amd64": SHA["x86_64"]}


def test_a_buildx_index_with_no_image_in_it_is_refused() -> None:
    with pytest.raises(PublishError, match="is for no platform, not linux/amd64"):
        make_index([buildx([ATTESTATION], {})], {})


def test_an_arm_variant_is_kept_in_the_index() -> None:
    arm = staged("linux/arm64")
    variant = StagedPlatform(
        arm.platform, arm.ref, arm.manifest, {**arm.config, "variant": "v8"}, arm.children
    )
    (entry,) = make_index([variant], {}).document["manifests"]
    assert entry["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}


def test_an_image_built_before_installers_were_recorded_reads_as_unrecorded() -> None:
    index = make_index([staged("linux/amd64")], {})
    assert "annotations" not in index.document["manifests"][0]
    assert installer_records(index) == {"linux/amd64": None}


# -- the report --------------------------------------------------------------------------------


def sbom_of(platform: StagedPlatform) -> Manifest:
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": sbom.MEDIA_TYPE,
        "subject": {"mediaType": OCI_MANIFEST, "digest": platform.image, "size": 1},
    }
    return Manifest(OCI_MANIFEST, json.dumps(document).encode())


def outcome(image: ImageRelease, *, sboms: bool = True) -> ImageOutcome:
    platforms = tuple(staged(p.platform, labels=recorded(p.arch)) for p in image.platforms)
    index = make_index(platforms, dict(image.labels))
    referrers = tuple(sbom_of(p) for p in platforms) if sboms else ()
    assembled = Assembled(image, f"staging/{image.name}", platforms, index, referrers)
    return ImageOutcome(assembled, tuple(TargetOutcome(t, (), ()) for t in image.targets))


def verified(outcomes: list[ImageOutcome], *missing: tuple[str, str]) -> list[Check]:
    """A check per (target, tag), each found at the index but those `missing`."""
    return [
        Check(t, tag.name, o.assembled.digest, None if (t.registry, tag.name) in missing
              else o.assembled.digest)
        for o in outcomes
        for t in o.assembled.image.targets
        for tag in o.assembled.image.all_tags
    ]  # fmt: skip


def table(section: str) -> list[str]:
    return [line for line in section.splitlines() if line.startswith("|")]


def test_the_report_shows_every_tag_in_every_registry_and_how_to_pull_it(
    catalog: Catalog,
) -> None:
    plan = plan_of(catalog)
    outcomes = [outcome(plan.image("miniconda3"))]
    digest = outcomes[0].assembled.digest
    section = render(plan, outcomes, verified(outcomes, ("ecr_mirror-2", "latest")))
    assert section.startswith(f"{BEGIN}\n## Published images: miniconda3-26.5.3-1\n")
    assert section.endswith(f"\n{END}\n")
    assert (f"Version `26.5.3-1`, build 1, revision `{REV[:12]}`, created {CREATED}."
            in section)  # fmt: skip
    assert (
        "### miniconda3" in section and f"Index `{digest}`; platforms: `linux/amd64` (" in section
    )
    rows = table(section)
    assert rows[0] == "| tag | hub | ecr_mirror-2 |"  # the registry's name, as written
    assert all(row.count("|") == 4 for row in rows)  # no name adds or eats a cell
    cell = f"`{digest[:19]}…`"
    assert f"| `26.5.3-1_build1` (build) | {cell} ✓ | {cell} ✓ |" in rows
    assert f"| `py314_26.5.3-1` (version) | {cell} ✓ | {cell} ✓ |" in rows
    assert f"| `latest` | {cell} ✓ | {cell} ✗ |" in rows  # the one tag that did not verify
    assert "docker pull continuumio/miniconda3:26.5.3-1_build1" in section
    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/a__b.c/miniconda3"
    assert f"docker pull {ecr}:26.5.3-1_build1" in section
    assert f"docker pull continuumio/miniconda3@{digest}" in section
    for platform, sbom_manifest in outcomes[0].assembled.sboms():
        assert f"- `{platform}`: `{sbom_manifest.digest}`" in section
        assert f"oras pull docker.io/continuumio/miniconda3@{sbom_manifest.digest}" in section
        assert f"oras pull {ecr}@{sbom_manifest.digest}" in section
    assert "Prerelease" not in section and "Not moved" not in section


def test_the_report_says_which_tags_a_newer_release_or_a_prerelease_kept(
    catalog: Catalog,
) -> None:
    backport = plan_of(catalog, "miniconda3-26.4.1-0", existing=("miniconda3-26.5.3-1",))
    section = render(backport, [outcome(backport.image("miniconda3"), sboms=False)], [])
    assert "Not moved: `26` (newer release 26.5.3-1)" in section and "`latest` (newer" in section
    assert "SBOMs" not in section and "✓" not in section  # nothing was read back
    early = plan_of(catalog, prerelease=True)
    section = render(early, [outcome(early.image("miniconda3"))], [])
    assert "Prerelease: only build and version tags were written; no floating tag." in section
    assert "`latest` (prerelease: floating tags wait for the release)" in section
    assert "| `latest` |" not in section


def test_a_report_with_no_image_is_still_one_whole_section(catalog: Catalog) -> None:
    section = render(plan_of(catalog), [], [])
    assert section.startswith(BEGIN) and section.endswith(f"{END}\n") and "###" not in section
    assert merge_section("Notes.", section) == f"Notes.\n\n{section}"


def test_names_that_would_break_the_markdown_table_never_reach_the_report() -> None:
    broken = CATALOG.replace("ecr_mirror-2", "ecr|mirror")
    with pytest.raises(CatalogError):
        parse_catalog(broken, "units.yaml")


SECTION = f"{BEGIN}\n## Published images: miniconda3-26.5.3-1\n{END}\n"


@pytest.mark.parametrize(
    "body",
    [
        f"Quote the marker {BEGIN} to keep notes.\n",  # a maintainer's stray BEGIN
        f"A stray {END} end marker.\n",
        f"Notes.\n\n{BEGIN}\nold report\n{END}\nWritten below the report.\n",
        "Notes from the web editor.\r\n\r\n",
        "   \n\n",
    ],
)
def test_a_rerun_keeps_the_maintainers_text_and_one_report(body: str) -> None:
    merged = merge_section(body, SECTION)
    assert merge_section(merged, SECTION) == merged
    assert merged.count(SECTION) == 1 and "old report" not in merged
    kept = body.replace(f"{BEGIN}\nold report\n{END}\n", "").strip()
    for line in kept.splitlines():
        assert line.strip() in merged
