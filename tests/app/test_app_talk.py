"""The Talk page in AppTest: typed questions through the in-process emulator, the badge,
the voice component's arguments, tool calls with charts, and errors shown as st.error.

The webrtc component renders under AppTest thanks to ``livechat.ui.webrtc_compat`` (the
library's session lookup raised AttributeError on AppTest's mocked runtime); with no
browser it never starts a stream, so voice itself is covered by the integration and
browser tests. Replies are paced in real time by the emulator: the tests wait on the
bridge's conditions (``wait_for_replies``, ``wait_for_events``), then rerun the page.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from livechat.voice.bridge import VoiceBridge
from livechat.summary.prompt import build_system_instruction, instruction_first_line
from livechat.data.sample import load_sample
from livechat.summary.builder import summarize
from livechat.ui import next_steps, state, talk
from tests.app.apptest_support import new_app

REPLY_TIMEOUT_S = 90.0
BADGE = re.compile(r"^Session: (idle|connecting|listening|responding|reconnecting|error|closed)$")


def _talk(bridges: list[VoiceBridge]) -> AppTest:
    at = new_app().run()
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    bridges.append(_bridge(at))
    return at


def _bridge(at: AppTest) -> VoiceBridge:
    bridge = at.session_state[talk.BRIDGE_STATE_KEY]
    assert isinstance(bridge, VoiceBridge)
    return bridge


def _ask(at: AppTest, question: str) -> None:
    at.chat_input(key=talk.CHAT_KEY).set_value(question).run()
    assert not at.exception


def _badge(at: AppTest) -> str:
    texts = [m.value for m in at.markdown if m.value.startswith("Session:")]
    assert len(texts) == 1, texts
    return texts[0]


def _messages(at: AppTest) -> list[tuple[str, str]]:
    return [(m.name, " ".join(t.value for t in m.text)) for m in at.chat_message]


def _rerun_until(at: AppTest, done: Callable[[AppTest], bool], what: str) -> None:
    """Rerun whenever the session has news, until ``done`` holds (or fail after a while)."""
    bridge = _bridge(at)
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while True:
        at.run()
        assert not at.exception
        if done(at):
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{what}: not seen within {REPLY_TIMEOUT_S} s; messages={_messages(at)}, "
                                 f"errors={[e.value for e in at.error]}")
        bridge.wait_for_events(min(remaining, 5.0))


def _sample_instruction() -> str:
    sample = load_sample()
    return build_system_instruction(summarize(sample.df, name=sample.name, budget_tokens=state.DEFAULT_BUDGET))


def test_a_typed_question_is_answered_from_the_locked_instruction(bridges: list[VoiceBridge]) -> None:
    at = _talk(bridges)
    assert _badge(at) == "Session: idle"
    assert at.chat_input(key=talk.CHAT_KEY).proto.placeholder == talk.CHAT_PLACEHOLDER
    _ask(at, "How many storm nights are there?")
    bridge = _bridge(at)
    assert bridge.wait_for_replies(1, REPLY_TIMEOUT_S)
    first_line = instruction_first_line(_sample_instruction())
    _rerun_until(at, lambda a: any(first_line in text for name, text in _messages(a) if name == "assistant"),
                 "the reply quoting the instruction")
    messages = _messages(at)
    assert messages[0] == ("user", "How many storm nights are there?")
    assert messages[1][0] == "assistant" and messages[1][1].startswith('You said: "How many storm nights')
    assert BADGE.match(_badge(at))
    assert bridge.stats().sessions_started == 1
    # The instruction in use is one click away, exactly as locked into the token.
    expander = next(e for e in at.expander if e.label.startswith("Instruction in use by the current session"))
    assert expander.code[0].value == _sample_instruction()
    # With no voice stream, the spoken answer can be played back.
    assert len(at.get("audio")) == 1


def test_a_second_question_uses_the_same_session(bridges: list[VoiceBridge]) -> None:
    at = _talk(bridges)
    _ask(at, "first question")
    bridge = _bridge(at)
    assert bridge.wait_for_replies(1, REPLY_TIMEOUT_S)
    _ask(at, "second question")
    assert bridge.wait_for_replies(2, REPLY_TIMEOUT_S)
    _rerun_until(at, lambda a: len([m for m in _messages(a) if m[0] == "assistant"]) == 2, "two replies")
    assert bridge.stats().sessions_started == 1
    assert [text for name, text in _messages(at) if name == "user"] == ["first question", "second question"]


def test_a_chart_tool_call_shows_an_expander_and_the_chart(bridges: list[VoiceBridge]) -> None:
    at = _talk(bridges)
    # The emulator turns "call NAME {args}" typed text into a real toolCall.
    _ask(at, 'call show_chart {"kind": "bar", "x": "keeper", "aggregate": "count"}')
    _rerun_until(at, lambda a: any(e.label == "Tool: show\\_chart (done)" for e in a.expander),
                 "the finished tool call")
    tool = next(e for e in at.expander if e.label.startswith(talk.TOOL_LABEL_PREFIX))
    assert tool.proto.expanded is False
    # The chart sits in the transcript, after the tool call, and stays in the history.
    assert len(at.get("vega_lite_chart")) == 1
    _ask(at, "and now?")
    assert _bridge(at).wait_for_replies(2, REPLY_TIMEOUT_S)
    at.run()
    assert len(at.get("vega_lite_chart")) == 1


def test_the_voice_component_gets_explicit_ice_and_processing_constraints(
        bridges: list[VoiceBridge], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(talk.AUDIO_PROCESSING_ENV, "off")
    at = _talk(bridges)
    components = [el for el in at.get("component_instance")]
    assert len(components) == 1
    args = json.loads(components[0].proto.json_args)
    assert args["component_key"] == talk.VOICE_KEY and args["mode"] == "SENDRECV"
    # Audio only on screen: no player bar for the live reply stream; the device button is
    # the microphone picker (the voice skin adds the device's name in the browser).
    assert args["audio_html_attrs"] == {"autoPlay": True, "controls": False}
    assert args["translations"] == {"select_device": "Microphone"}
    assert args["rtc_configuration"] == {"iceServers": []}
    assert args["media_stream_constraints"] == {
        "audio": {"echoCancellation": False, "noiseSuppression": False, "autoGainControl": False},
        "video": False}
    assert at.toggle(key=talk.PROCESSING_WIDGET_KEY).value is False


def test_a_broken_ice_secret_is_an_error_not_a_traceback(bridges: list[VoiceBridge]) -> None:
    at = new_app()
    at.secrets["ice_servers"] = [{"urls": "http://not-an-ice-server"}]
    at.run()
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Voice is not configured correctly: ice_servers entry 1: every url must start with "
        "stun:, stuns:, turn:, turns:, got 'http://not-an-ice-server'. Check the TURN settings (`ice_servers` "
        "in the app's secrets; Settings & diagnostics shows how many are configured), then reload this page."]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_session_that_cannot_connect_shows_an_error(
        bridges: list[VoiceBridge], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-for-an-unreachable-endpoint")
    monkeypatch.setenv("GEMINI_BASE_URL", f"https://127.0.0.1:{_closed_port()}")
    at = _talk(bridges)
    _ask(at, "anyone there?")
    _rerun_until(at, lambda a: bool(a.error), "an error")
    assert _badge(at) == "Session: error"
    assert "test-key-for-an-unreachable-endpoint" not in " ".join(e.value for e in at.error)
    # Every error on the page says what to do next (livechat/ui/next_steps.py).
    assert all(e.value.endswith(next_steps.session_next_step(e.value)) or e.value.endswith("again.")
               for e in at.error), [e.value for e in at.error]
    # The meter is still while not listening.
    assert [p.proto.text for p in at.get("progress")] == ["Microphone: not listening"]


# ----------------------------------------------------------------------------- pure helpers of the page


@pytest.mark.parametrize(("rms", "expected"), [(0.0, 0.0), (1.0, 1.0), (0.001, 0.0), (0.1, 2 / 3), (2.0, 1.0)])
def test_the_level_meter_spans_minus_60_to_0_dbfs(rms: float, expected: float) -> None:
    assert talk.level_fraction(rms) == pytest.approx(expected, abs=1e-9)


def test_tool_labels_start_with_the_tool_name_and_say_how_it_went() -> None:
    from livechat.conversation.transcript import Entry

    running = Entry("tool", tool="run_sql", final=False)
    failed = Entry("tool", tool="run_sql", result={"error": "bad"})
    cancelled = Entry("tool", tool="run_sql", cancelled=True)
    done = Entry("tool", tool="describe_column", result={"column": "keeper"})
    assert [talk.tool_label(e) for e in (running, failed, cancelled, done)] == [
        "Tool: run\\_sql (running…)", "Tool: run\\_sql (failed)", "Tool: run\\_sql (cancelled)",
        "Tool: describe\\_column (done)"]


def test_a_reply_that_arrived_before_the_bridge_was_closed_still_reaches_the_transcript(
        bridges: list[VoiceBridge]) -> None:
    # streamlit-webrtc's SessionShutdownObserver closes the bridge from its own thread
    # (tab closed, page left); whatever the session said before that is the analyst's.
    at = _talk(bridges)
    _ask(at, "What did the keeper log?")
    bridge = _bridge(at)
    assert bridge.wait_for_replies(1, REPLY_TIMEOUT_S)
    bridge.close()
    at.run()
    assert not at.exception
    replies = [text for name, text in _messages(at) if name == "assistant"]
    assert replies and replies[0].startswith('You said: "What did the keeper log?')
    new_bridge = _bridge(at)
    assert new_bridge is not bridge and not new_bridge.closed
    bridges.append(new_bridge)
