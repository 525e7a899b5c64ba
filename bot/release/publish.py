"""Publish: staged platform images -> one OCI index per image -> every registry, every tag.

Order, so that nothing is ever half-done where it can be avoided:
1. assemble: every planned platform must be staged, else stop (no index is made);
2. preflight: read every tag in every registry; a build tag that points elsewhere, or a
   version tag that points at an image built from other installers, stops the release
   before anything is written (`force` overrides). A version tag moves to a rebuild whose
   installers are byte-identical (the sha256 recorded per platform in both indexes);
3. copy content to every registry by digest: a blob the target has is skipped (HEAD), one
   another repository of the same registry has is mounted, only the rest is uploaded; each
   platform image's attached artifacts (its SBOM) are copied the same way and made
   findable from it (`bot.release.referrers`: the referrers API, else the tag schema);
4. write the tags that do not already point at the index (N tags: at most N manifest writes);
5. read every tag back (`bot.release.verify`).
A rerun after a failure at any point repeats only what is missing.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import PublishError, TagConflict
from bot.release import sbom
from bot.release.index import StagedPlatform, installer_records, labels_of, make_index
from bot.release.plan import DOCKERHUB_HOSTS, ImageRelease, ReleasePlan, Target
from bot.release.referrers import discover, link
from bot.release.registry import Manifest, RegistryClient
from bot.release.staging import Staging
from bot.release.tags import Tag, TagKind

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Assembled:
    image: ImageRelease
    staging_repository: str
    staged: tuple[StagedPlatform, ...]
    index: Manifest
    referrers: tuple[Manifest, ...] = ()  # artifacts attached to a platform image (SBOMs)

    @property
    def digest(self) -> str:
        return self.index.digest

    def sboms(self) -> tuple[tuple[str, Manifest], ...]:
        """(platform, SBOM artifact manifest) of every platform image."""
        platforms = {s.image: s.platform for s in self.staged}
        return tuple(
            (platforms[str(m.document["subject"]["digest"])], m)
            for m in self.referrers
            if m.document.get("artifactType") == sbom.MEDIA_TYPE
        )

    def platform_digests(self) -> tuple[tuple[str, str], ...]:
        return tuple((s.platform, s.manifest.digest) for s in self.staged)

    def installers(self) -> dict[str, str | None]:
        return installer_records(self.index)


@dataclass(frozen=True)
class TargetOutcome:
    target: Target
    written: tuple[str, ...]  # tags written by this run
    kept: tuple[str, ...]  # tags that already pointed at the index


@dataclass(frozen=True)
class ImageOutcome:
    assembled: Assembled
    targets: tuple[TargetOutcome, ...]


def assemble(plan: ReleasePlan, staging: Staging, client: RegistryClient) -> list[Assembled]:
    """Every image's index, from its staged platforms; PublishError if any is missing."""
    found: list[Assembled] = []
    missing: list[str] = []
    for image in plan.images:
        repository = staging.repository(image)
        staged = []
        for platform in image.platforms:
            tag = staging.tag(plan.revision, platform, plan.build)
            manifest = client.get_manifest(repository, tag)
            if manifest is None:
                missing.append(f"{staging.host}/{repository}:{tag}")
            else:
                ref = f"{staging.host}/{repository}:{tag}"
                staged.append(_staged(client, repository, platform.platform, ref, manifest))
        if len(staged) == len(image.platforms):
            index = make_index(staged, dict(image.labels))
            attached = _attached(client, repository, staged)
            found.append(Assembled(image, repository, tuple(staged), index, attached))
    if missing:
        raise PublishError(
            f"{len(missing)} planned platform image(s) are not staged, so no index was made "
            f"and nothing was published: {', '.join(missing)}",
            "run the build job for every cell of `condabot release plan --matrix`, then publish",
        )
    return found


def _attached(
    client: RegistryClient, repository: str, staged: Sequence[StagedPlatform]
) -> tuple[Manifest, ...]:
    found = []
    for platform in staged:
        for entry in discover(client, repository, platform.image):
            manifest = client.get_manifest(repository, entry["digest"])
            if manifest is None:
                raise PublishError(
                    f"staging lists {entry['digest']} as attached to {platform.ref} but has "
                    "no such manifest",
                    "rebuild that platform with --rebuild",
                )
            found.append(manifest)
    return tuple(found)


