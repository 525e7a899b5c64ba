"""The multi-arch OCI image index of one image, from its staged platform manifests. Pure.

Its bytes depend only on the staged manifests and the plan's labels, so every rerun of a
publish makes the same index with the same digest.

Each platform's entry carries the installer its image was built from (annotations
`io.condabot.installer` and `io.condabot.installer.sha256`, from the image's labels, which
the build sets and the smoke test checks against the file in the image): the record a
version tag's moves are judged by (`installer_records`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import PublishError
from bot.release.registry import OCI_INDEX, Manifest

INSTALLER_LABEL = "io.condabot.installer"  # the installer's file name
INSTALLER_SHA_LABEL = "io.condabot.installer.sha256"
_RECORDED = (INSTALLER_LABEL, INSTALLER_SHA_LABEL)


@dataclass(frozen=True)
class StagedPlatform:
    """One planned platform as staged: its manifest and its image's config."""

    platform: str  # planned, e.g. "linux/arm64"
    ref: str  # the staging reference, for messages
    manifest: Manifest  # an image manifest, or (buildx) an index of it and its attestations
    config: Mapping[str, Any]  # the image's config
    children: tuple[Manifest, ...]  # the image manifests (and attestations) to copy
    image_digest: str = ""  # the image manifest's digest ("" : `manifest` itself)

    @property
    def image(self) -> str:
        return self.image_digest or self.manifest.digest


def platform_of(config: Mapping[str, Any]) -> dict[str, str]:
    found = {"architecture": str(config.get("architecture", "")), "os": str(config.get("os", ""))}
    if config.get("variant"):
        found["variant"] = str(config["variant"])
    return found


def labels_of(config: Mapping[str, Any]) -> dict[str, str]:
    return dict((config.get("config") or {}).get("Labels") or {})


def _record(config: Mapping[str, Any]) -> dict[str, str]:
    labels = labels_of(config)
    return {key: labels[key] for key in _RECORDED if labels.get(key)}


def descriptors(staged: StagedPlatform) -> list[dict[str, Any]]:
    """Index entries for one staged platform, checked against the planned platform."""
    want_os, want_arch = staged.platform.split("/")[:2]
    entries: list[dict[str, Any]]
    if not staged.manifest.is_index:
        entries = [
            {
                "mediaType": staged.manifest.media_type,
                "digest": staged.manifest.digest,
                "size": len(staged.manifest.body),
                "platform": platform_of(staged.config),
            }
        ]
    else:  # buildx: the image manifest plus its attestation manifests
        entries = [dict(e) for e in staged.manifest.children()]
    images = [e for e in entries if e.get("platform", {}).get("os") not in (None, "unknown")]
    if not images or any(
        (e["platform"]["os"], e["platform"]["architecture"]) != (want_os, want_arch) for e in images
    ):
        got = ", ".join(f"{e['platform']['os']}/{e['platform']['architecture']}" for e in images)
        raise PublishError(
            f"staged image {staged.ref} is for {got or 'no platform'}, not {staged.platform}",
            "rebuild that platform on its own runner",
        )
    record = _record(staged.config)
    for entry in images:
        if record:
            entry["annotations"] = {**entry.get("annotations", {}), **record}
    return entries


def make_index(staged: Sequence[StagedPlatform], annotations: Mapping[str, str]) -> Manifest:
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [entry for one in staged for entry in descriptors(one)],
        "annotations": dict(sorted(annotations.items())),
    }
    body = json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"
    return Manifest(OCI_INDEX, body)


def installer_records(index: Manifest) -> dict[str, str | None]:
    """platform -> the sha256 of the installer its image was built from (None: unrecorded),
    from an index's entries."""
    found: dict[str, str | None] = {}
    for entry in index.children():
        platform = entry.get("platform") or {}
        if platform.get("os") in (None, "unknown"):
            continue
        key = f"{platform['os']}/{platform['architecture']}"
        found[key] = (entry.get("annotations") or {}).get(INSTALLER_SHA_LABEL)
    return found
