"""The images (issue #3): Dockerfiles and catalog checked as text, then built and run.

The slow tests build every catalog image with the real Docker Engine (classic builder, as
docker-py drives it; host network; nothing pulled) and run it.

- Real installers (repo.anaconda.com) are not reachable here. Each build downloads a
  generated stand-in (tests/support/installer.py) under the pinned filename from a loopback
  file server, through the Dockerfile's own mirror argument `UPSTREAM_URL`, and is given
  that file's sha256 by overriding the `SHA256SUM_<ARCH>` ARG defaults. The pinned URLs
  are left as written, so the mirror rewrite is exercised too.
- Ubuntu's archive is not reachable either: the Ubuntu variant's Dockerfile is built on the
  local Debian base (BASE_IMAGE), which tests its install logic, not Ubuntu itself.
- Jupyter cannot be installed without upstream: the image side of the documented Jupyter
  command (root allowed by /etc/jupyter) is checked; the command itself is not run.
- The stand-in conda is a script, not conda: whether conda runs without a Terms of Service
  prompt is checked as configuration in place (the condarc files conda reads, for each user,
  and the environment), not by running `conda install`.
- Python lines share the Debian Dockerfile: one line is built here (its pins file passed as
  build arguments, as a release does); `make bench` builds every line.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from bot.catalog import Image, load_catalog
from bot.pins import Pin, read_pins
from bot.release.pinned import pin_build_args
from bot.release.plan import end_of_life_labels
from bot.upstream.model import Product
from bot.upstream.names import parse_installer_name
from tests.harness.docker import (
    Build,
    BuildFailed,
    DevcontainerCli,
    FileServer,
    ImageBuilder,
    LocalBases,
    installer_build_args,
    local_names,
    serve_pinned_installers,
)
from tests.support.installer import GeneratedInstaller

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "dockerfiles" / "images.yaml")
DOCKERFILES = sorted({image.dockerfile for image in CATALOG.images})
PIN_FILES = sorted({image.pin_file for image in CATALOG.images})
LINES = [image for image in CATALOG.images if image.pins is not None]
BUILT_LINE = "miniconda3-py310"  # the one line the tests build; `make bench` builds them all
LISTINGS = ROOT / "tests" / "fixtures" / "upstream"
LABELS = {
    "IMAGE_SOURCE": "https://github.com/example/condabot",
    "IMAGE_REVISION": "0123456789abcdef0123456789abcdef01234567",
    "IMAGE_CREATED": "2026-01-02T03:04:05Z",
}
MARKERS = {
    Product.MINICONDA3: "# renovate: datasource=custom.miniconda_installer",
    Product.MINICONDA2: "# renovate: datasource=custom.miniconda_installer",
    Product.ANACONDA3: "# renovate: datasource=custom.anaconda_installer",
}


def dockerfile_text(relative: str) -> str:
    return (ROOT / relative).read_text()


def serve_installers(server: FileServer, relative: str) -> dict[str, GeneratedInstaller]:
    return serve_pinned_installers(server, ROOT / relative)


def context_of(relative: str) -> str:
    """The build context the catalog gives the Dockerfile `relative`."""
    return next(i.context for i in CATALOG.images if i.dockerfile == relative)


def build_dockerfile(
    builder: ImageBuilder, relative: str, tag: str, args: dict[str, str] | None = None
) -> Build:
    """Build a catalog Dockerfile as a release does, in its catalog build context."""
    return builder.build(ROOT / relative, tag, args, ROOT / context_of(relative))


def line_args(image: Image) -> dict[str, str]:
    """What a release passes for a line: its pins file's pins (nothing for other images)."""
    if image.pins is None:
        return {}
    return dict(pin_build_args(read_pins(dockerfile_text(image.pins), image.pins)))


def pins_of(relative: str) -> dict[str, Pin]:
    return {pin.arch: pin for pin in read_pins(dockerfile_text(relative), relative)}


