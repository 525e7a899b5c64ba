"""Generated stand-ins for Miniconda/Anaconda installers, for image builds in tests.

The real installers (50 MB to 1 GB from repo.anaconda.com) are not reachable here, and a
test needs to know exactly what an image holds. A generated installer is a small bash
script with the real installer's interface (`-b`, `-p PREFIX`, `-u`, `-f`) that lays out
the parts of a conda prefix the images and their tests use:

- `PREFIX/bin/conda`: `--version` (the pinned conda version), `info --base`, `clean -afy`,
  `shell.bash hook`, `shell.posix activate|deactivate`, `init bash`, and
  `env update|create -f FILE` (recorded in `PREFIX/conda-meta/condabot-test-env-updates`);
- `PREFIX/bin/python` (and `python3` / `python2`): `--version` for the flavour;
- `PREFIX/etc/profile.d/conda.sh`: the `conda` shell function, so `conda activate` works;
- a package cache for `conda clean` and a static library for the image's cleanup to delete.

It is served under the real filename (`/miniconda/<file>` or `/archive/<file>`), and the
build is given its sha256 in place of the pinned one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.upstream.names import parse_installer_name

# What the real installers ship (conda and Python versions), for the pins our images carry.
STAND_IN_PYTHON = "3.12.0"
KNOWN: dict[str, tuple[str, str]] = {
    "Miniconda3-py311_23.5.2-0": ("23.5.2", "3.11.4"),
    "Anaconda3-2023.09-0": ("23.7.4", "3.11.5"),
    "Miniconda2-py27_4.8.3": ("4.8.3", "2.7.18"),
}

_CONDA = r"""#!/bin/bash
# condabot TEST conda (not the real one): answers what the images and their tests ask.
PREFIX='@PREFIX@'
activate() {
    local name="${1:-base}" target
    if [ "$name" = base ]; then target="$PREFIX"; else target="$PREFIX/envs/$name"; fi
    if [ ! -d "$target" ]; then
        echo "echo 'EnvironmentNameNotFound: Could not find conda environment: $name' >&2; false"
        return
    fi
    echo "export CONDA_PREFIX='$target'"
    echo "export CONDA_DEFAULT_ENV='$name'"
    echo "export CONDA_SHLVL=1"
    echo "export PATH='$target/bin':\"\$PATH\""
    echo "PS1='($name) '\"\${PS1:-}\""
}
case "${1:-}" in
    --version | -V) echo "conda @CONDA_VERSION@" ;;
    info)
        if [ "${2:-}" = --base ]; then
            echo "$PREFIX"
        else
            echo "     active environment : ${CONDA_DEFAULT_ENV:-None}"
            echo "       base environment : $PREFIX"
            echo "          conda version : @CONDA_VERSION@"
            echo "         python version : @PYTHON_VERSION@"
        fi
        ;;
    clean) rm -rf "${PREFIX:?}"/pkgs/* ;;
    shell.bash | shell.posix)
        case "${2:-}" in
            hook) cat "$PREFIX/etc/profile.d/conda.sh" ;;
            activate) activate "${3:-base}" ;;
            deactivate) echo "unset CONDA_PREFIX CONDA_DEFAULT_ENV; export CONDA_SHLVL=0" ;;
            *) echo "test conda: unsupported shell command: $*" >&2; exit 1 ;;
        esac
        ;;
    init)
        printf '\n# >>> conda initialize >>>\neval "$(%s shell.bash hook)"\n# <<< conda initialize <<<\n' \
            "$PREFIX/bin/conda" >> "$HOME/.bashrc"
        ;;
    env | create)
        [ "$1" = env ] && shift
        file=""
        while [ $# -gt 1 ]; do
            case "$1" in -f | --file) file="$2" ;; esac
            shift
        done
        if [ -n "$file" ]; then
            { echo "# $file"; cat "$file"; } >> "$PREFIX/conda-meta/condabot-test-env-updates"
        fi
        echo "test conda: environment updated"
        ;;
    *) echo "test conda: unsupported command: $*" >&2; exit 1 ;;
esac
"""

_PYTHON = r"""#!/bin/bash
# condabot TEST python (not a real interpreter): answers --version only.
case "${1:-}" in
    --version | -V) echo "Python @PYTHON_VERSION@" @STREAM@ ;;
    *) echo "test python: only --version is supported" >&2; exit 1 ;;
esac
"""

_CONDA_SH = r"""# condabot TEST conda.sh: the `conda` shell function, as the real one provides.
export CONDA_EXE='@PREFIX@/bin/conda'
export CONDA_PYTHON_EXE='@PREFIX@/bin/python'
conda() {
    case "${1:-}" in
        activate | deactivate) eval "$("$CONDA_EXE" shell.posix "$@")" ;;
        *) "$CONDA_EXE" "$@" ;;
    esac
}
"""

_INSTALLER = r"""#!/bin/bash
# condabot TEST installer standing in for @FILENAME@.
# It is NOT the real installer: it lays out a minimal conda prefix for image tests.
set -eu
PREFIX="${HOME:-/root}/@DEFAULT_DIR@"
BATCH=0
UPDATE=0
while getopts "bfhp:su" option; do
    case "$option" in
        b) BATCH=1 ;;
        f | u) UPDATE=1 ;;
        p) PREFIX="$OPTARG" ;;
        s) ;;
        h) echo "usage: $0 [-b] [-u] [-p PREFIX]"; exit 0 ;;
        *) exit 2 ;;
    esac
done
if [ "$BATCH" != 1 ]; then
    echo "test installer: only batch mode (-b) is supported" >&2
    exit 2
fi
case "$PREFIX" in
    /*) ;;
    *) echo "ERROR: the prefix must be an absolute path: $PREFIX" >&2; exit 1 ;;
esac
if [ -e "$PREFIX" ] && [ "$UPDATE" != 1 ]; then
    echo "ERROR: File or directory already exists: '$PREFIX'" >&2
    echo "If you want to update an existing installation, use the -u option." >&2
    exit 1
fi
echo "PREFIX=$PREFIX"
mkdir -p "$PREFIX/bin" "$PREFIX/etc/profile.d" "$PREFIX/conda-meta" "$PREFIX/pkgs" \
    "$PREFIX/lib" "$PREFIX/envs"
cat > "$PREFIX/bin/conda" <<'CONDABOT_CONDA'
@CONDA@CONDABOT_CONDA
cat > "$PREFIX/bin/python" <<'CONDABOT_PYTHON'
@PYTHON@CONDABOT_PYTHON
cat > "$PREFIX/etc/profile.d/conda.sh" <<'CONDABOT_CONDA_SH'
@CONDA_SH@CONDABOT_CONDA_SH
sed -i "s|@PREFIX@|$PREFIX|g" "$PREFIX/bin/conda" "$PREFIX/etc/profile.d/conda.sh"
chmod 755 "$PREFIX/bin/conda" "$PREFIX/bin/python"
ln -sf python "$PREFIX/bin/python@MAJOR@"
echo "test package cache" > "$PREFIX/pkgs/condabot-test-1.0-0.tar.bz2"
echo "static library the image removes" > "$PREFIX/lib/libcondabot-test.a"
echo "@FILENAME@" > "$PREFIX/conda-meta/condabot-test-installer"
echo "installation finished."
"""


@dataclass(frozen=True)
class GeneratedInstaller:
    filename: str  # the real upstream filename it stands in for
    conda_version: str  # what `conda --version` reports
    python_version: str  # what `python --version` reports
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def directory(self) -> str:
        """The upstream directory: `miniconda` or `archive`."""
        return "archive" if self.filename.startswith("Anaconda") else "miniconda"

    @property
    def path(self) -> str:
        """Where a mirror of repo.anaconda.com serves it."""
        return f"/{self.directory}/{self.filename}"

    @property
    def canonical_url(self) -> str:
        return f"https://repo.anaconda.com{self.path}"

    @property
    def python_flavour(self) -> str:
        major, minor = self.python_version.split(".")[:2]
        return f"py{major}{minor}"

    def tampered(self) -> bytes:
        """Other bytes under the same name, as when upstream replaced a file."""
        return self.content + b"# tampered\n"


def make_installer(
    filename: str, conda_version: str | None = None, python_version: str | None = None
) -> GeneratedInstaller:
    """A test installer for a real Linux installer filename.

    Conda and Python versions default to what the real installer ships (`KNOWN`), else to
    what the name says (Miniconda `py311_23.5.2-0` means conda 23.5.2, Python 3.11.0), else
    to a stand-in derived from it (Anaconda `2025.06-0`: conda 25.6.0, Python 3.12.0): any
    installer a Dockerfile pins, today's or one the bot proposes later, gets a stand-in.
    """
    name = parse_installer_name(filename)
    if name is None or name.os != "Linux" or name.ext != "sh":
        raise ValueError(f"not a Linux .sh installer filename: {filename!r}")
    stem = filename.removesuffix(f"-Linux-{name.arch}.sh")
    known_conda, known_python = KNOWN.get(stem, (None, None))
    conda_version = conda_version or known_conda or _conda_from_name(filename, name.version.text)
    python_version = python_version or known_python or _python_from_flavour(name.python)
    major = python_version.split(".")[0]
    replacements = {
        "@CONDA@": _CONDA,
        "@PYTHON@": _PYTHON.replace("@STREAM@", ">&2" if major == "2" else ""),
        "@CONDA_SH@": _CONDA_SH,
        "@CONDA_VERSION@": conda_version,
        "@PYTHON_VERSION@": python_version,
        "@FILENAME@": filename,
        "@MAJOR@": major,
        "@DEFAULT_DIR@": "anaconda3" if filename.startswith("Anaconda") else "miniconda3",
    }
    text = _INSTALLER
    for placeholder, value in replacements.items():  # insertion order: templates first
        text = text.replace(placeholder, value)
    return GeneratedInstaller(filename, conda_version, python_version, text.encode())


def _conda_from_name(filename: str, version: str) -> str:
    if filename.startswith("Miniconda"):
        return re.sub(r"-\d+$", "", version)
    # An Anaconda name does not say its conda: a stand-in from its YYYY.MM.
    year, month = re.findall(r"\d+", version)[:2]
    return f"{int(year) % 100}.{int(month)}.0"


def _python_from_flavour(flavour: str | None) -> str:
    if flavour is None:
        return STAND_IN_PYTHON  # an Anaconda name does not say its Python either
    digits = flavour.removeprefix("py")
    return f"{digits[0]}.{digits[1:]}.0"
