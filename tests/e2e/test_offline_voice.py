"""The newcomer's path (issue 8): ``make run`` with no key, a microphone, and the emulator answers.

The app starts with no GEMINI_* setting at all, so it runs its own built-in emulator (in
the app's process, labelled on screen) instead of one the test provides. The browser
speaks one question and must hear the reply and see its transcript, which quotes the
first line of the instruction the Data page shows for the bundled sample.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest

from livechat.ui import runtime
from livechat.ui.endpoint import OFFLINE_LABEL
from tests.e2e import harness
from tests.e2e.harness import SAMPLE_NAME, squash
from tests.speech_rate import FAST_SPEECH_WPM

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.AppServer]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("GEMINI_", "GOOGLE_", "STREAMLIT_", "LIVECHAT_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env[runtime.EMULATOR_SPEECH_ENV] = str(FAST_SPEECH_WPM)  # tests/speech_rate.py
    log: Path = tmp_path_factory.mktemp("e2e-offline") / "app.log"
    app = harness.AppServer(log_path=log, env=env)
    try:
        app.start()
        yield app
    finally:
        app.stop()


def test_with_no_key_the_built_in_emulator_answers_by_voice(offline_app, browser_factory,
                                                            single_question_wav) -> None:
    tab = browser_factory(single_question_wav).new_page()
    try:
        tab.goto(offline_app.url, "/")
        first_line = tab.model_view_instruction(SAMPLE_NAME).split("\n", 1)[0]
        assert f'"{SAMPLE_NAME}"' in first_line
        tab.navigate_to_talk()
        assert OFFLINE_LABEL in tab.page.inner_text("body")

        started = time.time()
        tab.start_voice()
        tab.wait_for_transcript(squash(f'My instructions begin: "{first_line}"'), timeout_s=60)

        samples = tab.energy_samples()
        heard = harness.first_energy_rise(samples, after=started)
        assert heard is not None, "the browser's inbound audio energy never rose: no reply was heard"
        power = harness.energy_rate(samples, heard, samples[-1].t)
        assert power is not None and power > 1e-4, f"the browser received no reply audio: power {power}"

        tab.click_stop()
        tab.frame_locator().get_by_role("button", name="START").wait_for(timeout=15_000)
        assert "Traceback" not in tab.page.inner_text("body")
    except Exception:
        print(f"--- app log tail ({offline_app.log_path}) ---\n{offline_app.log_tail(120)}")
        raise