def arg_default(text: str, name: str) -> str:
    match = re.search(rf"^ARG (?:.* )?{name}=(\S+)", text, re.MULTILINE)
    assert match, f"no ARG {name}=... default"
    return match[1].strip('"')


@functools.cache
def listing_entries() -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(LISTINGS.glob("*.files.json")):
        entries.update(json.loads(path.read_text()))
    return entries


# -- the Dockerfiles and the catalog, as text (fast) ---------------------------------------


@pytest.mark.parametrize("image", CATALOG.images, ids=lambda i: i.name)
def test_catalog_image_matches_its_dockerfile(image: Image) -> None:
    assert (ROOT / image.dockerfile).is_file()
    pins = pins_of(image.pin_file)
    if image.pins is not None and not pins:
        text = dockerfile_text(image.pins)
        assert all(line.startswith("#") for line in text.splitlines()), "a new line: header only"
        return
    assert set(pins) == set(image.arches), "one pin per catalog platform, no more"
    assert {pin.product for pin in pins.values()} == {image.product}
    if image.product is Product.ANACONDA3:
        assert {pin.python for pin in pins.values()} == {None}, "one flavour per release"
    elif image.follows_default:
        assert len({pin.python for pin in pins.values()}) == 1, "one flavour on every arch"
        # Pinned from the bundled 2023 listings: their alias names the default flavour. A
        # newer pin (the bot's bumps) is checked by the bot against upstream, not here.
        if pins["x86_64"].filename in listing_entries():
            alias = listing_entries()[f"{image.product.filename_prefix}-latest-Linux-x86_64.sh"]
            latest = next(
                name
                for name, entry in listing_entries().items()
                if entry["sha256"] == alias["sha256"] and "latest" not in name
            )
            parsed = parse_installer_name(latest)
            assert parsed is not None
            assert pins["x86_64"].python == parsed.python, "default flavour = upstream's alias"
    else:
        assert {pin.python for pin in pins.values()} == {image.python}


@pytest.mark.parametrize("relative", PIN_FILES)
def test_pins_are_real_installers_in_anacondas_format(relative: str) -> None:
    text = dockerfile_text(relative)
    entries = listing_entries()
    for pin in pins_of(relative).values():
        # A file the bundled 2023 listings know must carry upstream's hash; the bot's later
        # bumps pin files those listings never had (verified against upstream by the bot).
        if pin.filename in entries:
            assert entries[pin.filename]["sha256"] == pin.sha256, f"{pin.filename}: not upstream's"
        line_above = text.splitlines()[pin.line - 2]
        assert line_above == MARKERS[pin.product], f"{relative}:{pin.line}: marker"


@pytest.mark.parametrize("relative", DOCKERFILES)
def test_dockerfile_conventions(relative: str) -> None:
    text = dockerfile_text(relative)
    assert re.search(r"^ARG BASE_IMAGE=[\w./:-]+@sha256:[0-9a-f]{64}$", text, re.MULTILINE)
    assert "\nFROM ${BASE_IMAGE}\n" in text
    assert 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]' in text
    assert re.search(r'^ENTRYPOINT \["tini", "-g", "--"', text, re.MULTILINE)
    assert arg_default(text, "UPSTREAM_URL") == "https://repo.anaconda.com"
    assert "\nCOPY install-conda.sh /tmp/\n" in text
    assert re.search(
        r'^RUN (\w+=("[^"]*"|\S+) )*bash /tmp/install-conda.sh( &&|$)', text, re.MULTILINE
    )
    assert (ROOT / context_of(relative) / "install-conda.sh").is_file()
    for key in ("title", "description", "licenses", "source", "version", "revision", "created"):
        assert f"org.opencontainers.image.{key}=" in text
    assert arg_default(text, "ACCEPT_ANACONDA_TOS") == "yes"
    assert 'io.condabot.accept-anaconda-tos="${ACCEPT_ANACONDA_TOS}"' in text


