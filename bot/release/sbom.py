"""The SBOM of one platform image: what is inside it, as CycloneDX 1.6 JSON. Pure.

Read from the image's files (nothing in it is run, so any architecture is read alike):
- every conda package of the prefix, from `<prefix>/conda-meta/*.json`, with its
  `pkg:conda/<name>@<version>?build=...&channel=...&subdir=...&type=...` purl and sha256;
- every Debian or Ubuntu package dpkg lists as installed (`/var/lib/dpkg/status`), with its
  `pkg:deb/<debian|ubuntu>/<name>@<version>?arch=...&distro=<id>-<version>` purl;
- the installer the image was built from (`<prefix>/.condabot-installer`), as a file.

Why CycloneDX rather than SPDX: every component carries its purl as a field of its own
(SPDX 2.3 files it under `externalRefs`), which is what vulnerability scanners match on;
the image itself is the document's `metadata.component` (type `container`); and its
official JSON schema (shipped by cyclonedx-python-lib) lets the tests validate every
document offline. `cosign attest --type cyclonedx`, Trivy, Grype and Docker Scout read it.

The document is deterministic: its time is the release's `created`, its serial number a
UUID derived from the image's digest and platform, its components sorted; an identical
rerun makes the same bytes, so the same artifact digest, and uploads nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot import __version__

MEDIA_TYPE = "application/vnd.cyclonedx+json"
FILENAME = "sbom.cdx.json"
_SERIAL_NAMESPACE = uuid.UUID("6f1c6c2e-5d0e-4f8e-9b57-2f7a1c9e0b3d")


@dataclass(frozen=True)
class CondaPackage:
    name: str
    version: str
    build: str
    channel: str
    subdir: str
    package_type: str  # "conda" or "tar.bz2"
    sha256: str
    md5: str
    license: str
    url: str

    @property
    def purl(self) -> str:
        qualifiers = {
            "build": self.build,
            "channel": self.channel,
            "subdir": self.subdir,
            "type": self.package_type,
        }
        return _purl("conda", None, self.name, self.version, qualifiers)


@dataclass(frozen=True)
class DebPackage:
    name: str
    version: str
    arch: str
    source: str

    def purl(self, distro: OsRelease) -> str:
        qualifiers = {"arch": self.arch, "distro": distro.distro}
        return _purl("deb", distro.id, self.name, self.version, qualifiers)


@dataclass(frozen=True)
class OsRelease:
    id: str  # "debian", "ubuntu"
    version_id: str  # "13", "26.04"
    pretty_name: str

    @property
    def distro(self) -> str:
        return f"{self.id}-{self.version_id}" if self.version_id else self.id


@dataclass(frozen=True)
class Installer:
    filename: str
    sha256: str


@dataclass(frozen=True)
class Contents:
    conda: tuple[CondaPackage, ...]
    debs: tuple[DebPackage, ...]
    os_release: OsRelease | None
    installer: Installer | None


# -- reading the image's files ---------------------------------------------------------------


def parse_conda_meta(files: Mapping[str, bytes]) -> tuple[CondaPackage, ...]:
    """The packages of a prefix's `conda-meta/` (name -> bytes); other files are skipped."""
    packages = []
    for name, data in files.items():
        if not name.endswith(".json"):
            continue
        try:
            record = json.loads(data)
        except ValueError:
            continue
        if not isinstance(record, dict) or not record.get("name"):
            continue
        packages.append(_conda_package(record))
    return tuple(sorted(packages, key=lambda p: (p.name, p.version, p.build)))


def _conda_package(record: Mapping[str, Any]) -> CondaPackage:
    filename = str(record.get("fn") or record.get("url", "").rsplit("/", 1)[-1])
    channel = str(record.get("channel") or "").rstrip("/")
    subdir = str(record.get("subdir") or "")
    if channel.endswith("/" + subdir):  # older records name the channel with its subdir
        channel = channel[: -len(subdir) - 1]
    return CondaPackage(
        name=str(record["name"]),
        version=str(record.get("version", "")),
        build=str(record.get("build", "")),
        channel=channel.rsplit("/", 1)[-1],
        subdir=subdir,
        package_type="conda" if filename.endswith(".conda") else "tar.bz2",
        sha256=str(record.get("sha256") or ""),
        md5=str(record.get("md5") or ""),
        license=str(record.get("license") or ""),
        url=str(record.get("url") or ""),
    )


