"""Fetching listings from a real loopback mirror: caching, retries, faults, CLI output.

Nothing in the HTTP client is patched: every fault is produced by the mirror server.
"""

import base64
import gzip
import json
import logging
import os
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import ListingError, UpstreamRefused, UpstreamUnavailable, UsageError
from bot.http import HttpPolicy, make_session
from bot.http.origins import split_credentials
from bot.retry import Policy
from bot.upstream.source import HttpUpstream
from tests.support.http_proxy import HttpProxy
from tests.support.mirror import Fault, Mirror
from tests.support.tls import TlsFiles, make_tls_files
from tests.support.upstream_data import current_documents, publish_upstream

LISTING = "/miniconda/.files.json"


def upstream(mirror: Mirror, cache: Path | None, retries: int = 4, **policy: float) -> HttpUpstream:
    settings = HttpPolicy(
        **{"read_timeout": 1.0, **policy},  # type: ignore[arg-type]
        retry=Policy(retries=retries, backoff=0.05),
    )
    return HttpUpstream(mirror.url, make_session(cache, settings))


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """`main(["-vv", ...])` points a DEBUG handler at this test's captured stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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
    either_mirror: Mirror, tmp_path: Path
) -> None:
    # A static server sends Last-Modified and no ETag: its listing must be kept and
    # revalidated with If-Modified-Since, not downloaded in full on every poll.
    mirror = either_mirror
    first = upstream(mirror, tmp_path).listing()
    mirror.hits.clear()
    second = upstream(mirror, tmp_path).listing()  # a new process would build a new session too
    assert second == first
    hits = mirror.requests()
    assert [h.status for h in hits] == [304, 304]  # asked every time, never served unasked
    validator = "If-None-Match" if mirror.etags else "If-Modified-Since"
    assert all(validator in h.headers for h in hits)
    assert mirror.body_bytes() == 0


def test_changed_listing_is_fetched_again(either_mirror: Mirror, tmp_path: Path) -> None:
    # Published within the same second as the cached copy: no freshness heuristic may hide it.
    mirror = either_mirror
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
    with pytest.raises(UpstreamUnavailable, match=r"HTTP 429, asking to wait 3600s: more than"):
        upstream(mirror, tmp_path, retries=2).listing()
    assert time.monotonic() - started < 10
    assert len(mirror.requests(LISTING)) == 1  # refused at once: no retry can help


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


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (404, r"HTTP 404.*is --upstream-url a mirror of repo\.anaconda\.com"),
        (410, r"HTTP 410.*is --upstream-url a mirror of repo\.anaconda\.com"),
        (401, r"HTTP 401.*credentials"),
        (403, r"HTTP 403.*credentials"),
    ],
)
def test_refusals_are_final_with_their_own_code(
    mirror: Mirror, tmp_path: Path, status: int, hint: str
) -> None:
    # Not "transient, rerun later": rerunning cannot help until the URL or credentials change.
    mirror.inject(Fault(LISTING, status=status), times=5)
    with pytest.raises(UpstreamRefused, match=hint) as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 16
    assert f"{mirror.url}{LISTING}" in err.value.message
    assert len(mirror.requests(LISTING)) == 1


@pytest.mark.parametrize("value", ["soon", "-5"])
def test_an_unreadable_retry_after_falls_back_to_backoff(
    mirror: Mirror, tmp_path: Path, value: str
) -> None:
    mirror.inject(Fault(LISTING, status=429, headers=(("Retry-After", value),)))
    assert upstream(mirror, tmp_path).listing().installers
    assert [h.status for h in mirror.requests(LISTING)] == [429, 200]


@pytest.mark.parametrize("value", ["soon", "-5"])
def test_persistent_503_with_an_unreadable_retry_after_is_unavailable(
    mirror: Mirror, tmp_path: Path, value: str
) -> None:
    mirror.inject(Fault(LISTING, status=503, headers=(("Retry-After", value),)), times=10)
    with pytest.raises(UpstreamUnavailable) as err:
        upstream(mirror, tmp_path, retries=2).listing()
    assert err.value.message == f"{mirror.url}{LISTING}: HTTP 503 after every retry; rerun later"
    assert len(mirror.requests(LISTING)) == 3


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/miniconda/.files.json",
        "http://127.0.0.1:99999/miniconda/.files.json",
        "gopher://127.0.0.1/",
    ],
)
def test_a_redirect_nowhere_sane_is_refused(mirror: Mirror, tmp_path: Path, location: str) -> None:
    mirror.inject(Fault(LISTING, status=302, headers=(("Location", location),)), times=5)
    with pytest.raises(UpstreamRefused, match="redirected to") as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 16
    assert location in err.value.message and "\n" not in err.value.message
    assert len(mirror.requests(LISTING)) == 1


def test_a_redirect_loop_is_refused(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, status=302, headers=(("Location", LISTING),)), times=100)
    with pytest.raises(UpstreamRefused, match="redirects") as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 16
    assert len(mirror.requests(LISTING)) <= 11


def test_a_redirect_within_the_mirror_is_followed(mirror: Mirror, tmp_path: Path) -> None:
    moved = mirror.resource(LISTING)
    assert moved is not None
    mirror.publish("/moved/miniconda.json", moved.body, moved.content_type)
    mirror.inject(Fault(LISTING, status=301, headers=(("Location", "/moved/miniconda.json"),)))
    assert upstream(mirror, tmp_path).listing().installers
    assert mirror.requests("/moved/miniconda.json")[0].status == 200


def test_truncated_body_is_fetched_again(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, truncate_to=100))
    assert upstream(mirror, tmp_path).listing().installers
    assert mirror.requests(LISTING)[0].body_bytes == 100


def test_a_chunked_listing_is_read_whole_and_one_cut_off_is_fetched_again(
    mirror: Mirror, tmp_path: Path
) -> None:
    mirror.inject(Fault(LISTING, chunked=True))
    first = upstream(mirror, tmp_path / "a").listing()
    mirror.inject(Fault(LISTING, chunked=True, truncate_to=10_000))  # inside the third chunk
    assert upstream(mirror, tmp_path / "b").listing() == first
    assert [h.body_bytes < 20_000 for h in mirror.requests(LISTING)] == [False, True, False]


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
    validators = (
        ("ETag", good.etag),
        ("Last-Modified", formatdate(good.last_modified, usegmt=True)),
    )
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


def test_a_body_that_cannot_be_decompressed_is_a_listing_error(
    mirror: Mirror, tmp_path: Path
) -> None:
    mirror.inject(Fault(LISTING, headers=(("Content-Encoding", "gzip"),)))
    with pytest.raises(ListingError, match="cannot be decompressed") as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 5


def test_a_body_that_stalls_after_the_headers_is_fetched_again(
    mirror: Mirror, tmp_path: Path
) -> None:
    mirror.inject(Fault(LISTING, stall=3.0))
    started = time.monotonic()
    assert upstream(mirror, tmp_path).listing().installers  # read timeout: 1 s
    assert time.monotonic() - started < 3.0


def test_a_body_that_always_stalls_is_unavailable(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, stall=5.0), times=5)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable, match="stalled") as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 4
    assert time.monotonic() - started < 5.0


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers-and-body"])
def test_a_trickling_answer_is_cut_at_the_request_deadline(
    mirror: Mirror, tmp_path: Path, headers_too: bool
) -> None:
    # Every byte arrives well within the read timeout: only a total deadline ends this.
    mirror.inject(Fault(LISTING, trickle=0.05, trickle_headers=headers_too), times=20)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable, match=r"1\.5 s request deadline") as err:
        upstream(mirror, tmp_path, request_deadline=1.5).listing()
    assert err.value.exit_code == 4
    assert time.monotonic() - started < 4.0


def test_the_run_deadline_bounds_every_retry_and_wait(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, status=503, headers=(("Retry-After", "1"),)), times=50)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable, match=r"2 s run deadline") as err:
        upstream(mirror, tmp_path, retries=20, run_deadline=2).listing()
    assert err.value.exit_code == 4
    assert time.monotonic() - started < 3.5
    # Once the deadline has passed no retry is left: about 6 tries in 2 s, not all 21.
    assert len(mirror.requests(LISTING)) <= 8


def test_the_run_deadline_spans_every_request_of_the_run(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault("/miniconda/.files.json", delay=1.2))
    mirror.inject(Fault("/archive/.files.json", delay=1.2))
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable, match=r"/archive/\.files\.json: .*2 s run deadline"):
        upstream(mirror, tmp_path, read_timeout=5, run_deadline=2).listing()
    assert time.monotonic() - started < 3.0


def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    mirror = Mirror()
    mirror.start()
    url = mirror.url
    mirror.stop()
    settings = HttpPolicy(retry=Policy(retries=1, backoff=0.01))
    with pytest.raises(UpstreamUnavailable, match=r"cannot connect|every retry"):
        HttpUpstream(url, make_session(tmp_path, settings)).listing()


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


# -- hostile listing values: skip the entry, keep the rest --------------------------

NEWEST = "Miniconda3-py314_99.0.0-0-Linux-x86_64.sh"
SHA_C, SHA_D = "c" * 64, "d" * 64
GOOD = f'{{"sha256": "{SHA_C}", "size": 100, "mtime": 1.9e9}}'


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (f'{{"sha256": "{SHA_C}", "size": 100, "mtime": 1e20}}', "mtime"),
        (f'{{"sha256": "{SHA_C}", "size": 100, "mtime": -1e15}}', "mtime"),
        (f'{{"sha256": "{SHA_C}", "size": {"9" * 5000}, "mtime": 1.9e9}}', "5000-digit"),
        (f'{{"sha256": {"[" * 100_000}{"]" * 100_000}, "size": 1, "mtime": 1.9e9}}', "nested"),
        (f'{{"sha256": "{SHA_C}", "sha256": "{SHA_D}", "size": 100, "mtime": 1.9e9}}', "sha256"),
        (f'{GOOD}, "{NEWEST}": {GOOD.replace(SHA_C, SHA_D)}', "listed 2 times"),
    ],
    ids=["mtime-1e20", "mtime-minus-1e15", "5000-digit-size", "deep-nesting", "duplicate-key",
         "duplicate-filename"],
)  # fmt: skip
def test_a_hostile_entry_is_skipped_with_a_warning_and_the_rest_is_used(
    mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: str, reason: str
) -> None:
    text = json.dumps(current_documents()["miniconda"])
    mirror.publish(LISTING, f'{{"{NEWEST}": {raw}, {text[1:]}'.encode(), "application/json")
    code, out, err = run(capsys, mirror, tmp_path, "--product", "miniconda3", "--os", "Linux")
    assert code == 0, err
    assert "99.0.0-0" not in out
    assert "26.5.3-1" in out
    warning = next(line for line in err.splitlines() if NEWEST in line)
    assert warning.startswith(f"condabot: WARNING: ignoring miniconda/{NEWEST}: ")
    assert reason in warning and len(warning) < 200


# -- mirror credentials -------------------------------------------------------------

PASSWORD = "s3cr3t-mirror-pw"


def with_credentials(mirror: Mirror, password: str = PASSWORD) -> str:
    return mirror.url.replace("http://", f"http://bob:{password}@")


def test_mirror_credentials_reach_the_mirror_and_never_the_output(
    mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror.credentials = ("bob", PASSWORD)
    args = ["upstream", "--json", "--product", "miniconda3", "--cache-dir", str(tmp_path)]
    code = main(["-vv", *args, "--upstream-url", with_credentials(mirror)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert PASSWORD not in out + err and "bob:" not in out + err
    # Installer URLs go into Dockerfiles and pull requests: never with credentials in them.
    assert all(row["url"].startswith(f"{mirror.url}/miniconda/") for row in json.loads(out))
    assert all(h.headers.get("Authorization", "").startswith("Basic ") for h in mirror.requests())


@pytest.mark.parametrize(
    ("password", "fault", "code", "hint"),
    [
        ("wrong-password", None, 16, "refused the credentials in --upstream-url"),
        (PASSWORD, Fault(LISTING, status=503), 4, "HTTP 503 after every retry"),
        (PASSWORD, Fault(LISTING, status=404), 16, "HTTP 404"),
        (PASSWORD, Fault(LISTING, status=302, headers=(("Location", "ftp://x/"),)), 16, "redirected"),
    ],
    ids=["refused", "unavailable", "not-found", "bad-redirect"],
)  # fmt: skip
def test_upstream_errors_never_print_mirror_credentials(
    mirror: Mirror,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    password: str,
    fault: Fault | None,
    code: int,
    hint: str,
) -> None:
    mirror.credentials = ("bob", PASSWORD)
    if fault:
        mirror.inject(fault, times=10)
    url = with_credentials(mirror, password)
    got = main(["-vv", "upstream", "--upstream-url", url, "--cache-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert got == code
    assert password not in out + err and "bob:" not in out + err
    final = err.splitlines()[-1]
    assert final.startswith("condabot: error: ") and hint in final
    assert f"{mirror.url}{LISTING}" in final


def test_without_credentials_in_the_url_netrc_is_read_for_the_host(
    mirror: Mirror,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mirror.credentials = ("frank", "netrc-pw-2468")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login frank password netrc-pw-2468\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    args = ["-vv", "upstream", "--upstream-url", mirror.url, "--cache-dir", str(tmp_path / "c")]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "netrc-pw-2468" not in out + err
    assert {h.status for h in mirror.requests()} == {200}


def test_a_url_with_credentials_given_straight_to_a_session_still_authenticates(
    mirror: Mirror,
) -> None:
    # A URL's own userinfo is sent as basic auth: the credentials remembered for that
    # origin from an earlier --upstream-url must not override it.
    split_credentials(mirror.url.replace("http://", "http://ann:an-old-password@"))
    mirror.credentials = ("ann", "pw-of-ann-1234")
    url = mirror.url.replace("http://", "http://ann:pw-of-ann-1234@") + LISTING
    with make_session(None).get(url) as response:
        assert response.status_code == 200 and response.authorized


# -- bodies: content encodings, the cache on disk ------------------------------------


def gzipped_listing(mirror: Mirror, members: int) -> Fault:
    good = mirror.resource(LISTING)
    assert good is not None
    step = len(good.body) // members + 1
    body = b"".join(gzip.compress(good.body[i : i + step]) for i in range(0, len(good.body), step))
    headers = (("Content-Encoding", "gzip"), ("ETag", good.etag))
    return Fault(LISTING, body=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("members", [1, 3])
def test_a_gzipped_listing_is_decoded_kept_and_revalidated(
    mirror: Mirror, tmp_path: Path, members: int
) -> None:
    # gzip allows members one after another: each must be decoded, not only the first.
    mirror.inject(gzipped_listing(mirror, members))
    first = upstream(mirror, tmp_path).listing()
    assert mirror.requests(LISTING)[0].headers["Accept-Encoding"] == "gzip, deflate"
    mirror.hits.clear()
    assert upstream(mirror, tmp_path).listing() == first
    assert [h.status for h in mirror.requests()] == [304, 304]


def test_a_body_that_inflates_past_the_limit_is_refused_without_being_held(
    mirror: Mirror, tmp_path: Path
) -> None:
    bomb = gzip.compress(b" " * (256 * 1024 * 1024))  # 256 MiB of spaces in ~250 kB
    headers = (("Content-Encoding", "gzip"),)
    mirror.inject(Fault(LISTING, body=bomb, content_type="application/json", headers=headers))
    with pytest.raises(ListingError, match=r"over 67108864 bytes") as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 5
    assert not list((tmp_path / "http").glob("*"))  # nothing kept, no partial file left


def test_an_unknown_content_encoding_is_a_listing_error(mirror: Mirror, tmp_path: Path) -> None:
    mirror.inject(Fault(LISTING, headers=(("Content-Encoding", "br"),)))
    with pytest.raises(ListingError, match="'br' is not supported") as err:
        upstream(mirror, tmp_path).listing()
    assert err.value.exit_code == 5


@pytest.mark.parametrize("damage", ["garbage", "empty", "other-url", "body-cut"])
def test_a_damaged_cache_costs_one_download_never_a_wrong_listing(
    mirror: Mirror, tmp_path: Path, damage: str
) -> None:
    first = upstream(mirror, tmp_path).listing()
    kept = sorted((tmp_path / "http").iterdir())
    assert len(kept) == 2  # one file per listing, no partial left over
    for path in kept:
        head, _, body = path.read_bytes().partition(b"\n")
        damaged = {
            "garbage": b"\x00\xff{",
            "empty": b"",
            "other-url": head.replace(b"files", b"f"),
            "body-cut": head + b"\n" + body[: len(body) // 2],  # its validators intact
        }
        path.write_bytes(damaged[damage])
    mirror.hits.clear()
    assert upstream(mirror, tmp_path).listing() == first
    assert [h.status for h in mirror.requests()] == [200, 200]


def test_partial_files_of_a_killed_run_are_swept_and_a_live_one_is_left(
    mirror: Mirror, tmp_path: Path
) -> None:
    upstream(mirror, tmp_path).listing()
    kept = next(p for p in (tmp_path / "http").iterdir() if "miniconda" in p.name)
    killed, live = (kept.with_name(f"{kept.name}.{pid}.partial") for pid in (4_000_001, 4_000_002))
    killed.write_bytes(b'{"url": "half a')
    live.write_bytes(b'{"url": "being written')
    os.utime(killed, (time.time() - 7200, time.time() - 7200))
    entry = {"sha256": "b" * 64, "size": 10, "mtime": 2e9}  # a new release: a 200, kept
    mirror.publish_listing("miniconda", {"Miniconda3-py314_27.1.0-0-Linux-x86_64.sh": entry})
    assert upstream(mirror, tmp_path).listing().installers
    assert not killed.exists() and live.exists()


def test_a_read_only_cache_warns_and_still_plans(
    mirror: Mirror, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "http").write_text("a file where the cache's folder should be")
    assert upstream(mirror, tmp_path).listing().installers
    assert "cannot keep" in caplog.text


# -- proxies ------------------------------------------------------------------------


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpProxy]:
    """A loopback proxy; the machine's own proxy settings are cleared."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with HttpProxy() as proxy:
        yield proxy


