"""The command line: entry points, one-line errors, and secrets that never leak."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from bot import secrets
from bot.cli import main
from bot.errors import AuthError, CondabotError


def test_python_dash_m_bot_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("condabot ")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2


def test_error_codes_are_distinct() -> None:
    codes = {}
    for cls in [CondabotError, *CondabotError.__subclasses__()]:
        for sub in [cls, *cls.__subclasses__()]:
            codes.setdefault(sub.exit_code, set()).add(sub.__name__)
    assert all(len(names) == 1 for names in codes.values()), codes


def test_registered_secrets_never_reach_messages_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    secrets.register("s3cr3t-registry-password")
    error = AuthError("login to 127.0.0.1:5000 failed for user bob with s3cr3t-registry-password")
    assert "s3cr3t" not in error.message and "***" in error.message
    logger = logging.getLogger("condabot-test")
    handler = logging.StreamHandler()
    handler.addFilter(secrets.RedactingFilter())
    logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            logger.info("header Authorization: Bearer %s", "abcdefghijklmnop")
            logger.info("token ghp_%s", "a" * 36)
    finally:
        logger.removeHandler(handler)
    assert "abcdefghijklmnop" not in caplog.text
    assert "ghp_aaaa" not in caplog.text
