"""Fixtures for AppTest tests: a clean configuration, and the offline emulator stopped at the end.

Every test starts with no GEMINI_* variables and no secrets file (``st.secrets`` is a
fresh store whose only path does not exist), so a developer's own secrets.toml or
environment never changes what a test sees. A test that wants secrets sets
``at.secrets``; one that wants environment variables uses ``monkeypatch.setenv``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.secrets import Secrets
from streamlit.testing.v1.util import patch_config_options

from livechat.ui import runtime
from livechat.voice.bridge import VoiceBridge
from tests.speech_rate import FAST_SPEECH_WPM

_CONFIG_NAMES = ("GEMINI_API_KEY", "GEMINI_BASE_URL", "GEMINI_CA_FILE", "GEMINI_MODEL", "GOOGLE_API_KEY",
                 "LIVECHAT_MEMORY_LIMIT_MB")


@pytest.fixture(autouse=True)
def clean_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No GEMINI_* environment and no secrets file for the duration of one test."""
    for name in _CONFIG_NAMES:
        monkeypatch.delenv(name, raising=False)
    # The built-in emulator's replies are heard in real time (tests/speech_rate.py).
    monkeypatch.setenv(runtime.EMULATOR_SPEECH_ENV, str(FAST_SPEECH_WPM))
    monkeypatch.setattr(st, "secrets", Secrets())
    with patch_config_options({"secrets.files": [str(tmp_path / "no-secrets.toml")]}):
        yield


@pytest.fixture(scope="session", autouse=True)
def stop_emulator_after_tests() -> Iterator[None]:
    """The app starts one emulator per process; stop it when the app tests are done."""
    yield
    runtime.stop_offline_emulator()
    assert runtime.running_emulator_urls() == ()


@pytest.fixture
def bridges() -> Iterator[list[VoiceBridge]]:
    """Bridges a Talk-page test touched; closed at the end so no session thread outlives it."""
    seen: list[VoiceBridge] = []
    yield seen
    for bridge in seen:
        bridge.close()
