"""Fetching listings from a real loopback mirror: caching, retries, faults, CLI output.

Nothing in requests is patched: every fault is produced by the mirror server.
"""

import json
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import ListingError, UpstreamUnavailable
from bot.http import HttpPolicy, make_session
from bot.upstream.source import HttpUpstream
from tests.support.mirror import Fault, Mirror

LISTING = "/miniconda/.files.json"


def upstream(mirror: Mirror, cache: Path | None, **policy: float) -> HttpUpstream:
    settings = HttpPolicy(read_timeout=1.0, backoff=0.05, **policy)  # type: ignore[arg-type]
    return HttpUpstream(mirror.url, make_session(cache, settings), settings.timeout)


def test_fetches_both_listings_with_a_named_user_agent(mirror: Mirror, tmp_path: Path) -> None:
    listing = upstream(mirror, tmp_path).listing()
    assert any(
        i.filename == "Miniconda3-py314_26.5.3-1-Linux-x86_64.sh" for i in listing.installers
    )
    assert any(i.filename == "Anaconda3-2025.06-0-Linux-aarch64.sh" for i in listing.installers)
    assert listing.installers[0].url.startswith(mirror.url)
    agents = {h.headers["User-Agent"] for h in mirror.requests()}
    assert len(agents) == 1 and agents.pop().startswith("condabot/")


def test_second_poll_is_one_conditional_request_per_listing_with_no_body(
    mirror: Mirror, tmp_path: Path
) -> None:
    first = upstream(mirror, tmp_path).listing()
    mirror.hits.clear()
    second = upstream(mirror, tmp_path).listing()  # a new process would build a new session too
    assert second == first
    hits = mirror.requests()
    assert [h.status for h in hits] == [304, 304]
    assert all("If-None-Match" in h.headers for h in hits)
    assert mirror.body_bytes() == 0


def test_changed_listing_is_fetched_again(mirror: Mirror, tmp_path: Path) -> None:
    upstream(mirror, tmp_path).listing()
    entry = {"sha256": "b" * 64, "size": 10, "mtime": 2e9}
    mirror.publish_listing("miniconda", {"Miniconda3-py314_27.1.0-0-Linux-x86_64.sh": entry})
    listing = upstream(mirror, tmp_path).listing()
    assert [i.version.text for i in listing.installers if i.product.value == "miniconda3"] == [
        "27.1.0-0"
    ]


def test_500_then_success_is_retried(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, status=500), times=2)
    listing = upstream(mirror, tmp_path).listing()
    assert listing.installers
    assert [h.status for h in mirror.requests(LISTING)] == [500, 500, 200]


def test_429_honours_retry_after(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, status=429, headers=(("Retry-After", "1"),)))
    started = time.monotonic()
    upstream(mirror, tmp_path).listing()
    assert time.monotonic() - started >= 1.0
    assert [h.status for h in mirror.requests(LISTING)] == [429, 200]


def test_retry_after_beyond_our_patience_is_reported_not_slept(
    mirror: Mirror, tmp_path: Path
) -> None:
    mirror.inject(Fault(LISTING, status=429, headers=(("Retry-After", "3600"),)), times=10)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable, match=r"HTTP 429 after every retry.*wait 3600s"):
        upstream(mirror, tmp_path, retries=2).listing()
    assert time.monotonic() - started < 10


def test_timeout_then_success(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, delay=1.5))
    assert upstream(mirror, tmp_path).listing().installers
    deadline = time.monotonic() + 3  # the slow answer is logged once its handler wakes up
    while len(mirror.requests(LISTING)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(mirror.requests(LISTING)) == 2  # the slow answer, then the retry


def test_persistent_5xx_gives_a_clear_final_error(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, status=503), times=10)
    with pytest.raises(UpstreamUnavailable) as err:
        upstream(mirror, tmp_path, retries=2).listing()
    assert err.value.exit_code == 4
    assert f"{mirror.url}{LISTING}: HTTP 503 after every retry; rerun later" == err.value.message
    assert len(mirror.requests(LISTING)) == 3


def test_404_is_final_and_not_retried(mirror: Mirror, tmp_path: Path) -> None:
    mirror.reset()
    with pytest.raises(UpstreamUnavailable, match=r"HTTP 404.*mirror of repo\.anaconda\.com"):
        upstream(mirror, tmp_path).listing()
    assert len(mirror.requests()) == 1


