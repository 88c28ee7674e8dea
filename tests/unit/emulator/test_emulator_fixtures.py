"""The shared speech fixture's rule: no espeak-ng fails in CI and skips locally (tests/conftest.py)."""

from __future__ import annotations

import pytest

import tests.conftest as shared


def test_missing_espeak_fails_in_ci(monkeypatch):
    monkeypatch.setattr(shared.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="espeak-ng is not installed"):
        shared._need_speech_tools()


def test_missing_espeak_skips_locally(monkeypatch):
    monkeypatch.setattr(shared.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="espeak-ng is not installed"):
        shared._need_speech_tools()


def test_manual_clock_moves_only_when_told():
    clock = shared.ManualClock(start=100.0)
    assert clock() == 100.0
    clock.advance(2.5)
    assert clock() == 102.5
