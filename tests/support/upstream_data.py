"""Upstream listings for tests, benchmarks and the demo.

The base is the 2023 fixtures (real filenames and sha256). On top, releases up to
2026 named by the real scheme, and the `-latest-` aliases moved to the newest default
flavour. Each synthetic file is a generated stand-in installer of a few KB
(`tests/support/installer.py`): its listed sha256 and size are those of the bytes
`publish_upstream` serves, so the bot's verification passes end to end. The fixture
files themselves are never edited, and their real installers are not served.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.installer import make_installer
from tests.support.mirror import Mirror

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "upstream"

# (version, date, python flavours, Linux arches); the last flavour is the default.
MINICONDA_RELEASES = (
    (
        "23.10.0-1",
        "2023-11-16",
        ("py38", "py39", "py310", "py311"),
        ("x86_64", "aarch64", "s390x", "ppc64le"),
    ),
    (
        "24.1.2-0",
        "2024-02-23",
        ("py38", "py39", "py310", "py311", "py312"),
        ("x86_64", "aarch64", "s390x"),
    ),
    ("24.5.0-0", "2024-06-03", ("py39", "py310", "py311", "py312"), ("x86_64", "aarch64", "s390x")),
    ("25.1.1-2", "2025-02-11", ("py39", "py310", "py311", "py312"), ("x86_64", "aarch64", "s390x")),
    ("25.3.1-1", "2025-04-10", ("py39", "py310", "py311", "py312", "py313"), ("x86_64", "aarch64")),
    (
        "26.5.3-1",
        "2026-09-30",
        ("py310", "py311", "py312", "py313", "py314"),
        ("x86_64", "aarch64"),
    ),
)
ANACONDA_RELEASES = (
    ("2023.09-0", "2023-09-29", ("x86_64", "aarch64", "s390x", "ppc64le")),
    ("2024.02-1", "2024-02-27", ("x86_64", "aarch64", "s390x")),
    ("2024.06-1", "2024-06-26", ("x86_64", "aarch64", "s390x")),
    ("2024.10-1", "2024-10-23", ("x86_64", "aarch64", "s390x")),
    ("2025.06-0", "2025-07-15", ("x86_64", "aarch64")),
)


# What the stand-in for each synthetic Anaconda release reports (conda, Python); Miniconda
# names say both.
ANACONDA_VERSIONS = {
    "2024.02-1": ("24.1.2", "3.11.7"),
    "2024.06-1": ("24.5.0", "3.12.4"),
    "2024.10-1": ("24.9.2", "3.12.7"),
    "2025.06-0": ("25.5.1", "3.13.5"),
}
_BYTES: dict[str, bytes] = {}  # filename -> its stand-in bytes (a pure function, memoized)
_BY_SHA: dict[str, bytes] = {}  # sha256 -> bytes, for every stand-in made (replacements too)


def _remember(content: bytes) -> bytes:
    _BY_SHA[hashlib.sha256(content).hexdigest()] = content
    return content


def synthetic_installer(filename: str) -> bytes:
    """The bytes a synthetic release's file holds: a generated test installer, a few KB."""
    if filename not in _BYTES:
        conda, python = None, None
        if filename.startswith("Anaconda3-"):
            release = filename.split("-Linux-")[0].removeprefix("Anaconda3-")
            conda, python = ANACONDA_VERSIONS[release]
        _BYTES[filename] = _remember(make_installer(filename, conda, python).content)
    return _BYTES[filename]


def replace_upstream_bytes(documents: dict[str, dict[str, Any]], filename: str) -> bytes:
    """Upstream replaces a synthetic file's bytes under the same name, and lists them
    honestly (its `-latest-` alias too). Returns the new bytes."""
    directory = "archive" if filename.startswith("Anaconda") else "miniconda"
    entry = documents[directory][filename]
    content = _remember(synthetic_installer(filename) + b"# bytes replaced upstream\n")
    old, new = entry["sha256"], hashlib.sha256(content).hexdigest()
    for other in documents[directory].values():
        if other.get("sha256") == old:  # the file itself and any alias of it
            other.update(sha256=new, size=len(content))
    return content


def synthetic_entry(filename: str, date: str) -> dict[str, Any]:
    """A listing entry that tells the truth about `synthetic_installer(filename)`."""
    content = synthetic_installer(filename)
    mtime = datetime.fromisoformat(date).replace(tzinfo=UTC).timestamp()
    return {"mtime": mtime, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}


def add_miniconda_release(
    documents: dict[str, dict[str, Any]],
    version: str,
    date: str,
    flavours: tuple[str, ...],
    arches: tuple[str, ...] = ("x86_64", "aarch64"),
) -> None:
    """Upstream publishes a Miniconda release; its last flavour becomes the `-latest-` default."""
    miniconda = documents["miniconda"]
    for python in flavours:
        for arch in arches:
            name = f"Miniconda3-{python}_{version}-Linux-{arch}.sh"
            miniconda[name] = synthetic_entry(name, date)
            if python == flavours[-1]:
                miniconda[f"Miniconda3-latest-Linux-{arch}.sh"] = dict(miniconda[name])


def fixture_documents() -> dict[str, dict[str, Any]]:
    """The shared 2023 fixtures as they are."""
    return {
        "miniconda": json.loads((FIXTURES / "miniconda-2023-07-13.files.json").read_text()),
        "archive": json.loads((FIXTURES / "archive-2023-10.files.json").read_text()),
    }


def current_documents(until: str = "2026-12-31") -> dict[str, dict[str, Any]]:
    """Fixtures plus every synthetic release dated on or before `until`."""
    documents = fixture_documents()
    archive = documents["archive"]
    for version, date, flavours, arches in MINICONDA_RELEASES:
        if date <= until:
            add_miniconda_release(documents, version, date, flavours, arches)
    for version, date, arches in ANACONDA_RELEASES:
        if date > until:
            continue
        for arch in arches:
            name = f"Anaconda3-{version}-Linux-{arch}.sh"
            if name not in archive:  # 2023.09-0 is in the fixture, with its real hashes
                archive[name] = synthetic_entry(name, date)
    return documents


def installer_files(documents: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """Path -> bytes for every synthetic installer the listings name, `-latest-` aliases included.

    An entry whose sha256 names no bytes we made is served its file's original bytes, as a
    real server would: a test that edits an entry's sha256 makes the listing lie.
    """
    files = {}
    for directory, document in documents.items():
        for filename, entry in document.items():
            content = _BY_SHA.get(str(entry.get("sha256"))) or _BYTES.get(filename)
            if content is not None:
                files[f"/{directory}/{filename}"] = content
    return files


def publish_upstream(mirror: Mirror, documents: dict[str, dict[str, Any]]) -> None:
    """Serve the listings and every synthetic installer they name (the installers first)."""
    for path, content in installer_files(documents).items():
        mirror.publish(path, content)
    mirror.publish_listings(documents)
