"""The built-in emulator's speaking rate comes from the environment, and a bad one is ignored."""

from __future__ import annotations

import logging

import pytest

from livechat.ui.runtime import EMULATOR_SPEECH_ENV, offline_emulator_options


def test_without_the_setting_the_emulator_speaks_at_its_natural_rate_in_real_time():
    options = offline_emulator_options({})
    assert options.realtime is True and options.speech_wpm == 190


def test_the_setting_changes_the_rate():
    assert offline_emulator_options({EMULATOR_SPEECH_ENV: " 400 "}).speech_wpm == 400


@pytest.mark.parametrize("raw", ["fast", "9000", "12.5"])
def test_an_unusable_rate_is_logged_and_the_natural_one_used(raw, caplog):
    with caplog.at_level(logging.WARNING, logger="livechat.ui.runtime"):
        options = offline_emulator_options({EMULATOR_SPEECH_ENV: raw})
    assert options.speech_wpm == 190
    assert f"{EMULATOR_SPEECH_ENV}={raw!r} ignored" in caplog.text
