"""Each real component the tests talk to is one fixture module in tests/harness/."""

import os

pytest_plugins = [
    "tests.harness.upstream",
    "tests.harness.github",
    "tests.harness.docker",
    "tests.harness.registry",
    "tests.harness.bump",
]

# Fast, deterministic HTTP retry policy for tests; production defaults live in bot/retry.py and bot/http.
os.environ.setdefault("CONDABOT_HTTP_BACKOFF", "0.05")
os.environ.setdefault("CONDABOT_HTTP_TIMEOUT", "2")
# GitHub pacing is for github.com; the stand-in needs none, and tests want quick retries.
os.environ.setdefault("CONDABOT_GITHUB_REQUEST_GAP", "0")
os.environ.setdefault("CONDABOT_GITHUB_WRITE_GAP", "0")
os.environ.setdefault("CONDABOT_GITHUB_RETRIES", "3")
os.environ.setdefault("CONDABOT_GITHUB_BACKOFF", "0.1")
