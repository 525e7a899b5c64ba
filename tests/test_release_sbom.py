"""The SBOM (CycloneDX 1.6 JSON) and how it is attached: the document is validated against
CycloneDX's official schema and its purls parsed by packageurl-python (both from the test
dependency cyclonedx-python-lib); attaching runs against Debian's distribution registry
on loopback, which has no OCI referrers API, so the referrers tag schema is what is used."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from bot.release import sbom
from bot.release.referrers import artifact, attach, descriptor, discover, fallback_tag
from bot.release.registry import OCI_MANIFEST, Credentials, RegistryClient
from tests.harness.registry import Registries
from tests.test_release_registry import FAST, image_manifest

CONDA_META = {
    "python-3.14.1-h1a2b3c4_0.json": json.dumps({
        "name": "python", "version": "3.14.1", "build": "h1a2b3c4_0", "build_number": 0,
        "channel": "https://repo.anaconda.com/pkgs/main/linux-aarch64", "subdir": "linux-aarch64",
        "fn": "python-3.14.1-h1a2b3c4_0.conda", "sha256": "a" * 64, "md5": "b" * 32,
        "license": "Python Software Foundation License",
        "url": "https://repo.anaconda.com/pkgs/main/linux-aarch64/python-3.14.1-h1a2b3c4_0.conda",
    }).encode(),
    "ca-certificates-2026.1.1-hd43f75c_0.json": json.dumps({
        "name": "ca-certificates", "version": "2026.1.1", "build": "hd43f75c_0",
        "channel": "https://conda.anaconda.org/conda-forge", "subdir": "linux-aarch64",
        "fn": "ca-certificates-2026.1.1-hd43f75c_0.tar.bz2",
    }).encode(),
    "history": b"==> 2026-06-01 12:00:00 <==\n",
    "broken.json": b"{not json",
}  # fmt: skip
DPKG_STATUS = """\
Package: libc6
Status: install ok installed
Architecture: arm64
Source: glibc
Version: 2.41-12
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs.

Package: tini
Status: install ok installed
Architecture: arm64
Version: 0.19.0-1+b3

Package: curl
Status: deinstall ok config-files
Architecture: arm64
Version: 8.14.1-2

