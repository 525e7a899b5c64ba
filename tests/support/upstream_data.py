"""Upstream listings for tests, benchmarks and the demo.

The base is the 2023 fixtures (real filenames and sha256). On top, releases up to
2026 named by the real scheme, with SYNTHETIC sha256 values and sizes, and the
`-latest-` aliases moved to the newest default flavour. The fixture files
themselves are never edited.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def synthetic_entry(filename: str, date: str, size: int = 150_000_000) -> dict[str, Any]:
    mtime = datetime.fromisoformat(date).replace(tzinfo=UTC).timestamp()
    digest = hashlib.sha256(b"synthetic:" + filename.encode()).hexdigest()
    return {"mtime": mtime, "sha256": digest, "size": size}


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
            archive.setdefault(name, synthetic_entry(name, date, 1_000_000_000))
    return documents
