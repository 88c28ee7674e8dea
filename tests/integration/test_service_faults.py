"""The real service's rough edges (issue 16), one test per behaviour, against the emulator
with that option on: each ends recovered (next question answered, one transcript, no final
error) or, for the fatal classes, in the clear error with no retry loop."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pandas as pd
import pytest

from livechat.conversation.transcript import Transcript
from livechat.live.events import (
    Interrupted,
    SessionState,
    ToolCallFinished,
    ToolCallStarted,
    TranscriptUpdate,
    TurnFigures,
    Usage,
)
from livechat.live.session import NEW_SESSION_NOTICE, RECONNECTED_NOTICE, LiveSession, SessionOptions
from livechat.live.tokens import LiveSettings
from livechat.tools.toolbox import ToolBox, live_tools, response_scheduling
from livechat.voice.bridge import TaggedEvent
from tests.integration.session_support import (
    INSTRUCTION,
    Recorder,
    assert_ended_cleanly,
    service_config,
)

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]

G25 = "gemini-live-2.5-flash-native-audio"
G31 = "gemini-3.1-flash-live-preview"
G38 = "gemini-3.8-live"
CONTENT_TYPE_AUDIO = "The audio content type (CONTENT_TYPE_AUDIO) is not supported for this model configuration."
KEEPERS = pd.DataFrame({"keeper": ["Ada", "Brann", "Cora", "Ada"], "storm_nights": [3, 5, 2, 4]})


def _start(server, model: str = G25, *, executor=None, **kwargs) -> tuple[LiveSession, Recorder]:
    settings = LiveSettings(model=model, system_instruction=INSTRUCTION, tools=tuple(live_tools(KEEPERS)))
    session = LiveSession(config=replace(service_config(server), model=model), settings=settings,
                          tool_executor=executor, tool_scheduling=response_scheduling, **kwargs)
    session.start()
    recorder = Recorder(session)
    recorder.wait_state(SessionState.READY)
    return session, recorder


def _no_final_error(recorder: Recorder) -> None:
    assert not [e for e in recorder.errors() if not e.recoverable], recorder.errors()
    assert recorder.session.state is not SessionState.ERROR


def _feed_speech(session: LiveSession, pcm16k: bytes) -> None:
    """Speech then silence, in 20 ms chunks, as a microphone would (faster than real time)."""
    for start in range(0, len(pcm16k), 640):
        session.send_audio(pcm16k[start:start + 640], 16_000)


# ------------------------------------------------------------------ closes mid-call

@pytest.mark.parametrize("model, code, reason", [
    (G25, 1007, CONTENT_TYPE_AUDIO),  # hkjarral/AVA-AI-Voice-Agent-for-Asterisk #496, #541, #598
    (G31, 1008, "The operation was aborted"),  # autonomous-ai/autonomous-os #238
])
def test_a_mid_call_close_that_is_not_about_the_setup_is_resumed(emulator, model, code, reason) -> None:
    session, recorder = _start(emulator, model)
    try:
        recorder.ask("First question?")
        sent = emulator.sessions()[0]["server_messages"]
        emulator.set_options(close_after_messages=sent + 3, close_code=code, close_reason=reason)
        session.send_text("Second question?")
        recorder.wait_for(lambda _: RECONNECTED_NOTICE in recorder.notices(), 20, "reconnected")
        emulator.set_options(close_after_messages=None, close_reason=None)
        # The question whose reply the close cut is asked again on the resumed connection.
        recorder.wait_for(recorder.answered("Second question?"), 20, "the cut question answered")
        recorder.wait_state(SessionState.READY)
        recorder.ask("Third question?")
        asked_again = session.stats()["texts_asked_again"]
    finally:
        assert_ended_cleanly(session)
    _no_final_error(recorder)
    assert [e.code for e in recorder.errors()] == [code]
    first, second = emulator.wait_for(lambda s: len(s) == 2 and all(r["ended"] for r in s))
    assert second["resumed_from"] == first["id"]
    assert [t["input"] for t in second["turns"]][:1] == ["Second question?"]
    assert asked_again == 1
    # One transcript: each question once, though the second went out twice.
    assert recorder.finals("user") == ["First question?", "Second question?", "Third question?"]


def test_a_periodic_close_every_few_seconds_is_survived(emulator_factory) -> None:
    server = emulator_factory(close_every_s=1.5, close_code=1008, close_reason="The operation was aborted")
    session, recorder = _start(server, G31)
    try:
        for n in range(3):
            recorder.ask(f"Question {n}?", timeout=30)
            recorder.wait_for(lambda _: len(recorder.notices()) > n, 30, f"reconnection {n + 1}")
    finally:
        assert_ended_cleanly(session)
    _no_final_error(recorder)
    assert recorder.finals("user") == ["Question 0?", "Question 1?", "Question 2?"]


def test_a_setup_refusal_mid_call_is_fatal_and_not_retried(emulator) -> None:
    session, recorder = _start(emulator)
    try:
        recorder.ask("First question?")
        sent = emulator.sessions()[0]["server_messages"]
        emulator.set_options(close_after_messages=sent + 3, close_code=1007,
                             close_reason="Request contains an invalid argument.")
        session.send_text("Second question?")
        recorder.wait_state(SessionState.ERROR)
    finally:
        assert_ended_cleanly(session)
    [error] = recorder.errors()
    assert error.code == 1007 and not error.recoverable and "rejected the session settings" in error.message
    assert len(emulator.sessions()) == 1


def test_mid_call_closes_that_never_stop_hit_the_cap_with_a_clear_error(emulator_factory) -> None:
    server = emulator_factory(close_after_messages=1, close_code=1008, close_reason="The operation was aborted")
    session, recorder = _start_until_error(server)
    final = [e for e in recorder.errors() if not e.recoverable]
    assert len(final) == 1 and "kept closing the session" in final[0].message
    assert len(server.sessions()) == 3  # the first connection and max_reconnects=2 recoveries


def _start_until_error(server) -> tuple[LiveSession, Recorder]:
    settings = LiveSettings(model=G25, system_instruction=INSTRUCTION)
    session = LiveSession(config=replace(service_config(server), model=G25), settings=settings,
                          options=SessionOptions(max_reconnects=2, reconnect_backoff_s=0.01))
    session.start()
    recorder = Recorder(session)
    try:
        recorder.wait_state(SessionState.ERROR, timeout=30)
    finally:
        assert_ended_cleanly(session)
    return session, recorder


# ------------------------------------------------------------------ input around tool calls

def test_nothing_but_the_tool_response_is_sent_while_a_blocking_call_is_pending(emulator_factory) -> None:
    server = emulator_factory(refuse_input_during_tool_call=True)
    release = threading.Event()

    def slow(name: str, args: dict) -> dict:
        release.wait(10)
        return {"count": 4}

    session, recorder = _start(server, G25, executor=slow)
    try:
        session.send_text('call describe_column {"column": "keeper"}')
        recorder.wait_for(lambda ev: any(isinstance(e, ToolCallStarted) for e in ev), 10, "call started")
        session.send_text("And how many nights?")  # typed during the call: held
        session.send_audio(b"\x00\x00" * 1_600, 16_000)  # microphone audio too (bounded)
        release.set()
        recorder.wait_for(lambda _: any("how many nights" in t for t in recorder.finals("model")),
                          20, "the held question answered")
    finally:
        release.set()
        assert_ended_cleanly(session)
    _no_final_error(recorder)
    # The client closed the session: the emulator records that end a moment later.
    [record] = server.wait_for(lambda s: len(s) == 1 and s[0]["ended"] is not None)
    assert record["ended"]["code"] != 1008
    [call] = record["tool_calls"]
    assert not call["cancelled"]


@pytest.mark.parametrize("model", [G38, G31])
def test_after_a_tool_response_the_workaround_input_unstalls_3x(emulator_factory, model) -> None:
    server = emulator_factory(stall_after_tool_response=True)
    toolbox = ToolBox(KEEPERS)
    session, recorder = _start(server, model, executor=toolbox.execute)
    try:
        session.send_text(f"call run_sql {json.dumps({'query': 'SELECT count(*) AS n FROM data'})}")
        recorder.wait_for(lambda _: any("run_sql tool returned" in t for t in recorder.finals("model")),
                          20, "the result spoken without the analyst speaking again")
        recorder.ask("Next?")
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
        toolbox.close()
    _no_final_error(recorder)
    # With the stall on, the emulator speaks the result only after a realtime input: ours.
    assert stats["inputs_after_tool_response"] == 1


def test_parallel_calls_are_each_answered(emulator_factory) -> None:
    server = emulator_factory(separate_parallel_calls=True)
    toolbox = ToolBox(KEEPERS)
    session, recorder = _start(server, G25, executor=toolbox.execute)
    try:
        session.send_text('call describe_column {"column": "keeper"}\ncall describe_column {"column": "storm_nights"}')
        recorder.wait_for(lambda ev: len([e for e in ev if isinstance(e, ToolCallFinished)]) == 2, 20,
                          "both calls answered")
        recorder.wait_state(SessionState.READY)
        recorder.ask("Next?")
    finally:
        assert_ended_cleanly(session)
        toolbox.close()
    _no_final_error(recorder)
    finished = [e for e in recorder.events if isinstance(e, ToolCallFinished)]
    assert [f.cancelled for f in finished] == [False, False]
    calls = server.sessions()[0]["tool_calls"]
    assert len(calls) == 2 and all(c["response"] is not None for c in calls)


def test_unresumable_updates_during_a_call_keep_the_last_good_handle(emulator) -> None:
    emulator.set_options(unresumable_during_tool_calls=True)
    toolbox = ToolBox(KEEPERS)
    session, recorder = _start(emulator, G25, executor=toolbox.execute)
    try:
        recorder.ask("First?")
        session.send_text('call describe_column {"column": "keeper"}')
        recorder.wait_for(lambda ev: any(isinstance(e, ToolCallFinished) for e in ev), 20, "call answered")
        recorder.wait_state(SessionState.READY)
        sent = emulator.sessions()[0]["server_messages"]
        emulator.set_options(close_after_messages=sent + 3, close_code=1011)
        session.send_text("Second?")
        recorder.wait_for(lambda _: RECONNECTED_NOTICE in recorder.notices(), 20, "reconnected")
        emulator.set_options(close_after_messages=None)
        recorder.ask("Third?")
    finally:
        assert_ended_cleanly(session)
        toolbox.close()
    _no_final_error(recorder)
    first, second = emulator.wait_for(lambda s: len(s) == 2 and all(r["ended"] for r in s))
    assert second["resumed_from"] == first["id"]  # resumed, not a new session


# ------------------------------------------------------------------ frames, transcripts, figures

def test_usage_is_counted_once_per_turn(emulator_factory) -> None:
    server = emulator_factory(usage_placement="service", empty_frames=True, multipart_messages=True)
    session, recorder = _start(server, G38)
    try:
        recorder.ask("First?")
        recorder.ask("Second?")
        recorder.wait_for(lambda ev: len([e for e in ev if isinstance(e, TurnFigures)]) == 2, 10, "figures")
    finally:
        assert_ended_cleanly(session)
    usages = [e for e in recorder.events if isinstance(e, Usage)]
    figures = [e for e in recorder.events if isinstance(e, TurnFigures)]
    assert len(usages) == 2 and all(u.total > 0 for u in usages)
    assert [f.tokens for f in figures] == [u.total for u in usages]
    assert all(f.first_audio_s is not None and f.first_audio_s >= 0 for f in figures)
    models = {e.turn_id for e in recorder.events if isinstance(e, TranscriptUpdate) and e.role == "model"}
    assert {f.turn_id for f in figures} <= models


def _transcript_of(recorder: Recorder) -> Transcript:
    transcript = Transcript()
    transcript.apply(TaggedEvent(1, e) for e in recorder.events)
    return transcript


def test_a_late_user_transcript_goes_above_the_reply_it_asked_for(emulator_factory, speech_pcm) -> None:
    server = emulator_factory(late_input_transcription_s=1.0)
    session, recorder = _start(server, G38)
    try:
        _feed_speech(session, speech_pcm())
        recorder.wait_for(lambda _: recorder.finals("model"), 20, "the reply")
        recorder.wait_for(lambda _: recorder.finals("user"), 20, "the late transcript")
        recorder.ask("Typed after?")
    finally:
        assert_ended_cleanly(session)
    _no_final_error(recorder)
    updates = [e for e in recorder.events if isinstance(e, TranscriptUpdate)]
    first_model = next(e for e in updates if e.role == "model")
    spoken = next(e for e in updates if e.role == "user")
    assert updates.index(spoken) > updates.index(first_model)  # it did arrive late...
    assert spoken.turn_id < first_model.turn_id  # ...and still belongs before the reply
    roles = [(e.role, e.text[:12]) for e in _transcript_of(recorder).entries]
    assert [r for r, _ in roles] == ["user", "model", "user", "model"]


def test_an_incremental_user_transcript_is_one_line(emulator_factory, speech_pcm) -> None:
    server = emulator_factory(incremental_input_transcription=True)
    session, recorder = _start(server, G25)
    try:
        _feed_speech(session, speech_pcm())
        recorder.wait_for(lambda _: recorder.finals("model"), 20, "the reply")
    finally:
        assert_ended_cleanly(session)
    heard = server.sessions()[0]["turns"][0]["input"]
    assert recorder.finals("user") == [heard]
    assert [e.role for e in _transcript_of(recorder).entries] == ["user", "model"]


def test_barge_in_without_interrupted_clears_playback_once_and_the_next_reply_plays(
        emulator_factory, speech_pcm) -> None:
    server = emulator_factory(realtime=True, no_interrupted_event=True)
    session, recorder = _start(server, "gemini-2.5-flash-native-audio-preview-12-2025")
    try:
        session.send_text("Tell me everything about the keepers, slowly.")
        recorder.wait_for(lambda _: session.stats()["playback"]["buffered_bytes"] > 4_800, 20,
                          "reply audio queued")
        _feed_speech(session, speech_pcm(pad_after=1.0))  # the analyst talks over the reply
        recorder.wait_for(lambda ev: any(isinstance(e, Interrupted) for e in ev), 20, "barge-in")
        cleared = session.stats()["playback"]["cleared_bytes"]
        recorder.wait_for(lambda _: len(server.sessions()[0]["turns"]) == 2
                          and server.sessions()[0]["turns"][1]["output"], 30, "the spoken question answered")
        recorder.wait_for(lambda _: session.stats()["turns_completed"] >= 2, 30, "second reply done")
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    _no_final_error(recorder)
    assert cleared > 0
    assert stats["local_barge_ins"] == 1 and stats["interruptions"] == 1  # cleared once
    assert len([e for e in recorder.events if isinstance(e, Interrupted)]) == 1
    second = server.sessions()[0]["turns"][1]
    # The next reply was written whole: nothing of it was muted (no clipped first word).
    written_after = stats["playback"]["written_bytes"]
    assert written_after - cleared >= int(second["audio_out_seconds"] * 48_000 * 0.95)


def test_a_go_away_deadline_1011_mid_reply_is_a_move_not_a_failure(emulator_factory) -> None:
    # goAway with 0.5 s left, one second into a long real-time reply: the deadline falls
    # mid-turn, and the service closes 1011 "Deadline expired…" (LIVE_PROTOCOL §8.3).
    server = emulator_factory(realtime=True, go_away_after_s=1.0, go_away_time_left_s=0.5,
                              go_away_close="deadline")
    session, recorder = _start(server, G38)
    try:
        session.send_text("Tell me everything about the keepers.")
        server.wait_for(lambda s: s and s[0]["ended"] is not None, timeout=20)
        server.set_options(go_away_after_s=None, realtime=False)
        recorder.wait_for(lambda _: recorder.notices(), 20, "moved on")
        recorder.ask("Still there?")
    finally:
        assert_ended_cleanly(session)
    assert server.sessions()[0]["ended"]["code"] == 1011
    assert "Deadline expired" in server.sessions()[0]["ended"]["reason"]
    # No handle existed yet (the first turn never completed): a seeded new session, no error.
    assert recorder.notices() == [NEW_SESSION_NOTICE] and recorder.errors() == []
    assert recorder.finals("user") == ["Tell me everything about the keepers.", "Still there?"]


def test_late_echoes_of_typed_questions_never_show_twice(emulator_factory) -> None:
    # Typed text is transcribed back too; late (like the spoken lines), the first question's
    # echo arrives after the second was typed.
    # Replies paced in real time (seconds long): both echoes, 0.5 s late, arrive during the
    # second question's reply.
    server = emulator_factory(realtime=True, late_input_transcription_s=0.5)
    session, recorder = _start(server, G38)
    try:
        session.send_text("First typed?")
        session.send_text("Second typed?")
        recorder.wait_for(recorder.answered("Second typed?"), 30, "the second answered")
        recorder.ask("Third typed?", timeout=30)
    finally:
        assert_ended_cleanly(session)
    _no_final_error(recorder)
    assert recorder.finals("user") == ["First typed?", "Second typed?", "Third typed?"]
