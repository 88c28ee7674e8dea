"""LiveSession against the emulator through the real SDK: the locked setup, turns, tools, barge-in."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from livechat.live.events import (
    ErrorEvent,
    Interrupted,
    SessionState,
    ToolCallFinished,
    ToolCallStarted,
    TranscriptUpdate,
)
from livechat.summary.prompt import build_system_instruction
from livechat.live.session import LiveSession, SessionError, SessionOptions
from livechat.summary.builder import summarize
from livechat.tools.toolbox import ToolBox, live_tools
from tests.integration.session_support import (
    INSTRUCTION,
    Recorder,
    assert_ended_cleanly,
    live_settings,
    service_config,
)

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]


def _keepers() -> pd.DataFrame:
    return pd.DataFrame({
        "keeper": ["Ada", "Brann", "Cora", "Ada"],
        "storm_nights": [3, 5, 2, 4],
        "station": ["North Rock", "Gull Point", "North Rock", "Gull Point"],
    })


def _running(session: LiveSession) -> Recorder:
    session.start()
    recorder = Recorder(session)
    recorder.wait_state(SessionState.READY)
    return recorder


def test_the_instruction_locked_in_the_token_is_what_the_model_sees(emulator) -> None:
    df = _keepers()
    instruction = build_system_instruction(summarize(df, name="keepers.csv"))
    session = LiveSession(config=service_config(emulator),
                          settings=live_settings(instruction, tools=tuple(live_tools(df))))
    try:
        recorder = _running(session)
        answer = recorder.ask("How many keepers are there?")
    finally:
        assert_ended_cleanly(session)

    record = emulator.wait_for(lambda s: len(s) == 1 and s[0]["ended"] is not None)[0]
    assert record["endpoint"] == "constrained"
    assert record["auth"] == "token"
    effective = record["effective_setup"]["systemInstruction"]["parts"]
    assert "".join(p["text"] for p in effective) == instruction  # byte for byte
    # The client's own setup is bare: the instruction travels only inside the token.
    assert "systemInstruction" not in record["client_setup"]
    assert set(record["client_setup"]) == {"model"}
    assert session.effective_instruction == instruction
    # The model quotes the first line and the length of the instruction it was given.
    first_line = instruction.split("\n", 1)[0]
    assert f'My instructions begin: "{first_line}" ({len(instruction)} characters)' in answer
    # The token carried everything else too, with no field mask (the global lock).
    token = next(t for t in emulator.tokens() if t["name"] == record["token"])
    assert token["field_mask"] is None and "fieldMask" not in token["body"]
    assert token["uses"] == 1
    declared = [d["name"] for tool in record["effective_setup"]["tools"]
                for d in tool["functionDeclarations"]]
    assert "run_sql" in declared


def test_a_typed_question_gives_a_transcript_turn_and_reply_audio(emulator) -> None:
    session = LiveSession(config=service_config(emulator), settings=live_settings())
    try:
        recorder = _running(session)
        recorder.ask("Which station is busiest?")
        audio = session.read_audio(4800)  # 100 ms at 24 kHz
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    assert recorder.finals("user") == ["Which station is busiest?"]  # the echo is not doubled
    assert len(recorder.finals("model")) == 1
    assert stats["playback"]["written_bytes"] > 24_000  # more than half a second of reply
    assert any(audio), "reply audio should not be silence"
    assert stats["texts_sent"] == 1 and stats["turns_completed"] == 1
    assert session.state is SessionState.CLOSED
    # Transcript ids: user turn then model turn, distinct.
    ids = {(e.role, e.turn_id) for e in recorder.events if isinstance(e, TranscriptUpdate)}
    assert len({i for _, i in ids}) == 2


@pytest.mark.parametrize("rate", [16_000, 48_000])
def test_a_spoken_question_is_heard_and_answered(emulator, speech_pcm, rate: int) -> None:
    pcm = speech_pcm(rate=rate)
    # A buffer large enough for the whole utterance, pushed at once (no real-time pacing).
    session = LiveSession(config=service_config(emulator), settings=live_settings(),
                          options=SessionOptions(audio_buffer_seconds=30.0))
    try:
        recorder = _running(session)
        chunk = rate * 2 // 50  # 20 ms frames, like WebRTC
        for offset in range(0, len(pcm), chunk):
            session.send_audio(pcm[offset:offset + chunk], rate)
        recorder.wait_for(lambda _: recorder.finals("model"), 20, "a spoken answer")
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    assert stats["audio_chunks_dropped"] == 0
    heard = recorder.finals("user")
    assert heard and heard[0].startswith("[speech ")
    assert recorder.finals("model")[0].startswith(f'You said: "{heard[0]}"')
    assert SessionState.LISTENING in recorder.states()
    assert stats["playback"]["written_bytes"] > 0
    record = emulator.sessions()[0]
    assert record["audio_in_rate"] == 16_000  # resampled before sending
    sent = len(pcm) / (2 * rate)
    assert abs(record["audio_in_seconds"] - sent) < 0.05


def test_a_tool_call_runs_off_the_loop_and_is_answered(emulator) -> None:
    df = _keepers()
    instruction = build_system_instruction(summarize(df, name="keepers.csv"))
    with ToolBox(df) as toolbox:
        session = LiveSession(config=service_config(emulator),
                              settings=live_settings(instruction, tools=tuple(live_tools(df))),
                              tool_executor=toolbox.execute)
        try:
            recorder = _running(session)
            session.send_text('call run_sql {"query": "SELECT SUM(storm_nights) AS n FROM data"}')
            recorder.wait_for(lambda ev: any(isinstance(e, ToolCallFinished) for e in ev), 20,
                              "tool call finished")
            recorder.wait_for(lambda _: recorder.finals("model"), 20, "the answer after the tool")
        finally:
            assert_ended_cleanly(session)
    started = [e for e in recorder.events if isinstance(e, ToolCallStarted)]
    finished = [e for e in recorder.events if isinstance(e, ToolCallFinished)]
    assert [e.name for e in started] == ["run_sql"]
    assert finished[0].call_id == started[0].call_id and not finished[0].cancelled
    call = emulator.sessions()[0]["tool_calls"][0]
    assert call["response"] == finished[0].result  # what the tool returned reached the model
    assert "14" in str(call["response"])
    assert recorder.finals("model")[0].startswith("The run_sql tool returned:")


def test_a_cancelled_tool_call_is_not_answered(emulator_factory) -> None:
    # Input is held while a blocking call is pending (issue 16), so the service's own
    # interruption cancels the call here (the emulator's spurious barge-in, 3 s in).
    server = emulator_factory(spurious_interrupt_after_s=3.0)
    df = _keepers()
    release = threading.Event()
    calls: list[str] = []

    def slow_tool(name: str, args: dict) -> dict:
        calls.append(name)
        release.wait(10)  # still running when the model cancels the call
        return {"rows": [[1]]}

    session = LiveSession(config=service_config(server),
                          settings=live_settings(tools=tuple(live_tools(df))),
                          tool_executor=slow_tool)
    try:
        recorder = _running(session)
        session.send_text('call run_sql {"query": "SELECT 1"}')
        recorder.wait_for(lambda ev: any(isinstance(e, ToolCallStarted) for e in ev), 10,
                          "tool call started")
        recorder.wait_for(lambda ev: any(isinstance(e, ToolCallFinished) for e in ev), 10,
                          "tool call finished")
        release.set()
        answer = recorder.ask("Never mind, how many rows?")
    finally:
        release.set()
        assert_ended_cleanly(session)
    [finished] = [e for e in recorder.events if isinstance(e, ToolCallFinished)]
    assert finished.cancelled and finished.result is None
    [call] = server.sessions()[0]["tool_calls"]
    assert call["cancelled"] and call["response"] is None
    assert calls == ["run_sql"]
    assert "Never mind, how many rows?" in answer


def test_a_question_typed_during_a_blocking_call_waits_for_its_response(emulator) -> None:
    # The service closes with 1008 on input while a blocking call is unanswered
    # (autonomous-os #231; livekit/agents #4545): the question goes after the response.
    df = _keepers()
    release = threading.Event()

    def slow_tool(name: str, args: dict) -> dict:
        release.wait(10)
        return {"rows": [[4]]}

    session = LiveSession(config=service_config(emulator),
                          settings=live_settings(tools=tuple(live_tools(df))),
                          tool_executor=slow_tool)
    try:
        recorder = _running(session)
        session.send_text('call describe_column {"column": "keeper"}')
        recorder.wait_for(lambda ev: any(isinstance(e, ToolCallStarted) for e in ev), 10,
                          "tool call started")
        session.send_text("And how many stations?")
        release.set()
        recorder.wait_for(lambda _: any("how many stations" in t for t in recorder.finals("model")),
                          20, "the held question answered")
    finally:
        release.set()
        assert_ended_cleanly(session)
    [finished] = [e for e in recorder.events if isinstance(e, ToolCallFinished)]
    assert not finished.cancelled and finished.result == {"rows": [[4]]}
    record = emulator.sessions()[0]
    [call] = record["tool_calls"]
    # The question reached the service only after the response: it did not cancel the call
    # (it may cut the reply about the result short, as a new question does).
    assert not call["cancelled"]
    assert [turn["input"] for turn in record["turns"] if turn["kind"] == "text"][-1] == "And how many stations?"
    assert not any(isinstance(e, ErrorEvent) for e in recorder.events)


def test_a_new_question_mid_reply_interrupts_and_flushes_playback(emulator_factory) -> None:
    server = emulator_factory(realtime=True)  # replies paced in real time, so there is a middle
    session = LiveSession(config=service_config(server), settings=live_settings())
    try:
        recorder = _running(session)
        session.send_text("Tell me about the first keeper.")
        recorder.wait_state(SessionState.RESPONDING)
        recorder.wait_for(lambda _: session.stats()["playback"]["written_bytes"] > 0, 10,
                          "reply audio buffered")
        recorder.ask("Stop, what about the second?", timeout=30)
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    assert any(isinstance(e, Interrupted) for e in recorder.events)
    assert stats["interruptions"] >= 1
    assert stats["playback"]["cleared_bytes"] > 0  # barge-in dropped what was queued
    finals = recorder.finals("model")
    assert finals[-1].startswith('You said: "Stop, what about the second?"')


def test_a_wrong_api_key_ends_in_error_with_a_clear_message(emulator) -> None:
    session = LiveSession(config=service_config(emulator, api_key="not-the-key"),
                          settings=live_settings())
    session.start()
    recorder = Recorder(session)
    recorder.wait_state(SessionState.ERROR)
    assert_ended_cleanly(session)
    errors = recorder.errors()
    assert len(errors) == 1 and not errors[0].recoverable
    assert "API key was rejected" in errors[0].message
    assert "not-the-key" not in errors[0].message
    assert session.last_error == errors[0].message
    assert emulator.sessions() == []  # never got as far as a Live connection
    with pytest.raises(SessionError, match="session has ended"):
        session.send_text("anyone there?")


def test_instruction_default_is_the_plain_settings_text(emulator) -> None:
    session = LiveSession(config=service_config(emulator), settings=live_settings())
    assert session.effective_instruction == INSTRUCTION
    assert session.stop() is True  # never started: nothing to join
    assert session.state is SessionState.CLOSED
    assert not any(isinstance(e, ErrorEvent) for e in session.poll_events())
