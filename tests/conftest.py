"""Each real component the tests talk to is one fixture module in tests/harness/."""

import os

pytest_plugins = [
    "tests.harness.upstream",
]

# Fast, deterministic HTTP retry policy for tests; production defaults live in bot/http.py.
os.environ.setdefault("CONDABOT_HTTP_BACKOFF", "0.05")
os.environ.setdefault("CONDABOT_HTTP_TIMEOUT", "2")
