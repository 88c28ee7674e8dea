"""LiveSession against the emulator (real SDK): a deliberate stop closes the websocket with
1000, and a question typed during a reply appears once in the transcript (issue 10)."""

from __future__ import annotations

import pytest

from livechat.live.events import Interrupted, SessionState, TranscriptUpdate
from livechat.live.session import LiveSession
from tests.integration.session_support import (
    Recorder,
    assert_ended_cleanly,
    live_settings,
    service_config,
)

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]


def _running(session: LiveSession) -> Recorder:
    session.start()
    recorder = Recorder(session)
    recorder.wait_state(SessionState.READY)
    return recorder


def test_stop_closes_the_websocket_normally(emulator) -> None:
    session = LiveSession(config=service_config(emulator), settings=live_settings())
    try:
        recorder = _running(session)
        recorder.ask("Which station is busiest?")
    finally:
        assert_ended_cleanly(session)
    [record] = emulator.wait_for(lambda s: len(s) == 1 and s[0]["ended"] is not None)
    assert record["ended"]["code"] == 1000, record["ended"]


def test_stop_while_idle_right_after_setup_closes_normally(emulator) -> None:
    session = LiveSession(config=service_config(emulator), settings=live_settings())
    try:
        _running(session)
    finally:
        assert_ended_cleanly(session)
    [record] = emulator.wait_for(lambda s: len(s) == 1 and s[0]["ended"] is not None)
    assert record["ended"]["code"] == 1000, record["ended"]


def test_a_question_typed_during_a_reply_appears_once(emulator_factory) -> None:
    server = emulator_factory(realtime=True)  # replies paced in real time, so there is a middle
    session = LiveSession(config=service_config(server), settings=live_settings())
    first, second = "Tell me about the first keeper.", "And what about the second one?"
    try:
        recorder = _running(session)
        session.send_text(first)
        recorder.wait_for(lambda _: session.stats()["playback"]["written_bytes"] > 0, 10,
                          "reply audio buffered")
        recorder.ask(second, timeout=30)
    finally:
        assert_ended_cleanly(session)
    assert any(isinstance(e, Interrupted) for e in recorder.events), "the reply was not interrupted"
    user_turns = {e.turn_id: e.text for e in recorder.events
                  if isinstance(e, TranscriptUpdate) and e.role == "user"}
    assert list(user_turns.values()) == [first, second]