def with_user(url: str, userinfo: str) -> str:
    return url.replace("://", f"://{userinfo}@", 1)


def basic(userinfo: str) -> str:
    return "Basic " + base64.b64encode(userinfo.encode()).decode()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_requests_go_through_the_proxy_the_environment_names(
    mirror: Mirror,
    tmp_path: Path,
    proxy: HttpProxy,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
) -> None:
    monkeypatch.delenv("ALL_PROXY", raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.setenv(variable, with_user(proxy.url, "carol:proxy-pw-5678"))
    code = main(["-vv", "upstream", "--upstream-url", mirror.url, "--cache-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert proxy.seen == [
        ("GET", f"{mirror.url}/miniconda/.files.json", basic("carol:proxy-pw-5678")),
        ("GET", f"{mirror.url}/archive/.files.json", basic("carol:proxy-pw-5678")),
    ]
    assert "proxy-pw-5678" not in out + err
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert main(["upstream", "--upstream-url", mirror.url, "--cache-dir", str(tmp_path)]) == 0
    assert len(proxy.seen) == 2  # the mirror is on the bypass list: asked directly


def test_a_proxy_that_is_not_http_is_a_usage_error(
    mirror: Mirror,
    tmp_path: Path,
    proxy: HttpProxy,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "socks5://erin:socks-pw-42@127.0.0.1:1080")
    code = main(["upstream", "--upstream-url", mirror.url, "--cache-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "is not an http:// proxy" in err and "socks-pw-42" not in err
    assert mirror.requests() == []


# -- TLS, as upstream is reached in production ----------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_mirror(tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    """An https mirror whose CA no one trusts until a test names its bundle (the machine's
    own CA settings are cleared, as they name the system's store)."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    mirror = Mirror(tls=tls_files)
    mirror.start()
    publish_upstream(mirror, current_documents())
    yield mirror
    mirror.stop()


def test_an_https_mirror_is_verified_against_the_ca_bundle_named(
    tls_mirror: Mirror, tls_files: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca))
    first = upstream(tls_mirror, tmp_path).listing()
    assert first.installers[0].url.startswith("https://127.0.0.1:")
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files.ca))  # as requests users set it
    assert upstream(tls_mirror, tmp_path).listing() == first
    assert [h.status for h in tls_mirror.requests()] == [200, 200, 304, 304]


def test_an_untrusted_certificate_is_refused_at_once_with_what_to_do(
    tls_mirror: Mirror, tmp_path: Path
) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamRefused, match="certificate is not trusted") as err:
        upstream(tls_mirror, tmp_path).listing()
    assert err.value.exit_code == 16 and "SSL_CERT_FILE" in err.value.hint
    assert time.monotonic() - started < 2  # never retried: no retry makes it trusted
    assert tls_mirror.requests() == []


def test_https_goes_through_the_proxy_in_a_tunnel(
    tls_mirror: Mirror,
    tls_files: TlsFiles,
    tmp_path: Path,
    proxy: HttpProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca))
    monkeypatch.setenv("HTTPS_PROXY", with_user(proxy.url, "dan:tunnel-pw-9"))
    assert upstream(tls_mirror, tmp_path).listing().installers
    host = tls_mirror.url.removeprefix("https://")
    assert proxy.seen == [("CONNECT", host, basic("dan:tunnel-pw-9"))] * 2
    assert len(tls_mirror.requests()) == 2  # the mirror answered, through the tunnel


@pytest.mark.parametrize("bundle", ["missing.pem", "not-pem.txt"])
def test_a_bad_ca_bundle_setting_is_a_usage_error(
    tls_mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundle: str
) -> None:
    (tmp_path / "not-pem.txt").write_text("hello")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / bundle))
    with pytest.raises(UsageError, match=r"REQUESTS_CA_BUNDLE=.* is not a readable CA bundle"):
        upstream(tls_mirror, tmp_path / "cache").listing()
    assert tls_mirror.requests() == []
