"""The one retry policy (`bot.retry`): its numbers, its Retry-After rule and its settings,
and the GitHub adapter that runs it inside PyGithub (on the loopback GitHub stand-in). Its
loop (`retry.call`) is exercised by upstream requests in test_upstream_fetch.py and by the
registry client in test_release_registry.py."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from bot import retry
from bot.errors import RateLimited, UsageError
from bot.forge.github import calling, connect
from bot.retry import Policy, retry_after_seconds
from tests.harness.github import BOT_TOKEN, GitHubRepo


def test_the_backoff_doubles_up_to_the_longest_wait() -> None:
    policy = Policy(retries=9, backoff=0.5, max_wait=4)
    assert [policy.backoff_time(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        (None, 1.0),  # none: the backoff
        ("soon", 1.0),  # unreadable: ignored for the backoff
        ("-5", 1.0),
        ("7", 7.0),  # honoured
        ("120", 120.0),
        ("121", None),  # longer than max_wait: refused, not slept through
        (formatdate(time.time() + 3600, usegmt=True), None),  # an HTTP date an hour away
    ],
)
def test_the_wait_before_a_retry(header: str | None, wait: float | None) -> None:
    assert Policy(backoff=0.5, max_wait=120).wait(2, header) == wait


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after_seconds("0") == 0
    soon = retry_after_seconds(formatdate(time.time() + 60, usegmt=True))
    assert soon is not None and 55 <= soon <= 61
    assert retry_after_seconds("Thursday") is None


def test_settings_come_from_the_environment_and_bad_ones_are_usage_errors() -> None:
    env = {"CONDABOT_HTTP_RETRIES": "2", "CONDABOT_HTTP_BACKOFF": "0"}
    assert retry.from_env(environ=env) == Policy(retries=2, backoff=0.0)
    assert retry.from_env("CONDABOT_GITHUB", retry.GITHUB, environ=env) == retry.GITHUB
    with pytest.raises(UsageError, match="CONDABOT_GITHUB_RETRIES='many'"):
        retry.from_env("CONDABOT_GITHUB", retry.GITHUB, environ={"CONDABOT_GITHUB_RETRIES": "many"})


# -- the GitHub adapter --------------------------------------------------------------------


def test_github_retries_an_unreadable_retry_after_with_the_backoff(github_repo: GitHubRepo) -> None:
    repo = connect(BOT_TOKEN, github_repo.base_url).get_repo(github_repo.full_name)
    github_repo.server.reset_log()
    github_repo.server.inject("GET", r"/issues$", 503, headers={"Retry-After": "soon"}, times=2)
    with calling("listing issues"):
        list(repo.get_issues(state="all"))
    assert [r.status for r in github_repo.server.requests()][-3:] == [503, 503, 200]


def test_github_refuses_a_retry_after_date_beyond_the_longest_wait(
    github_repo: GitHubRepo,
) -> None:
    repo = connect(BOT_TOKEN, github_repo.base_url).get_repo(github_repo.full_name)
    later = formatdate(time.time() + 3600, usegmt=True)
    github_repo.server.inject("GET", r"/issues$", 503, headers={"Retry-After": later}, times=5)
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught, calling("listing issues"):
        list(repo.get_issues(state="all"))
    assert caught.value.exit_code == 9
    assert "rerun after" in caught.value.hint
    assert time.monotonic() - started < 10


# -- the loop ---------------------------------------------------------------------------


class Busy:
    """An answer as `retry.call` sees it (a pure-function test: no server needed)."""

    def __init__(self) -> None:
        self.status_code = 503
        self.headers = {"Retry-After": "1"}
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_no_attempt_starts_once_the_deadline_has_passed() -> None:
    # A request sent with nothing left could not be read, yet the server would take it.
    deadline = time.monotonic() + 0.3
    sent: list[Busy] = []

    def attempt(_: int) -> Busy:
        sent.append(Busy())
        return sent[-1]

    answer = retry.call(
        attempt, Policy(retries=9), "GET x", (OSError,), lambda: deadline - time.monotonic()
    )
    assert len(sent) == 1 and answer is sent[0] and not answer.closed  # for the caller to judge
    assert time.monotonic() >= deadline  # it waited out the deadline: the caller names it


def test_an_error_at_the_deadline_is_raised_without_another_attempt() -> None:
    deadline = time.monotonic() + 0.2
    tries: list[int] = []

    def attempt(n: int) -> Busy:
        tries.append(n)
        raise ConnectionRefusedError("refused")

    with pytest.raises(ConnectionRefusedError):
        retry.call(attempt, Policy(retries=9, backoff=0.5), "GET x", (OSError,),
                   lambda: deadline - time.monotonic())  # fmt: skip
    assert tries == [0]
