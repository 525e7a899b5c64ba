"""OCI artifacts attached to an image (an SBOM): manifests whose `subject` is the image's.

Found through the OCI referrers API (`GET /v2/<repo>/referrers/<digest>`) where the
registry serves it, and through the referrers tag schema where it does not: an OCI index
tagged `sha256-<hex of the subject digest>` that lists the artifacts, which the client
keeps (read, add what is missing, write back; other tools' entries, such as a signature's
or a provenance attestation's, are kept). Debian 12's distribution registry (2.8) has no
referrers API, so the tag schema is the path the tests exercise.

`artifact` is pure; `attach` and `discover` talk to a `RegistryClient`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.release.registry import OCI_INDEX, OCI_MANIFEST, Manifest, RegistryClient, sha256_digest

EMPTY = b"{}"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
TITLE = "org.opencontainers.image.title"


@dataclass(frozen=True)
class Artifact:
    manifest: Manifest
    blobs: tuple[bytes, ...]  # the empty config and the payload

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def subject(self) -> str:
        return str(self.manifest.document["subject"]["digest"])


def artifact(
    subject: Manifest,
    artifact_type: str,
    payload: bytes,
    filename: str,
    annotations: Mapping[str, str],
) -> Artifact:
    """An OCI 1.1 artifact manifest holding `payload`, attached to `subject`."""
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_TYPE, "digest": sha256_digest(EMPTY), "size": len(EMPTY)},
        "layers": [
            {
                "mediaType": artifact_type,
                "digest": sha256_digest(payload),
                "size": len(payload),
                "annotations": {TITLE: filename},
            }
        ],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": len(subject.body),
        },
        "annotations": dict(sorted(annotations.items())),
    }
    body = json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"
    return Artifact(Manifest(OCI_MANIFEST, body), (EMPTY, payload))


def fallback_tag(subject_digest: str) -> str:
    """The referrers tag schema's tag for a subject: `sha256-<hex>`."""
    algorithm, _, hexdigest = subject_digest.partition(":")
    return f"{algorithm}-{hexdigest}"


def descriptor(manifest: Manifest) -> dict[str, Any]:
    document = manifest.document
    entry: dict[str, Any] = {
        "mediaType": manifest.media_type,
        "digest": manifest.digest,
        "size": len(manifest.body),
    }
    if document.get("artifactType"):
        entry["artifactType"] = document["artifactType"]
    if document.get("annotations"):
        entry["annotations"] = document["annotations"]
    return entry


def discover(
    client: RegistryClient, repository: str, subject_digest: str, artifact_type: str | None = None
) -> list[dict[str, Any]]:
    """The descriptors of the artifacts attached to a subject (of one type, if given)."""
    index = client.referrers(repository, subject_digest)
    if index is None:  # no referrers API: the tag schema
        index = client.get_manifest(repository, fallback_tag(subject_digest))
    entries = index.children() if index is not None and index.is_index else []
    return [e for e in entries if artifact_type in (None, e.get("artifactType"))]


def attach(client: RegistryClient, repository: str, item: Artifact) -> bool:
    """Put the artifact in `repository` and make it findable from its subject; True if
    anything was written. The subject is expected in the repository already."""
    wrote = False
    if client.manifest_digest(repository, item.digest) != item.digest:
        for blob in item.blobs:
            _put_blob(client, repository, blob)
        client.put_manifest(repository, item.digest, item.manifest)
        wrote = True
    return link(client, repository, item.manifest) or wrote


def _put_blob(client: RegistryClient, repository: str, data: bytes) -> None:
    digest = sha256_digest(data)
    if not client.has_blob(repository, digest):
        client.upload_blob(repository, digest, len(data), lambda: [data])


def link(client: RegistryClient, repository: str, manifest: Manifest) -> bool:
    """Make a stored artifact manifest findable from its subject: nothing to do where the
    registry serves the referrers API (it indexes `subject` itself); else add it to the
    `sha256-<hex>` index, keeping every other entry. True if the index was written."""
    subject = str(manifest.document["subject"]["digest"])
    if client.referrers(repository, subject) is not None:
        return False
    tag = fallback_tag(subject)
    current = client.get_manifest(repository, tag)
    entries = current.children() if current is not None and current.is_index else []
    if any(entry.get("digest") == manifest.digest for entry in entries):
        return False
    entries.append(descriptor(manifest))
    entries.sort(key=lambda entry: str(entry.get("digest")))
    document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    index = Manifest(OCI_INDEX, json.dumps(document, indent=2, sort_keys=True).encode() + b"\n")
    client.put_manifest(repository, tag, index)
    return True