def parse_dpkg_status(text: str) -> tuple[DebPackage, ...]:
    """The packages dpkg's status file lists as installed (`Status: install ok installed`)."""
    packages = []
    for stanza in text.split("\n\n"):
        fields = _fields(stanza)
        if fields.get("Status", "").split()[-1:] != ["installed"] or "Package" not in fields:
            continue
        source = fields.get("Source", fields["Package"]).split(" ", 1)[0]
        packages.append(
            DebPackage(
                fields["Package"], fields.get("Version", ""), fields.get("Architecture", ""), source
            )
        )
    return tuple(sorted(packages, key=lambda p: (p.name, p.arch, p.version)))


def _fields(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t") or ":" not in line:
            continue  # a continuation line: descriptions, conffiles
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def parse_os_release(text: str) -> OsRelease | None:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    if "ID" not in values:
        return None
    return OsRelease(values["ID"], values.get("VERSION_ID", ""), values.get("PRETTY_NAME", ""))


def parse_installer_record(text: str) -> Installer | None:
    values = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)
    if not values.get("filename"):
        return None
    return Installer(values["filename"].strip(), values.get("sha256", "").strip())


# -- the document ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The platform image the SBOM describes."""

    name: str  # the repository's last part, e.g. "miniconda3"
    version: str  # the build, e.g. "26.5.3-1_build2"
    digest: str  # its image manifest's digest
    platform: str  # "linux/arm64"


def document(subject: Subject, contents: Contents, created: str) -> bytes:
    components = [*_conda_components(contents.conda), *_deb_components(contents)]
    if contents.installer is not None:
        components.append(_installer_component(contents.installer))
    components.sort(key=lambda c: (c["type"], c["name"], c.get("version", ""), c["bom-ref"]))
    image = _image_component(subject)
    serial = uuid.uuid5(_SERIAL_NAMESPACE, subject.digest + subject.platform)
    bom = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": created,
            "tools": {
                "components": [{"type": "application", "name": "condabot", "version": __version__}]
            },
            "component": image,
        },
        "components": components,
        "dependencies": [
            {"ref": image["bom-ref"], "dependsOn": [c["bom-ref"] for c in components]}
        ],
    }
    return json.dumps(bom, indent=2, sort_keys=True).encode() + b"\n"


def _image_component(subject: Subject) -> dict[str, Any]:
    arch = subject.platform.split("/")[1]
    purl = _purl("oci", None, subject.name, subject.digest, {"arch": arch})
    return {
        "type": "container",
        "bom-ref": purl,
        "name": subject.name,
        "version": subject.version,
        "purl": purl,
        "properties": [{"name": "condabot:platform", "value": subject.platform}],
    }


def _conda_components(packages: Iterable[CondaPackage]) -> list[dict[str, Any]]:
    components = []
    for package in packages:
        hashes = [{"alg": "SHA-256", "content": package.sha256}] if _hex(package.sha256, 64) else []
        if _hex(package.md5, 32):
            hashes.append({"alg": "MD5", "content": package.md5})
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": package.purl,
            "name": package.name,
            "version": package.version,
            "purl": package.purl,
        }
        if hashes:
            component["hashes"] = hashes
        if package.license:
            component["licenses"] = [{"license": {"name": package.license}}]
        if package.url:
            component["externalReferences"] = [{"type": "distribution", "url": package.url}]
        components.append(component)
    return components


def _deb_components(contents: Contents) -> list[dict[str, Any]]:
    if contents.os_release is None:
        return []
    components = []
    for package in contents.debs:
        purl = package.purl(contents.os_release)
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": purl,
            "name": package.name,
            "version": package.version,
            "purl": purl,
        }
        if package.source != package.name:
            component["properties"] = [{"name": "condabot:deb-source", "value": package.source}]
        components.append(component)
    return components


def _installer_component(installer: Installer) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "file",
        "bom-ref": f"installer:{installer.filename}",
        "name": installer.filename,
    }
    if _hex(installer.sha256, 64):
        component["hashes"] = [{"alg": "SHA-256", "content": installer.sha256}]
    return component


def _hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdef" for c in text)


def _purl(
    kind: str, namespace: str | None, name: str, version: str, qualifiers: Mapping[str, str]
) -> str:
    """A package URL: segments percent-encoded, empty qualifiers left out, keys sorted."""
    path = "/".join(quote(part, safe="") for part in (namespace, name) if part)
    text = f"pkg:{kind}/{path}"
    if version:
        text += "@" + quote(version, safe="")
    pairs = [f"{key}={quote(value, safe='')}" for key, value in sorted(qualifiers.items()) if value]
    return text + ("?" + "&".join(pairs) if pairs else "")
