"""The smoke test every image passes before it leaves the machine. The check is pure.

The Dockerfiles record which installer they ran in `<prefix>/.condabot-installer`
(`filename=`, `sha256=`, `arch=`). The image must hold the planned installer for its
platform, conda and python must come from the expected prefix, conda's version must be the
pinned one (Miniconda: the version without its build number) and Python the pinned flavour.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from bot.errors import BuildError
from bot.release.index import INSTALLER_SHA_LABEL
from bot.release.plan import ImageRelease, PlatformBuild
from bot.upstream.names import parse_installer_name

DEFAULT_PREFIX = "/opt/conda"
SMOKE_SCRIPT = """set -e
prefix="$(conda info --base)"
echo "prefix=${prefix}"
echo "machine=$(uname -m)"
echo "conda=$(conda --version 2>&1)"
echo "python=$(python --version 2>&1)"
echo "python_path=$(command -v python)"
echo "python_real=$(readlink -f "$(command -v python)" 2>/dev/null || command -v python)"
cat "${prefix}/.condabot-installer"
"""
# ELF e_machine -> `uname -m`
_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64", 0x15: "ppc64le", 0x16: "s390x"}


def parse_output(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return found


def check_smoke(
    output: str,
    image: ImageRelease,
    platform: PlatformBuild,
    build_args: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
) -> None:
    found = parse_output(output)
    prefix = posixpath.normpath(build_args.get("CONDA_PREFIX_DIR", DEFAULT_PREFIX))
    problems = _installer_problems(found, image, platform)
    if found.get("machine") != platform.arch:
        problems.append(f"uname -m says {found.get('machine')!r}, not {platform.arch}")
    labelled = (labels or {}).get(INSTALLER_SHA_LABEL)
    if labelled and found.get("sha256") != labelled:
        problems.append(f"it records installer sha256 {found.get('sha256')!r}, not {labelled}")
    if found.get("prefix") != prefix:
        problems.append(f"conda's base is {found.get('prefix')!r}, not {prefix}")
    if not found.get("python_path", "").startswith(prefix.rstrip("/") + "/"):
        problems.append(f"python resolves to {found.get('python_path')!r}, outside {prefix}")
    problems += _version_problems(found, image)
    if problems:
        raise BuildError(
            f"smoke test of {image.name} for {platform.platform} failed: {'; '.join(problems)}",
            "the image was not pushed; fix the Dockerfile or the pins",
        )


def _installer_problems(
    found: Mapping[str, str], image: ImageRelease, platform: PlatformBuild
) -> list[str]:
    filename = found.get("filename", "")
    name = parse_installer_name(filename)
    if name is None:
        return [f"no installer identity in the image (.condabot-installer: {filename!r})"]
    problems = []
    if name.version != image.version:
        problems.append(f"it installed {filename}, not version {image.version}")
    if name.arch != platform.arch or found.get("arch") != platform.arch:
        problems.append(f"it installed {filename} on {found.get('arch')}, not {platform.arch}")
    if image.flavour and name.python != image.flavour:
        problems.append(f"it installed {filename}, not flavour {image.flavour}")
    return problems


def _version_problems(found: Mapping[str, str], image: ImageRelease) -> list[str]:
    problems = []
    conda = found.get("conda", "").removeprefix("conda ").strip()
    if image.product.startswith("miniconda"):
        if conda != image.version.conda:
            problems.append(f"conda --version says {conda!r}, not {image.version.conda}")
    elif not re.fullmatch(r"\d+\.\d+\.\d+", conda):
        problems.append(f"conda --version says {conda!r}")
    match = re.fullmatch(r"Python (\d+)\.(\d+)\S*", found.get("python", ""))
    if match is None:
        problems.append(f"python --version says {found.get('python')!r}")
    elif image.flavour and f"py{match[1]}{match[2]}" != image.flavour:
        problems.append(f"python is {match[1]}.{match[2]}, not flavour {image.flavour}")
    return problems


def elf_machine(header: bytes) -> str | None:
    """The machine an ELF file is for (`uname -m` names), None if it is not ELF."""
    if len(header) < 20 or not header.startswith(b"\x7fELF"):
        return None
    code = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
    return _MACHINES.get(code, f"ELF machine {code:#x}")


def machine_problem(header: bytes, path: str, arch: str) -> str | None:
    machine = elf_machine(header)
    if machine is None:
        return f"{path} is neither an ELF executable nor a script"
    if machine != arch:
        return f"{path} is an executable for {machine}, not {arch}"
    return None
