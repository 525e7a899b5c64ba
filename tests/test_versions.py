"""Installer versions order correctly within and across upstream naming eras."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.versions import Version, VersionRange


def ordered(*texts: str) -> list[str]:
    return [v.text for v in sorted(Version.parse(t) for t in texts)]


@pytest.mark.parametrize(
    "ascending",
    [
        ("23.5.2-0", "23.5.2-1", "23.7.2-0"),  # build numbers, then releases
        ("4.7.12", "4.7.12.1", "4.8.2", "4.12.0", "22.11.1-1", "23.1.0-1"),  # four-part era
        ("2022.10", "2023.03", "2023.03-0", "2023.03-1", "2023.07-2"),  # calendar era
        ("5.3.1", "2018.12", "2019.03"),  # Anaconda semver era ends before calendar era
        ("3.9.1", "3.10.0", "3.16.0"),  # numeric, not lexical
        ("25.1.1-2", "25.3.1-1", "26.5.3-1"),
    ],
)
def test_orderings(ascending: tuple[str, ...]) -> None:
    assert ordered(*reversed(ascending)) == list(ascending)


def test_text_is_kept_and_series_follows_upstream_spelling() -> None:
    assert Version.parse("2023.07-2").series == "2023.07"
    assert Version.parse("26.5.3-1").series == "26.5"
    assert Version.parse("26.5.3-1").upstream == "26.5.3"
    assert str(Version.parse("4.7.12.1")) == "4.7.12.1"


@pytest.mark.parametrize(
    "bad", ["", "latest", "1.2.3-x", "v1.2", "1.2.3.4.5", "1..2", "1.2;rm -rf /"]
)
def test_rejects_non_versions(bad: str) -> None:
    with pytest.raises(ValueError, match="not an installer version"):
        Version.parse(bad)


parts = st.lists(st.integers(0, 3000), min_size=2, max_size=4)
# Versions that differ only by trailing zeros (1.2.3 vs 1.2.3.0) must be drawn often.
releases = st.one_of(parts, parts.map(lambda p: [*p, 0][:4]), parts.map(lambda p: p[:2]))


def numeric_order(a: list[int], ab: int | None, b: list[int], bb: int | None) -> int:
    """Written apart from the code's sort key: release parts compared with the shorter one
    zero-extended to the longer (1.2.3 == 1.2.3.0), then a missing build before any build."""
    width = max(len(a), len(b))
    ka = ([*a, *[0] * (width - len(a))], -1 if ab is None else ab)
    kb = ([*b, *[0] * (width - len(b))], -1 if bb is None else bb)
    return (ka > kb) - (ka < kb)


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [("1.2.3", "1.2.3.0", 0), ("1.2", "1.2.0", 0), ("1.2.3", "1.2.3.1", -1),
     ("4.7.12", "4.7.12.1", -1), ("2023.03", "2023.03-0", -1), ("1.2.3.0-1", "1.2.3-1", 0)],
)  # fmt: skip
def test_trailing_zeros_and_builds(a: str, b: str, order: int) -> None:
    va, vb = Version.parse(a), Version.parse(b)
    assert ((va > vb) - (va < vb), va == vb) == (order, order == 0)


@given(releases, st.none() | st.integers(0, 9), releases, st.none() | st.integers(0, 9))
def test_order_is_numeric_release_then_build(
    a: list[int], ab: int | None, b: list[int], bb: int | None
) -> None:
    def text(release: list[int], build: int | None) -> str:
        return ".".join(map(str, release)) + ("" if build is None else f"-{build}")

    va, vb = Version.parse(text(a, ab)), Version.parse(text(b, bb))
    assert (va > vb) - (va < vb) == numeric_order(a, ab, b, bb)
    assert (va == vb) == (numeric_order(a, ab, b, bb) == 0)


@given(parts, parts)
def test_order_agrees_with_semver_precedence_on_the_core(a: list[int], b: list[int]) -> None:
    va, vb = Version.parse(".".join(map(str, a[:3]))), Version.parse(".".join(map(str, b[:3])))
    assert (va < vb) == (va.core.compare(vb.core) < 0)


def test_version_range() -> None:
    allowed = VersionRange.parse(">=24.1.0, <26")
    assert Version.parse("25.3.1-1") in allowed
    assert Version.parse("23.10.0-1") not in allowed
    assert Version.parse("26.5.3-1") not in allowed
    with pytest.raises(ValueError, match="comparator"):
        VersionRange.parse("~=24")