Package: libpam-runtime
Status: install ok installed
Architecture: all
Source: pam
Version: 1:1.7.0-5
"""
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\n'
SUBJECT = sbom.Subject("miniconda3", "26.5.3-1_build2", "sha256:" + "c" * 64, "linux/arm64")
CREATED = "2026-06-01T12:00:00Z"


def contents() -> sbom.Contents:
    return sbom.Contents(
        conda=sbom.parse_conda_meta(CONDA_META),
        debs=sbom.parse_dpkg_status(DPKG_STATUS),
        os_release=sbom.parse_os_release(OS_RELEASE),
        installer=sbom.parse_installer_record(
            f"filename=Miniconda3-py314_26.5.3-1-Linux-aarch64.sh\nsha256={'d' * 64}\narch=aarch64\n"
        ),
    )


def components(document: bytes) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in json.loads(document)["components"]}


def test_the_sbom_is_valid_cyclonedx_with_purls_for_conda_and_debian_packages() -> None:
    document = sbom.document(SUBJECT, contents(), CREATED)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(document.decode()) is None
    found = components(document)
    assert set(found) == {
        "python", "ca-certificates", "libc6", "tini", "libpam-runtime",
        "Miniconda3-py314_26.5.3-1-Linux-aarch64.sh",
    }  # fmt: skip
    python = PackageURL.from_string(found["python"]["purl"])
    assert (python.type, python.name, python.version) == ("conda", "python", "3.14.1")
    assert python.qualifiers == {
        "build": "h1a2b3c4_0", "channel": "main", "subdir": "linux-aarch64", "type": "conda",
    }  # fmt: skip
    assert {"alg": "SHA-256", "content": "a" * 64} in found["python"]["hashes"]
    forge = PackageURL.from_string(found["ca-certificates"]["purl"])
    assert forge.qualifiers["channel"] == "conda-forge"
    assert forge.qualifiers["type"] == "tar.bz2"
    pam = PackageURL.from_string(found["libpam-runtime"]["purl"])
    assert (pam.type, pam.namespace, pam.version) == ("deb", "debian", "1:1.7.0-5")
    assert pam.qualifiers == {"arch": "all", "distro": "debian-13"}
    assert "%3A" in found["libpam-runtime"]["purl"]  # the epoch's colon, encoded
    assert found["tini"]["purl"] == "pkg:deb/debian/tini@0.19.0-1%2Bb3?arch=arm64&distro=debian-13"
    assert "curl" not in found  # removed, only its configuration files left
    image = json.loads(document)["metadata"]["component"]
    assert image["type"] == "container"
    assert PackageURL.from_string(image["purl"]).qualifiers == {"arch": "arm64"}
    assert image["purl"].startswith("pkg:oci/miniconda3@sha256%3A" + "c" * 64)
    installer = found["Miniconda3-py314_26.5.3-1-Linux-aarch64.sh"]
    assert installer["type"] == "file" and installer["hashes"][0]["content"] == "d" * 64


def test_the_sbom_is_the_same_bytes_on_every_run() -> None:
    first = sbom.document(SUBJECT, contents(), CREATED)
    shuffled = dict(reversed(list(CONDA_META.items())))
    again = sbom.Contents(
        sbom.parse_conda_meta(shuffled),
        *(getattr(contents(), f) for f in ("debs", "os_release", "installer")),
    )
    assert sbom.document(SUBJECT, again, CREATED) == first
    other = sbom.Subject(SUBJECT.name, SUBJECT.version, SUBJECT.digest, "linux/amd64")
    assert (
        json.loads(sbom.document(other, contents(), CREATED))["serialNumber"]
        != json.loads(first)["serialNumber"]
    )


def test_an_image_without_dpkg_or_conda_meta_still_gets_a_valid_sbom() -> None:
    empty = sbom.Contents((), sbom.parse_dpkg_status(""), None, None)
    document = sbom.document(SUBJECT, empty, CREATED)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(document.decode()) is None
    assert json.loads(document)["components"] == []


# -- attached through the referrers tag schema ----------------------------------------------


@pytest.fixture
def ecr(release_env: Registries) -> RegistryClient:
    user, password = release_env.ecr.auth or ("", "")
    return RegistryClient(release_env.ecr.host, Credentials(user, password), policy=FAST)


def test_the_distribution_registry_here_has_no_referrers_api(ecr: RegistryClient) -> None:
    subject = image_manifest(ecr, "acme/probe", b"probe layer")
    ecr.put_manifest("acme/probe", subject.digest, subject)
    assert ecr.referrers("acme/probe", subject.digest) is None  # 404: the tag schema it is


def test_an_sbom_is_attached_through_the_tag_schema_keeping_other_referrers(
    ecr: RegistryClient, release_env: Registries
) -> None:
    repo = "acme/attached"
    subject = image_manifest(ecr, repo, b"image layer")
    ecr.put_manifest(repo, subject.digest, subject)
    # Someone else's referrer (a signature, say) is already listed under the subject.
    theirs = artifact(subject, "application/vnd.dev.sigstore.bundle.v0.3+json", b"sig", "s", {})
    assert attach(ecr, repo, theirs)
    payload = sbom.document(SUBJECT, contents(), CREATED)
    ours = artifact(subject, sbom.MEDIA_TYPE, payload, sbom.FILENAME, {"k": "v"})
    document = ours.manifest.document
    assert document["subject"] == {
        "mediaType": OCI_MANIFEST, "digest": subject.digest, "size": len(subject.body),
    }  # fmt: skip
    assert document["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert document["artifactType"] == sbom.MEDIA_TYPE
    assert attach(ecr, repo, ours)
    index = ecr.get_manifest(repo, fallback_tag(subject.digest))
    assert index is not None and index.is_index
    assert {e["digest"] for e in index.children()} == {theirs.digest, ours.digest}
    assert discover(ecr, repo, subject.digest, sbom.MEDIA_TYPE) == [descriptor(ours.manifest)]
    assert ecr.get_blob(repo, document["layers"][0]["digest"]) == payload
    release_env.ecr.mark()
    assert not attach(ecr, repo, ours)  # already there: nothing written
    assert [a for a in release_env.ecr.accesses() if a.method in ("PUT", "POST", "PATCH")] == []


def test_discover_finds_nothing_for_a_subject_without_referrers(ecr: RegistryClient) -> None:
    assert discover(ecr, "acme/none", "sha256:" + "e" * 64) == []
    assert fallback_tag("sha256:" + "e" * 64) == "sha256-" + "e" * 64
