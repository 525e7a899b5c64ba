"""The release plan: which images, platforms, labels, registries and tags. Pure.

Inputs are all explicit (catalog, release tag, what the Dockerfiles pin at the release
commit, every existing release tag, revision, created timestamp, source URL, whether the
GitHub release is a prerelease), so the build and publish jobs, run apart, recompute the
same plan. Tag rules: `bot.release.tags`. A prerelease writes only its build and version
tags: every floating tag is held until the release itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.catalog import Catalog, Image
from bot.errors import PlanError, ReleaseTagError
from bot.release.pinned import Installer, Pinned
from bot.release.tagname import ReleaseTag, try_resolve
from bot.release.tags import Tag, assign_tags, build_tags
from bot.versions import Version

SCHEMA = "condabot.release/1"
# Machine-readable end of life, on the image (labels) and its index (annotations).
END_OF_LIFE = "io.condabot.end-of-life"
REPLACEMENT = "io.condabot.replacement"
BUILD_LABEL = "io.condabot.build"  # which build of the installer version, "1" for the release
PRERELEASE_HOLD = "prerelease: floating tags wait for the release"
RUNNERS = {"linux/amd64": "ubuntu-24.04", "linux/arm64": "ubuntu-24.04-arm"}
DEFAULT_RUNNER = "ubuntu-24.04"  # other platforms build under QEMU emulation
DOCKERHUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class PlatformBuild:
    platform: str  # "linux/amd64"
    arch: str  # "x86_64"
    runner: str

    @property
    def oci_arch(self) -> str:
        return self.platform.split("/")[1]


@dataclass(frozen=True)
class Target:
    """One repository in one registry."""

    registry: str  # catalog name
    kind: str
    host: str
    repository: str  # path inside the registry, "continuumio/miniconda3"

    @property
    def ref(self) -> str:
        return f"{self.host}/{self.repository}"

    @property
    def pull_name(self) -> str:
        if self.host in DOCKERHUB_HOSTS:
            return self.repository.removeprefix("library/")
        return self.ref


@dataclass(frozen=True)
class ImageRelease:
    name: str
    product: str
    dockerfile: str
    context: str  # the build context, a folder holding the Dockerfile
    flavour: str | None
    version: Version
    build_args: tuple[tuple[str, str], ...]
    platforms: tuple[PlatformBuild, ...]
    labels: tuple[tuple[str, str], ...]
    tags: tuple[Tag, ...]  # the ladder: version and floating tags
    held: tuple[tuple[str, str], ...]  # (tag, why this release does not take it)
    targets: tuple[Target, ...]
    build_tags: tuple[Tag, ...] = ()  # this build's own tags, which never move
    installers: tuple[Installer, ...] = ()  # per planned platform's arch

    @property
    def all_tags(self) -> tuple[Tag, ...]:
        """Every tag this release writes: its build tags, then its ladder."""
        return self.build_tags + self.tags

    def installer(self, arch: str) -> Installer | None:
        return next((i for i in self.installers if i.arch == arch), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "product": self.product,
            "dockerfile": self.dockerfile,
            "context": self.context,
            "python": self.flavour,
            "version": self.version.text,
            "build_args": dict(self.build_args),
            "platforms": [
                {"platform": p.platform, "arch": p.arch, "runner": p.runner} for p in self.platforms
            ],
            "labels": dict(self.labels),
            "tags": [
                {"name": t.name, "kind": t.kind.value, "immutable": t.immutable}
                for t in self.all_tags
            ],
            "installers": [
                {"arch": i.arch, "filename": i.filename, "sha256": i.sha256}
                for i in self.installers
            ],
            "held": [{"tag": tag, "by": by} for tag, by in self.held],
            "targets": [
                {"registry": t.registry, "kind": t.kind, "host": t.host, "repository": t.repository}
                for t in self.targets
            ],
        }


@dataclass(frozen=True)
class ReleasePlan:
    tag: str
    version: Version
    revision: str
    created: str
    source: str
    images: tuple[ImageRelease, ...]
    build: int = 1
    prerelease: bool = False

    def image(self, name: str) -> ImageRelease:
        for image in self.images:
            if image.name == name:
                return image
        raise PlanError(
            f"image {name!r} is not part of release {self.tag}",
            f"choose one of {', '.join(i.name for i in self.images)}",
        )

    def matrix(self) -> dict[str, list[dict[str, str]]]:
        """The GitHub Actions build matrix: one native runner per (image, platform)."""
        return {
            "include": [
                {"image": image.name, "platform": p.platform, "runner": p.runner}
                for image in self.images
                for p in image.platforms
            ]
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "tag": self.tag,
            "version": self.version.text,
            "revision": self.revision,
            "created": self.created,
            "source": self.source,
            "build": self.build,
            "prerelease": self.prerelease,
            "images": [image.to_json() for image in self.images],
            "matrix": self.matrix(),
        }


def make_plan(
    catalog: Catalog,
    release: ReleaseTag,
    pinned: Mapping[str, Pinned],
    existing: Sequence[str],
    revision: str,
    created: str,
    source: str,
    *,
    prerelease: bool = False,
) -> ReleasePlan:
    _check_versions(release, pinned)
    labels = (
        ("org.opencontainers.image.source", source),
        ("org.opencontainers.image.version", release.version.text),
        ("org.opencontainers.image.revision", revision),
        ("org.opencontainers.image.created", created),
        (BUILD_LABEL, str(release.build)),
    )
    earlier = [
        r for t in existing if t != release.text and (r := try_resolve(t, catalog)) is not None
    ]
    images = tuple(
        _image_release(catalog, image, pinned[image.name], release, earlier, labels)
        for image in release.images
    )
    settled = _settle_shared_tags(images, release)
    if prerelease:
        settled = tuple(_hold_floating(image) for image in settled)
    return ReleasePlan(
        release.text,
        release.version,
        revision,
        created,
        source,
        settled,
        build=release.build,
        prerelease=prerelease,
    )


def _hold_floating(image: ImageRelease) -> ImageRelease:
    floating = [t.name for t in image.tags if not t.immutable]
    return replace(
        image,
        tags=tuple(t for t in image.tags if t.immutable),
        held=image.held + tuple((name, PRERELEASE_HOLD) for name in floating),
    )


def _check_versions(release: ReleaseTag, pinned: Mapping[str, Pinned]) -> None:
    missing = [image.name for image in release.images if image.name not in pinned]
    if missing:
        raise PlanError(f"no installer pins were read for {', '.join(missing)}")
    wrong = [pinned[i.name] for i in release.images if pinned[i.name].version != release.version]
    if wrong:
        found = "; ".join(sorted({f"{p.where} pins {p.version}" for p in wrong}))
        raise ReleaseTagError(
            f"release tag {release.text} names version {release.version} but {found}",
            "tag the commit whose Dockerfiles pin that version, "
            f"or retag as {release.name}-{wrong[0].version}",
        )
    for image in release.images:
        flavour = pinned[image.name].flavour
        if not image.follows_default and flavour != image.python:
            raise PlanError(
                f"image {image.name} is pinned to {image.python} in images.yaml "
                f"but {pinned[image.name].where} installs {flavour or 'no flavour'}",
                "make the Dockerfile pin the catalog's Python flavour",
            )


def _image_release(
    catalog: Catalog,
    image: Image,
    pinned: Pinned,
    release: ReleaseTag,
    earlier: list[ReleaseTag],
    labels: tuple[tuple[str, str], ...],
) -> ImageRelease:
    others = [(r.key, j) for r in earlier for j in r.images if j.repository == image.repository]
    assignment = assign_tags(image, release.key, pinned.flavour, others)
    arches = {p.arch for p in image.platforms}
    return ImageRelease(
        name=image.name,
        product=image.product.value,
        dockerfile=image.dockerfile,
        context=image.context,
        flavour=pinned.flavour,
        version=pinned.version,
        build_args=image.build_args + pinned.build_args,
        platforms=tuple(
            PlatformBuild(p.name, p.arch, RUNNERS.get(p.name, DEFAULT_RUNNER))
            for p in image.platforms
        ),
        labels=labels + end_of_life_labels(catalog, image),
        tags=assignment.tags,
        held=tuple((name, f"newer release {by}") for name, by in assignment.held),
        targets=_targets(catalog, image),
        build_tags=build_tags(image, pinned.version, pinned.flavour, release.build),
        installers=tuple(i for i in pinned.installers if i.arch in arches),
    )


def end_of_life_labels(catalog: Catalog, image: Image) -> tuple[tuple[str, str], ...]:
    """Labels (and so index annotations) of an end-of-life image: since when, and the
    repository to move to, as its first registry publishes it."""
    if image.end_of_life is None:
        return ()
    replacement = _targets(catalog, catalog.image(image.end_of_life.replacement))[0]
    return ((END_OF_LIFE, image.end_of_life.date), (REPLACEMENT, replacement.ref))


def _targets(catalog: Catalog, image: Image) -> tuple[Target, ...]:
    if not image.registries:
        raise PlanError(
            f"image {image.name} lists no registries to publish to",
            "add registries: [...] to the image in images.yaml",
        )
    targets = []
    for name in image.registries:
        registry = catalog.registries[name]
        path = (
            f"{registry.namespace}/{image.repository}" if registry.namespace else image.repository
        )
        targets.append(Target(name, registry.kind, registry.host, path))
    return tuple(targets)


def _settle_shared_tags(
    images: tuple[ImageRelease, ...], release: ReleaseTag
) -> tuple[ImageRelease, ...]:
    """Two images of one release may share a repository: a pinned-flavour image owns its
    flavour's tags there; any other tag claimed twice is a catalog mistake."""
    pinned = {i.name for i in release.images if not i.follows_default}
    owners: dict[tuple[str, str], str] = {}
    for image in sorted(images, key=lambda i: i.name not in pinned):
        for target in image.targets:
            for tag in image.tags:
                key = (target.ref, tag.name)
                if key not in owners:
                    owners[key] = image.name
                elif image.name in pinned or owners[key] not in pinned:
                    raise PlanError(
                        f"images {owners[key]} and {image.name} both claim {target.ref}:{tag.name}",
                        "give one of them a tags.suffix or its own repository in images.yaml",
                    )
    return tuple(_drop_foreign(image, owners) for image in images)


def _drop_foreign(image: ImageRelease, owners: dict[tuple[str, str], str]) -> ImageRelease:
    kept, held = [], list(image.held)
    for tag in image.tags:
        owner = {owners[(t.ref, tag.name)] for t in image.targets} - {image.name}
        if owner:
            held.append((tag.name, f"owned by pinned-flavour image {owner.pop()}"))
        else:
            kept.append(tag)
    if len(kept) == len(image.tags):
        return image
    return replace(image, tags=tuple(kept), held=tuple(held))