def test_truncated_body_is_fetched_again(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, truncate_to=100))
    assert upstream(mirror, tmp_path).listing().installers
    assert mirror.requests(LISTING)[0].body_bytes == 100


def test_body_truncated_every_time_is_unavailable(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, truncate_to=100), times=5)
    with pytest.raises(UpstreamUnavailable, match="cut off 3 times"):
        upstream(mirror, tmp_path).listing()


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (
            b"<!DOCTYPE html><html>Login</html>",
            "text/html",
            "got HTML where a JSON listing was expected",
        ),
        (
            b'{"Miniconda3-py311_23.5.2-0-Linux-x86_64.sh": {"sha',
            "application/json",
            "malformed or truncated JSON",
        ),
        (b"{}", "application/json", "the listing is empty"),
        (b"[]", "application/json", "expected a JSON object of files, got list"),
        (b'{"README.txt": {}}', "application/json", "no installer we recognise"),
    ],
)
def test_bad_listings_are_named_errors(
    mirror: Mirror, tmp_path: Path, body: bytes, content_type: str, problem: str
) -> None:
    mirror.publish(LISTING, body, content_type)
    with pytest.raises(ListingError, match=problem) as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 5
    assert mirror.url in err.value.message


def test_a_bad_body_is_not_kept_for_revalidation(mirror: Mirror, tmp_path: Path) -> None:
    # A CDN serving a corrupt copy under the good copy's ETag: had we cached it, the
    # next poll would revalidate it into a 304 and fail forever.
    good = mirror.resource(LISTING)
    assert good is not None
    validators = (("ETag", good.etag), ("Last-Modified", good.last_modified))
    mirror.inject(
        Fault(LISTING, body=b"{broken", content_type="application/json", headers=validators)
    )
    with pytest.raises(ListingError):
        upstream(mirror, tmp_path).listing()
    assert upstream(mirror, tmp_path).listing().installers
    assert mirror.requests(LISTING)[-1].status == 200


def test_an_oversized_listing_is_refused_before_it_is_held(mirror: Mirror, tmp_path: Path) -> None:
    source = upstream(mirror, tmp_path)
    source.max_bytes = 100_000  # the real listings are ~190 kB together; each is bigger than this
    with pytest.raises(ListingError, match="over 100000"):
        source.listing()


def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    mirror = Mirror()
    mirror.start()
    url = mirror.url
    mirror.stop()
    settings = HttpPolicy(retries=1, backoff=0.01)
    with pytest.raises(UpstreamUnavailable, match=r"cannot connect|every retry"):
        HttpUpstream(url, make_session(tmp_path, settings), settings.timeout).listing()


# -- the command ---------------------------------------------------------------


def run(
    capsys: pytest.CaptureFixture[str], mirror: Mirror, tmp_path: Path, *args: str
) -> tuple[int, str, str]:
    code = main(["upstream", "--upstream-url", mirror.url, "--cache-dir", str(tmp_path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_table_marks_latest_and_ended(
    mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, mirror, tmp_path, "--product", "miniconda3", "--os", "Linux")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["PRODUCT", "PYTHON", "VERSION", "OS", "ARCH"]
    row = next(line for line in lines if "py314" in line and "x86_64" in line)
    assert "26.5.3-1" in row and row.endswith("latest")
    s390x = next(line for line in lines if "py312" in line and "s390x" in line)
    assert "arch ended at 25.1.1-2" in s390x


def test_cli_json_filters(
    mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, mirror, tmp_path, "--python", "3.13", "--arch", "aarch64", "--os", "Linux", "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert [(r["product"], r["python"], r["version"], r["latest"]) for r in rows] == [
        ("miniconda3", "py313", "26.5.3-1", False)
    ]
    assert rows[0]["url"] == f"{mirror.url}/miniconda/Miniconda3-py313_26.5.3-1-Linux-aarch64.sh"


def test_cli_errors_are_one_line_with_exit_codes(
    mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror.publish(LISTING, b"<html>", "text/html")
    code, out, err = run(capsys, mirror, tmp_path)
    assert (code, out) == (5, "")
    assert err.count("\n") == 1 and err.startswith("condabot: error: ")
    code, _, err = run(capsys, mirror, tmp_path, "--python", "three")
    assert code == 2 and "not a Python flavour" in err