def test_the_shared_install_checks_the_installer_and_leaves_no_download_tools() -> None:
    script = dockerfile_text("dockerfiles/install-conda.sh")
    assert "sha256sum --check" in script
    assert script.index("sha256sum --check") < script.index('bash "/tmp/${file}"')
    assert "--no-install-recommends" in script
    assert "apt-get purge" in script
    assert "rm -rf /var/lib/apt/lists/*" in script
    assert "clean -afy" in script
    assert script.rstrip().endswith('rm -f -- "$0"'), "the script removes itself"


def test_the_lines_share_one_dockerfile_each_with_its_own_pins_file() -> None:
    assert [line.python for line in LINES] == ["py310", "py311", "py312", "py313", "py314"]
    assert {line.dockerfile for line in LINES} == {CATALOG.image("miniconda3").dockerfile}
    assert len({line.pins for line in LINES}) == len(LINES)
    for line in LINES:
        assert (line.tags.suffix, line.repository) == ("", "miniconda3")
        assert {pin.python for pin in pins_of(line.pin_file).values()} <= {line.python}


def test_legacy_image_is_frozen_and_not_built_by_default() -> None:
    legacy = CATALOG.image("miniconda2")
    assert legacy.frozen and not legacy.build_by_default
    assert legacy.platforms[0].name == "linux/amd64" and len(legacy.platforms) == 1
    assert "END-OF-LIFE" in dockerfile_text(legacy.dockerfile)


def test_legacy_image_labels_say_what_a_release_annotates() -> None:
    """A plain `docker build` carries the same end-of-life labels a release sets."""
    legacy = CATALOG.image("miniconda2")
    expected = dict(end_of_life_labels(CATALOG, legacy))
    assert set(expected) == {"io.condabot.end-of-life", "io.condabot.replacement"}
    text = dockerfile_text(legacy.dockerfile)
    for key, value in expected.items():
        assert f'{key}="{value}"' in text
    assert re.search(r'^ENTRYPOINT \["tini", "-g", "--"\]$', text, re.MULTILINE), "no notice"


# -- built and run with the real Docker Engine (slow) --------------------------------------


@dataclass(frozen=True)
class BuiltImage:
    image: Image
    tag: str
    prefix: str  # the conda prefix
    user: str  # the non-root user
    installer: GeneratedInstaller  # what the x86_64 build installed
    build: Build


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def values(self) -> dict[str, str]:
        """`key=value` lines of stdout."""
        return dict(line.split("=", 1) for line in self.stdout.splitlines() if "=" in line)


def run(client: docker.DockerClient, tag: str, script: str, user: str | None = None) -> Run:
    container = client.containers.run(
        tag, ["bash", "-c", script], user=user, detach=True, network_mode="none"
    )
    try:
        exit_code = container.wait(timeout=120)["StatusCode"]
        stdout = container.logs(stdout=True, stderr=False).decode()
        stderr = container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)
    return Run(exit_code, stdout, stderr)


class Images:
    """Each catalog image, built once per session on first use."""

    def __init__(self, builder: ImageBuilder, server: FileServer) -> None:
        self.builder = builder
        self.server = server
        self._built: dict[str, BuiltImage] = {}

    def get(self, name: str) -> BuiltImage:
        if name not in self._built:
            self._built[name] = self._build(CATALOG.image(name))
        return self._built[name]

    def _build(self, image: Image) -> BuiltImage:
        installers = serve_installers(self.server, image.pin_file)
        args = {
            **line_args(image),
            **installer_build_args(self.server, installers),
            **dict(image.build_args),
            **LABELS,
            "IMAGE_VERSION": pins_of(image.pin_file)["x86_64"].version.text,
        }
        tag = f"condabot-test/{image.name}:latest"
        try:
            build = build_dockerfile(self.builder, image.dockerfile, tag, args)
        except BuildFailed as exc:
            pytest.fail(f"{exc}\n{exc.log[-4000:]}", pytrace=False)
        text = dockerfile_text(image.dockerfile)
        user = arg_default(text, "DEV_USER" if "ARG DEV_USER=" in text else "CONDA_USER")
        prefix = dict(image.build_args).get("CONDA_PREFIX_DIR", "/opt/conda")
        return BuiltImage(image, tag, prefix, user, installers["x86_64"], build)


