"""A test whose requirement is missing fails in CI and skips elsewhere."""

from __future__ import annotations

import pytest

from tests.requirements_gate import unavailable


def test_in_ci_a_missing_requirement_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no chromium"):
        unavailable("no chromium")


def test_elsewhere_it_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        unavailable("no chromium")
