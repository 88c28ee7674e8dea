"""One rule for a test that needs something the machine may lack (Chromium, PostgreSQL, …).

Locally it is skipped with the reason; in CI (``CI=true``) it fails, because CI must run
every test and a skipped one is not a passing one.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    """Fail in CI, skip elsewhere, with ``reason``."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
