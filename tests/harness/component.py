"""How a test says a real component is missing: loudly, and as a failure under CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(component: str, reason: str, fix: str) -> NoReturn:
    message = f"{component} is not available: {reason}. {fix}"
    if in_ci():
        pytest.fail(f"[CI] {message}", pytrace=False)
    pytest.skip(f"COMPONENT MISSING (a failure under CI=true): {message}")
