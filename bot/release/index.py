"""The multi-arch OCI image index of one image, from its staged platform manifests. Pure.

Its bytes depend only on the staged manifests and the plan's labels, so every rerun of a
publish makes the same index with the same digest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import PublishError
from bot.release.registry import OCI_INDEX, Manifest


@dataclass(frozen=True)
class StagedPlatform:
    """One planned platform as staged: its manifest and, for an image manifest, its config."""

    platform: str  # planned, e.g. "linux/arm64"
    ref: str  # the staging reference, for messages
    manifest: Manifest
    config: Mapping[str, Any] | None  # None when `manifest` is itself an index (buildx)
    children: tuple[Manifest, ...]  # the image manifests (and attestations) to copy


def platform_of(config: Mapping[str, Any]) -> dict[str, str]:
    found = {"architecture": str(config.get("architecture", "")), "os": str(config.get("os", ""))}
    if config.get("variant"):
        found["variant"] = str(config["variant"])
    return found


def descriptors(staged: StagedPlatform) -> list[dict[str, Any]]:
    """Index entries for one staged platform, checked against the planned platform."""
    want_os, want_arch = staged.platform.split("/")[:2]
    entries: list[dict[str, Any]]
    if staged.config is not None:
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