def _staged(
    client: RegistryClient, repository: str, platform: str, ref: str, manifest: Manifest
) -> StagedPlatform:
    if manifest.is_index:  # buildx: the image manifest with its attestations
        children, image = [], None
        for entry in manifest.children():
            child = client.get_manifest(repository, entry["digest"])
            if child is None:
                raise PublishError(f"{ref} names a manifest staging lacks: {entry['digest']}")
            children.append(child)
            if (entry.get("platform") or {}).get("os") not in (None, "unknown"):
                image = child
        if image is None:
            raise PublishError(f"{ref} holds no image manifest", "rebuild that platform")
        config = _config(client, repository, image)
        return StagedPlatform(platform, ref, manifest, config, tuple(children), image.digest)
    return StagedPlatform(
        platform, ref, manifest, _config(client, repository, manifest), (manifest,)
    )


def _config(client: RegistryClient, repository: str, manifest: Manifest) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(
        client.get_blob(repository, manifest.document["config"]["digest"])
    )
    return config


@dataclass(frozen=True)
class Blocked:
    """Why publish would not move a tag without --force."""

    ref: str  # registry/repository:tag
    found: str
    planned: str
    why: str

    def __str__(self) -> str:
        return f"{self.ref} -> {self.found}, not {self.planned} ({self.why})"


def blocked(
    client: RegistryClient, target: Target, tag: Tag, found: str | None, item: Assembled
) -> Blocked | None:
    """The rule for moving a tag that points elsewhere: a floating tag moves; a build tag
    never does; a version tag only to an image built from byte-identical installers."""
    if found in (None, item.digest) or tag.kind is TagKind.FLOATING:
        return None
    assert found is not None
    ref = f"{target.ref}:{tag.name}"
    if tag.kind is TagKind.BUILD:
        return Blocked(ref, found, item.digest, "a build tag never moves")
    theirs = published_installers(client, target.repository, found)
    ours = item.installers()
    if theirs == ours and None not in ours.values():
        return None
    return Blocked(ref, found, item.digest, _installer_difference(theirs, ours))


def published_installers(
    client: RegistryClient, repository: str, digest: str
) -> dict[str, str | None]:
    """platform -> installer sha256 of a published index: its entries' annotations, else
    (an index made before they were recorded) its images' labels."""
    index = client.get_manifest(repository, digest)
    if index is None or not index.is_index:
        return {}
    found = installer_records(index)
    for entry in index.children():
        platform = entry.get("platform") or {}
        key = f"{platform.get('os')}/{platform.get('architecture')}"
        if key in found and found[key] is None:
            image = client.get_manifest(repository, entry["digest"])
            if image is not None and not image.is_index:
                found[key] = labels_of(_config(client, repository, image)).get(
                    "io.condabot.installer.sha256"
                )
    return found


def _installer_difference(theirs: dict[str, str | None], ours: dict[str, str | None]) -> str:
    if not theirs or None in theirs.values():
        return "the published image records no installer sha256, so a move cannot be checked"
    parts = []
    for platform in sorted(set(theirs) | set(ours)):
        if theirs.get(platform) != ours.get(platform):
            mine = (ours.get(platform) or "none")[:12]
            parts.append(f"{platform}: {(theirs.get(platform) or 'none')[:12]} vs {mine}")
    return "a version tag moves only to the same installers; they differ: " + ", ".join(parts)


