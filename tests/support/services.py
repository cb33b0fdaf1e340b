"""What to do when a real service the tests use (PostgreSQL, Chromium) is not installed.

On a developer's machine the tests that need it are skipped with the reason. In CI
(`WD_REQUIRE_SERVICES=1`, set by `.ci/run`) a missing service fails the run instead, so a
missing install step can never hide behind a green run.
"""

from __future__ import annotations

import os

import pytest


def services_required() -> bool:
    return os.environ.get("WD_REQUIRE_SERVICES", "") not in ("", "0")


def missing_service(reason: str, *, allow_module_level: bool = False) -> None:
    """Skip (locally) or fail (CI) because a real service is not available."""
    if services_required():
        pytest.fail(f"{reason} (WD_REQUIRE_SERVICES is set: CI must install it)", pytrace=False)
    pytest.skip(reason, allow_module_level=allow_module_level)
