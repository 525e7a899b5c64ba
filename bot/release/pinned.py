"""What each image's pins say at the release commit: one version, one flavour.

The pins are in the image's Dockerfile, or for a Python line in its pins file (catalog key
`pins`), whose pins the build passes to the shared Dockerfile as build arguments.
Reading is I/O (`git show <revision>:<path>`, or the working tree outside git);
`summarise` is pure. The pins themselves are parsed by `bot.pins.read_pins`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot import git
from bot.catalog import Image
from bot.errors import DockerfileError
from bot.pins import Pin, read_pins
from bot.platforms import PLATFORMS
from bot.versions import Version


@dataclass(frozen=True)
class Installer:
    """What one arch's build installs: the record a version tag's moves are checked on."""

    arch: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class Pinned:
    image: str
    version: Version
    flavour: str | None  # e.g. "py314"; None for products without flavours (Anaconda)
    where: str  # "<pin file>@<revision>", for messages
    build_args: tuple[tuple[str, str], ...] = ()  # a line's pins, for the shared Dockerfile
    installers: tuple[Installer, ...] = ()  # per arch of the image's platforms


def summarise(image: Image, pins: tuple[Pin, ...], where: str) -> Pinned:
    """The one (version, flavour) an image's planned platforms are pinned at."""
    if not pins and image.pins is not None:
        raise DockerfileError(
            f"{where} holds no installer pins yet (image {image.name} is a new line)",
            "merge the bot's first-pins pull request, or set build_by_default: false until then",
        )
    by_arch = {pin.arch: pin for pin in pins}
    missing = [p.arch for p in image.platforms if p.arch not in by_arch]
    if missing:
        raise DockerfileError(
            f"{where} pins no installer for {', '.join(missing)} (image {image.name})",
            "pin every platform the catalog lists for the image",
        )
    chosen = [by_arch[p.arch] for p in image.platforms]
    found = sorted({(pin.version.text, pin.python or "") for pin in chosen})
    if len(found) > 1:
        detail = ", ".join(f"{pin.arch}: {pin.filename}" for pin in chosen)
        raise DockerfileError(
            f"{where} pins different installers per platform ({detail})",
            "release only when every platform of the image pins one version and flavour",
        )
    args = pin_build_args(pins) if image.pins is not None else ()
    installers = tuple(Installer(pin.arch, pin.filename, pin.sha256) for pin in chosen)
    return Pinned(image.name, chosen[0].version, chosen[0].python, where, args, installers)


def pin_build_args(pins: tuple[Pin, ...]) -> tuple[tuple[str, str], ...]:
    """A pins file as build arguments: every arch's pair, empty for an arch it does not pin,
    so the shared Dockerfile's own default pin for that arch can never be built instead."""
    by_arch = {pin.arch: pin for pin in pins}
    args = []
    for platform in PLATFORMS.values():
        pin = by_arch.get(platform.arch)
        args.append((f"INSTALLER_URL_{platform.arg_suffix}", pin.url if pin else ""))
        args.append((f"SHA256SUM_{platform.arg_suffix}", pin.sha256 if pin else ""))
    return tuple(args)


def read_pinned(images: tuple[Image, ...], root: Path, revision: str | None) -> dict[str, Pinned]:
    result = {}
    for image in images:
        text, where = _dockerfile_text(root, image.pin_file, revision)
        result[image.name] = summarise(image, read_pins(text, image.pin_file), where)
    return result


def _dockerfile_text(root: Path, path: str, revision: str | None) -> tuple[str, str]:
    if revision and git.is_checkout(root):
        try:
            text = git.show_file(root, revision, path)
        except git.GitError as exc:
            raise DockerfileError(
                f"cannot read {path} at {revision[:12]}: {exc.stderr[:200]}",
                "fetch the release commit (actions/checkout with fetch-depth: 0) "
                "or fix the catalog",
            ) from exc
        return text, f"{path}@{revision[:12]}"
    try:
        return (root / path).read_text(encoding="utf-8"), path
    except OSError as exc:
        raise DockerfileError(
            f"cannot read {path}: {exc.strerror}", "fix the image's dockerfile in images.yaml"
        ) from exc