class Publisher:
    def __init__(self, staging: RegistryClient, clients: Mapping[str, RegistryClient]) -> None:
        self.staging = staging
        self.clients = clients
        # Per registry host: which repositories are known to hold a blob (for mounts).
        self.holders: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def publish(self, assembled: Sequence[Assembled], *, force: bool = False) -> list[ImageOutcome]:
        current = self.preflight(assembled, force=force)
        for item in assembled:
            for target in item.image.targets:
                self.copy(item, target, current)
        return [self.write_tags(item, current) for item in assembled]

    # -- 2. preflight ------------------------------------------------------------------
    def preflight(
        self, assembled: Sequence[Assembled], *, force: bool
    ) -> dict[tuple[str, str, str], str | None]:
        """What every planned tag points at now, keyed by (image, registry, tag)."""
        for name in {t.registry for item in assembled for t in item.image.targets}:
            self.clients[name].ping()
        current: dict[tuple[str, str, str], str | None] = {}
        conflicts: list[Blocked] = []
        for item in assembled:
            for target in item.image.targets:
                client = self.clients[target.registry]
                for tag in item.image.all_tags:
                    digest = client.manifest_digest(target.repository, tag.name)
                    current[(item.image.name, target.registry, tag.name)] = digest
                    found = blocked(client, target, tag, digest, item)
                    if found is not None:
                        conflicts.append(found)
                    elif digest not in (None, item.digest) and tag.immutable:
                        log.info(
                            "%s:%s moves to a rebuild of the same installers", target.ref, tag.name
                        )
        if conflicts and not force:
            raise TagConflict(
                f"immutable tag {conflicts[0]}"
                + (f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""),
                "nothing was written; a newer base with the same installers is released as a "
                "rebuild (release tag <tag>_build<N>); rerun with --force only if this build "
                "must replace the published one",
            )
        for conflict in conflicts:
            log.warning("--force: moving immutable tag %s", conflict)
        return current

    # -- 3. content --------------------------------------------------------------------
    def copy(
        self, item: Assembled, target: Target, current: Mapping[tuple[str, str, str], str | None]
    ) -> None:
        client = self.clients[target.registry]
        mine = [
            current.get((item.image.name, target.registry, t.name)) for t in item.image.all_tags
        ]
        if item.digest in mine or client.manifest_digest(target.repository, item.digest):
            log.info("%s already holds %s", target.ref, item.digest)
        else:
            for staged in item.staged:
                for child in staged.children:
                    self._copy_manifest(item, client, target, child)
        for artifact in item.referrers:  # after their subjects, which they name
            self._copy_manifest(item, client, target, artifact)
            if link(client, target.repository, artifact):
                log.info("%s: %s listed under its subject", target.ref, artifact.digest)

    def _copy_manifest(
        self, item: Assembled, client: RegistryClient, target: Target, manifest: Manifest
    ) -> None:
        holders = self.holders[client.host]
        if client.manifest_digest(target.repository, manifest.digest) == manifest.digest:
            for blob in manifest.blobs():
                holders[blob["digest"]].add(target.repository)
            return
        for blob in manifest.blobs():
            self._copy_blob(item, client, target, blob["digest"], int(blob["size"]))
        client.put_manifest(target.repository, manifest.digest, manifest)

    def _copy_blob(
        self, item: Assembled, client: RegistryClient, target: Target, digest: str, size: int
    ) -> None:
        repository = target.repository
        holders = self.holders[client.host][digest]
        if client.host == self.staging.host:
            holders.add(item.staging_repository)
        if not client.has_blob(repository, digest):
            mounted = any(
                client.mount_blob(repository, digest, source)
                for source in sorted(holders - {repository})
            )
            if not mounted:
                log.info("uploading %s (%d bytes) to %s", digest, size, target.ref)
                client.upload_blob(
                    repository, digest, size, lambda: self._read(item.staging_repository, digest)
                )
        holders.add(repository)

    def _read(self, repository: str, digest: str) -> Iterator[bytes]:
        with self.staging.open_blob(repository, digest) as response:
            yield from response.iter_content(_CHUNK)

    # -- 4. tags -----------------------------------------------------------------------
    def write_tags(
        self, item: Assembled, current: Mapping[tuple[str, str, str], str | None]
    ) -> ImageOutcome:
        outcomes = []
        for target in item.image.targets:
            client = self.clients[target.registry]
            written, kept = [], []
            for tag in item.image.all_tags:
                if current.get((item.image.name, target.registry, tag.name)) == item.digest:
                    kept.append(tag.name)
                else:
                    client.put_manifest(target.repository, tag.name, item.index)
                    written.append(tag.name)
            outcomes.append(TargetOutcome(target, tuple(written), tuple(kept)))
        return ImageOutcome(item, tuple(outcomes))


def subject_name(target: Target) -> str:
    """The image name signatures and attestations are made for: Docker Hub's is
    `index.docker.io/<repository>`, as cosign and GitHub's attestations resolve it."""
    host = "index.docker.io" if target.host in DOCKERHUB_HOSTS else target.host
    return f"{host}/{target.repository}"


def subjects(assembled: Sequence[Assembled]) -> dict[str, list[dict[str, str]]]:
    """The Actions matrix of what was published: one cell per image and registry, with the
    index digest to sign and attest (cosign signs its platform images too, recursively)."""
    return {
        "include": [
            {
                "image": item.image.name,
                "registry": target.registry,
                "kind": target.kind,
                "host": target.host,
                "name": subject_name(target),
                "digest": item.digest,
            }
            for item in assembled
            for target in item.image.targets
        ]
    }