@pytest.fixture(scope="session")
def images(image_builder: ImageBuilder, installer_server: FileServer) -> Images:
    return Images(image_builder, installer_server)


NAMES = [image.name for image in CATALOG.images if image.pins is None or image.name == BUILT_LINE]

PROBE = r"""
prefix="$(conda info --base)"
echo "which=$(command -v conda)"
echo "python_path=$(command -v python)"
echo "version=$(conda --version)"
echo "python=$(python --version 2>&1)"
echo "base=$prefix"
echo "whoami=$(id -un)"
echo "pid1=$(cat /proc/1/comm)"
echo "interactive=$(bash -ic 'echo "$CONDA_DEFAULT_ENV:$CONDA_PREFIX"' 2>/dev/null)"
echo "static_libs=$(find "$prefix" -name '*.a' | wc -l)"
echo "package_cache=$(find "$prefix/pkgs" -mindepth 1 | wc -l)"
echo "apt_lists=$(find /var/lib/apt/lists -type f | wc -l)"
echo "curl=$(command -v curl || echo absent)"
echo "jupyter_root=$(cat /etc/jupyter/jupyter_server_config.json)"
cat "$prefix/.condabot-installer"
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_image_has_conda_at_its_prefix_with_the_pinned_versions(
    name: str, images: Images, docker_client: docker.DockerClient
) -> None:
    built = images.get(name)
    result = run(docker_client, built.tag, PROBE)
    assert result.exit_code == 0, result.stderr
    seen = result.values()
    installer = built.installer
    assert seen["which"] == f"{built.prefix}/bin/conda"
    assert seen["python_path"] == f"{built.prefix}/bin/python"
    assert seen["version"] == f"conda {installer.conda_version}"
    assert seen["python"] == f"Python {installer.python_version}"
    assert seen["base"] == built.prefix
    assert seen["whoami"] == "root"
    assert seen["pid1"] == "tini"
    assert seen["interactive"] == f"base:{built.prefix}", "conda activate in interactive bash"
    assert (seen["static_libs"], seen["package_cache"], seen["apt_lists"]) == ("0", "0", "0")
    assert seen["curl"] == "absent", "the download tool is purged"
    assert json.loads(seen["jupyter_root"]) == {"ServerApp": {"allow_root": True}}
    assert (seen["filename"], seen["sha256"], seen["arch"]) == (
        installer.filename,
        installer.sha256,
        "x86_64",
    )
    assert "END-OF-LIFE" not in result.stderr, "never outside interactive shells"


# Where conda reads its configuration, in its order (later wins; the environment beats
# every file): conda's own search path, as the user running it sees it.
TOS_PROBE = r"""
base="$(conda info --base)"
for dir in /etc/conda /var/lib/conda "$base" "$HOME/.config/conda" "$HOME/.conda"; do
    for file in "$dir/.condarc" "$dir/condarc" "$dir"/condarc.d/*.yml "$dir"/condarc.d/*.yaml; do
        if [ -f "$file" ]; then echo "=== $file"; cat "$file" || exit 3; fi
    done
done
for file in "$HOME/.condarc" "${CONDARC:-}"; do
    if [ -n "$file" ] && [ -f "$file" ]; then echo "=== $file"; cat "$file" || exit 3; fi
done
echo "=== environment"
echo "CONDA_PLUGINS_AUTO_ACCEPT_TOS=${CONDA_PLUGINS_AUTO_ACCEPT_TOS-}"
"""
_TRUE = {"yes", "true", "1", "on", "y"}


def auto_accept_tos(probe: str) -> tuple[bool, list[str]]:
    """What conda's `plugins.auto_accept_tos` (the conda-anaconda-tos plugin's setting)
    comes to from the probe's files and environment, and which sources set it."""
    from ruamel.yaml import YAML

    value, sources = False, []
    for section in probe.split("=== ")[1:]:
        source, _, body = section.partition("\n")
        if source == "environment":
            env = body.strip().partition("=")[2]
            if env:
                value, sources = env.lower() in _TRUE, [*sources, "environment"]
            continue
        document = YAML(typ="safe").load(body) or {}
        setting = (document.get("plugins") or {}).get("auto_accept_tos")
        if setting is not None:
            value, sources = bool(setting), [*sources, source]
    return value, sources


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_conda_accepts_the_channel_terms_without_a_prompt_for_root_and_the_user(
    name: str, images: Images, docker_client: docker.DockerClient
) -> None:
    """`conda install` from Anaconda's channels stops non-interactively until their Terms
    of Service are accepted; the image accepts them for every user. The stand-in conda
    cannot run the plugin: the setting the plugin reads is checked, as each user sees it."""
    built = images.get(name)
    for user in (None, built.user):
        result = run(docker_client, built.tag, TOS_PROBE, user=user)
        assert result.exit_code == 0, f"{user or 'root'} cannot read conda's configuration"
        assert auto_accept_tos(result.stdout) == (
            True,
            ["/etc/conda/condarc.d/anaconda-tos.yml"],
        ), f"{user or 'root'}:\n{result.stdout}"
    labels = images.builder.client.images.get(built.tag).labels
    assert labels["io.condabot.accept-anaconda-tos"] == "yes"


@pytest.mark.slow
def test_the_terms_can_be_left_to_each_user_by_a_build_argument(
    image_builder: ImageBuilder, installer_server: FileServer, docker_client: docker.DockerClient
) -> None:
    relative = CATALOG.image("miniconda3").dockerfile
    args = installer_build_args(installer_server, serve_installers(installer_server, relative))
    with pytest.raises(BuildFailed) as failure:
        build_dockerfile(
            image_builder,
            relative,
            "condabot-test/tos-maybe:latest",
            {**args, "ACCEPT_ANACONDA_TOS": "maybe"},
        )
    assert "ACCEPT_ANACONDA_TOS must be yes or no, not 'maybe'" in failure.value.log
    build = build_dockerfile(
        image_builder,
        relative,
        "condabot-test/tos-no:latest",
        {**args, "ACCEPT_ANACONDA_TOS": "no"},
    )
    try:
        result = run(docker_client, build.tag, TOS_PROBE, user="conda")
        assert result.exit_code == 0, result.stderr
        assert auto_accept_tos(result.stdout) == (False, [])
        labels = docker_client.images.get(build.tag).labels
        assert labels["io.condabot.accept-anaconda-tos"] == "no"
    finally:
        docker_client.images.remove(build.tag, force=True)


def run_command(client: docker.DockerClient, tag: str, command: list[str]) -> Run:
    """`docker run IMAGE COMMAND...`, through the image's own entrypoint."""
    container = client.containers.run(tag, command, detach=True, network_mode="none")
    try:
        exit_code = container.wait(timeout=120)["StatusCode"]
        stdout = container.logs(stdout=True, stderr=False).decode()
        stderr = container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)
    return Run(exit_code, stdout, stderr)


@pytest.mark.slow
def test_the_legacy_image_says_end_of_life_in_labels_and_interactive_shells_only(
    images: Images, docker_client: docker.DockerClient
) -> None:
    """`docker run miniconda2 python -c 'print(1)'` must print `1` and nothing else. The
    stand-in python runs no code, so `echo 1` stands for it: what is tested is that the
    image adds nothing around a command's output, on either stream."""
    built = images.get("miniconda2")
    quiet = run_command(docker_client, built.tag, ["echo", "1"])
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "1\n", "")
    shell = run_command(docker_client, built.tag, ["bash", "-i", "-c", "true"])
    assert "miniconda2 is END-OF-LIFE" in shell.stderr
    assert "END-OF-LIFE" not in shell.stdout
    labels = images.builder.client.images.get(built.tag).labels
    assert labels["io.condabot.end-of-life"] == "2020-01-01"
    assert labels["io.condabot.replacement"] == "docker.io/condabot/miniconda3"
    assert (
        "io.condabot.end-of-life"
        not in images.builder.client.images.get(images.get("miniconda3").tag).labels
    )


@pytest.mark.slow
def test_a_line_never_builds_the_dockerfiles_own_pin_for_an_arch_it_does_not_pin(
    image_builder: ImageBuilder,
) -> None:
    """The shared Dockerfile pins aarch64 for the default line; a line pinning only x86_64
    must fail on aarch64, not install the default line's installer in its name."""
    line = CATALOG.image(BUILT_LINE)
    amd64 = tuple(p for p in read_pins(dockerfile_text(line.pin_file)) if p.arch == "x86_64")
    args = {**dict(pin_build_args(amd64)), "TARGET_ARCH_OVERRIDE": "aarch64"}
    with pytest.raises(BuildFailed) as failure:
        build_dockerfile(image_builder, line.dockerfile, "condabot-test/line-arch:latest", args)
    assert "unsupported architecture aarch64: this image has installers for: x86_64" in (
        failure.value.log
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_image_labels_come_from_build_arguments(name: str, images: Images) -> None:
    built = images.get(name)
    labels = images.builder.client.images.get(built.tag).labels
    assert (
        labels["org.opencontainers.image.version"]
        == pins_of(built.image.pin_file)["x86_64"].version.text
    )
    assert labels["org.opencontainers.image.revision"] == LABELS["IMAGE_REVISION"]
    assert labels["org.opencontainers.image.created"] == LABELS["IMAGE_CREATED"]
    assert labels["org.opencontainers.image.source"] == LABELS["IMAGE_SOURCE"]
    assert labels["org.opencontainers.image.title"]
    assert labels["org.opencontainers.image.licenses"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_non_root_user_can_use_conda(
    name: str, images: Images, docker_client: docker.DockerClient
) -> None:
    built = images.get(name)
    script = r"""
    echo "whoami=$(id -un)"
    echo "version=$(conda --version)"
    touch "$HOME/probe" && echo "home=writable"
    touch "$(conda info --base)/probe" && echo "prefix=writable"
    echo "interactive=$(bash -ic 'echo "$CONDA_DEFAULT_ENV"' 2>/dev/null)"
    """
    result = run(docker_client, built.tag, script, user=built.user)
    assert result.exit_code == 0, result.stderr
    seen = result.values()
    assert seen["whoami"] == built.user
    assert seen["version"] == f"conda {built.installer.conda_version}"
    assert (seen["home"], seen["prefix"], seen["interactive"]) == ("writable", "writable", "base")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_any_uid_in_the_prefix_group_can_install(
    name: str, images: Images, docker_client: docker.DockerClient
) -> None:
    """As on platforms that run images under an arbitrary UID: the group owns the prefix."""
    built = images.get(name)
    gid = arg_default(dockerfile_text(built.image.dockerfile), "CONDA_GID")
    script = 'mkdir "$(conda info --base)/envs/probe" && echo "envs=writable"'
    result = run(docker_client, built.tag, script, user=f"4242:{gid}")
    assert result.exit_code == 0, result.stderr
    assert result.values()["envs"] == "writable"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_signals_reach_the_command(
    name: str, images: Images, docker_client: docker.DockerClient
) -> None:
    """tini is PID 1 and forwards SIGTERM: `docker stop` ends `sleep` at once, not after
    the 10 s grace period (a bare `sleep` as PID 1 would ignore SIGTERM)."""
    built = images.get(name)
    container = docker_client.containers.run(
        built.tag, ["sleep", "600"], detach=True, network_mode="none"
    )
    try:
        _wait_running(container)
        started = time.monotonic()
        container.stop(timeout=10)
        elapsed = time.monotonic() - started
        container.reload()
        assert elapsed < 5, f"docker stop took {elapsed:.1f} s"
        assert container.attrs["State"]["ExitCode"] == 143  # 128 + SIGTERM
    finally:
        container.remove(force=True)


def _wait_running(container: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "running" and "sleep" in container.top()["Processes"][-1][-1]:
            return
        time.sleep(0.2)
    raise AssertionError(f"container did not start: {container.logs().decode()[-500:]}")


@pytest.mark.slow
@pytest.mark.parametrize("relative", DOCKERFILES)
def test_tampered_installer_fails_the_build_before_it_runs(
    relative: str, image_builder: ImageBuilder, installer_server: FileServer
) -> None:
    installers = serve_installers(installer_server, relative)
    good = installers["x86_64"]
    installer_server.put(f"/tampered{good.path}", good.tampered())
    args = installer_build_args(installer_server, installers)
    args["UPSTREAM_URL"] = f"{installer_server.url}/tampered"
    with pytest.raises(BuildFailed) as failure:
        build_dockerfile(image_builder, relative, "condabot-test/tampered:latest", args)
    log = failure.value.log
    assert f"installer checksum mismatch for {good.filename}: expected {good.sha256}" in log
    assert "PREFIX=" not in log, "the installer must not run"


@pytest.mark.slow
@pytest.mark.parametrize("relative", DOCKERFILES)
def test_unsupported_arch_fails_the_build_naming_it(
    relative: str, image_builder: ImageBuilder
) -> None:
    supported = " ".join(pins_of(relative))
    with pytest.raises(BuildFailed) as failure:
        build_dockerfile(
            image_builder,
            relative,
            "condabot-test/unsupported:latest",
            {"TARGET_ARCH_OVERRIDE": "armv7l"},
        )
    expected = f"unsupported architecture armv7l: this image has installers for: {supported}"
    assert expected in failure.value.log


@pytest.mark.slow
def test_the_arch_selects_its_own_pin(
    image_builder: ImageBuilder, installer_server: FileServer, docker_client: docker.DockerClient
) -> None:
    relative = CATALOG.image("miniconda3").dockerfile
    installers = serve_installers(installer_server, relative)
    args = {
        **installer_build_args(installer_server, installers),
        "TARGET_ARCH_OVERRIDE": "aarch64",
    }
    build = build_dockerfile(image_builder, relative, "condabot-test/arch-override:latest", args)
    try:
        result = run(docker_client, build.tag, 'cat "$(conda info --base)/.condabot-installer"')
        seen = result.values()
        assert (seen["filename"], seen["arch"]) == (installers["aarch64"].filename, "aarch64")
    finally:
        docker_client.images.remove(build.tag, force=True)


@pytest.mark.slow
def test_ubuntu_variant_frees_uid_1000_from_the_default_ubuntu_user(
    image_builder: ImageBuilder,
    installer_server: FileServer,
    docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:
    """Ubuntu's base (24.04 on) has a user `ubuntu` with UID 1000. Its archive is not
    reachable here, so a local Debian base is given that user to stand in for it."""
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN useradd --uid 1000 --create-home ubuntu\n"
    )
    base = image_builder.build(tmp_path / "Dockerfile", "condabot-test/debian-ubuntu-user:latest")
    relative = CATALOG.image("miniconda3-ubuntu").dockerfile
    installers = serve_installers(installer_server, relative)
    args = {**installer_build_args(installer_server, installers), "BASE_IMAGE": base.tag}
    build = build_dockerfile(image_builder, relative, "condabot-test/ubuntu-user:latest", args)
    try:
        result = run(docker_client, build.tag, 'echo "uid=$(id -u conda)"; id ubuntu || true')
        assert result.values()["uid"] == "1000"
        assert "no such user" in result.stderr
    finally:
        docker_client.images.remove(build.tag, force=True)
        docker_client.images.remove(base.tag, force=True)


# -- the dev container, with the Dev Containers CLI (slow) ---------------------------------

DEVCONTAINER = ROOT / "dockerfiles" / "devcontainer"
WORKSPACE = "condabot-devcontainer-test"


@pytest.fixture
def devcontainer_workspace(
    tmp_path: Path,
    base_images: LocalBases,
    installer_server: FileServer,
    docker_client: docker.DockerClient,
) -> Iterator[Path]:
    """A project as a user has it: the sample `.devcontainer/`, the Dockerfile and its install
    script copied in, the context set to the project (as the README says), and an
    environment.yml. The copy of devcontainer.json gains what this machine needs: the
    local base and the generated installer's sha256 as build args, and the host network."""
    workspace = tmp_path / WORKSPACE
    shutil.copytree(DEVCONTAINER / ".devcontainer", workspace / ".devcontainer")
    shutil.copy(DEVCONTAINER / "Dockerfile", workspace / "Dockerfile")
    shutil.copy(DEVCONTAINER.parent / "install-conda.sh", workspace / "install-conda.sh")
    (workspace / "environment.yml").write_text(
        "name: demo\ndependencies:\n  - python=3.11\n  - numpy\n"
    )
    installers = serve_installers(installer_server, "dockerfiles/devcontainer/Dockerfile")
    config_path = workspace / ".devcontainer" / "devcontainer.json"
    config = json.loads(config_path.read_text())
    config["build"]["context"] = ".."
    config["build"]["args"].update(
        BASE_IMAGE=base_images.debian, SHA256SUM_LINUX64=installers["x86_64"].sha256
    )
    config["build"]["options"] = ["--network=host"]
    config["runArgs"] = ["--network=host"]
    config_path.write_text(json.dumps(config, indent=2))
    yield workspace
    for container in docker_client.containers.list(
        all=True, filters={"label": f"devcontainer.local_folder={workspace}"}
    ):
        container.remove(force=True)
    for tag in local_names(docker_client):
        if tag.startswith(f"vsc-{WORKSPACE}-"):
            docker_client.images.remove(tag, force=True)


@pytest.mark.slow
def test_devcontainer_creates_the_environment_from_environment_yml(
    devcontainer_cli: DevcontainerCli, devcontainer_workspace: Path, installer_server: FileServer
) -> None:
    env = {**os.environ, "CONDABOT_UPSTREAM_URL": installer_server.url}
    up = subprocess.run(
        devcontainer_cli.command("up", "--workspace-folder", str(devcontainer_workspace)),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert up.returncode == 0, up.stderr[-3000:]
    outcome = json.loads(up.stdout.strip().splitlines()[-1])
    assert (outcome["outcome"], outcome["remoteUser"]) == ("success", "vscode")
    script = r"""
    echo "whoami=$(id -un)"
    echo "which=$(command -v conda)"
    echo "pwd=$(pwd)"
    echo "env_update=$(grep -c numpy /opt/conda/conda-meta/condabot-test-env-updates)"
    sudo -n true && echo "sudo=yes"
    echo "git=$(command -v git)"
    """
    done = subprocess.run(
        devcontainer_cli.command(
            "exec", "--workspace-folder", str(devcontainer_workspace), "bash", "-c", script
        ),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = Run(done.returncode, done.stdout, done.stderr).values()
    assert seen["whoami"] == "vscode"
    assert seen["which"] == "/opt/conda/bin/conda"
    assert seen["pwd"] == f"/workspaces/{WORKSPACE}"
    assert seen["env_update"] == "1", "onCreateCommand ran conda env update -f environment.yml"
    assert (seen["sudo"], seen["git"]) == ("yes", "/usr/bin/git")
