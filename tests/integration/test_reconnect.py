"""Faults and reconnection (issue 10): every fault ends in a clear state, with no leaked thread.

One test per row of the README fault table. All against the emulator, through the real SDK.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from google.genai import types

from livechat.config import make_client
from livechat.live.events import ErrorEvent, Interrupted, SessionState
from livechat.live.session import NEW_SESSION_NOTICE, RECONNECTED_NOTICE, LiveSession, SessionOptions
from livechat.live.seeding import FENCE_OPEN
from livechat.live.tokens import mint_live_token
from tests.conftest import ManualClock
from tests.integration.session_support import (
    INSTRUCTION,
    Recorder,
    assert_ended_cleanly,
    live_settings,
    service_config,
)

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]


def _start(server, **kwargs) -> tuple[LiveSession, Recorder]:
    settings = kwargs.pop("settings", None) or live_settings()
    config = kwargs.pop("config", None) or service_config(server)
    session = LiveSession(config=config, settings=settings, **kwargs)
    session.start()
    return session, Recorder(session)


def _expect_error(recorder: Recorder, *fragments: str) -> ErrorEvent:
    """The session ends in ERROR with exactly one final ErrorEvent naming ``fragments``."""
    recorder.wait_state(SessionState.ERROR, timeout=20)
    assert_ended_cleanly(recorder.session)
    recorder.drain()
    final = [e for e in recorder.errors() if not e.recoverable]
    assert len(final) == 1, recorder.errors()
    for fragment in fragments:
        assert fragment in final[0].message, final[0].message
    assert recorder.session.state is SessionState.ERROR
    return final[0]


def _mint(server, **kwargs) -> str:
    config = service_config(server)
    with make_client(config, api_key=config.api_key) as client:
        return mint_live_token(client, live_settings(), **kwargs)


def _use_token_once(server, token: str) -> None:
    async def run() -> None:
        client = make_client(service_config(server), api_key=token)
        try:
            async with client.aio.live.connect(model=live_settings().model,
                                               config=types.LiveConnectConfig()):
                pass
        finally:
            await client.aio.aclose()
            client.close()

    asyncio.run(asyncio.wait_for(run(), 20))


def _messages_after_first_turn(server) -> int:
    """Server messages sent on the first connection once its first turn (and handle) went out."""
    record = server.wait_for(lambda s: s and len(s[0]["turns"]) == 1)[0]
    return record["server_messages"]


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("where", ["mint", "connect"])
def test_refused_auth_ends_in_error(emulator_factory, where: str) -> None:
    server = emulator_factory()
    token = _mint(server) if where == "connect" else None
    server.set_options(refuse_auth=True)
    session, recorder = _start(server, token_source=(lambda _s: token) if token else None)
    if where == "mint":
        event = _expect_error(recorder, "API key was rejected")
        assert server.sessions() == []
    else:
        event = _expect_error(recorder, "refused the session", "1008")
        assert event.code == 1008
        assert len(server.sessions()) == 1  # tried once, not in a loop


def test_an_expired_token_ends_in_error(emulator_factory) -> None:
    clock = ManualClock()
    server = emulator_factory(clock=clock)
    token = _mint(server)
    clock.advance(31 * 60)  # past the token's 30-minute expireTime
    session, recorder = _start(server, token_source=lambda _s: token)
    event = _expect_error(recorder, "close 1008")
    assert event.code == 1008
    assert len(server.sessions()) == 1


def test_a_used_up_token_ends_in_error(emulator) -> None:
    token = _mint(emulator)
    _use_token_once(emulator, token)
    session, recorder = _start(emulator, token_source=lambda _s: token)
    event = _expect_error(recorder, "refused the session", "used up")
    assert event.code == 1008
    assert len(emulator.sessions()) == 2  # the first use and our single refused attempt


def test_the_emulator_not_running_ends_in_error(emulator_factory, tmp_path) -> None:
    server = emulator_factory(cert_dir=tmp_path)  # the CA file outlives the server
    config = service_config(server)
    server.stop()
    session, recorder = _start(server, config=config)
    event = _expect_error(recorder, "Could not reach", config.base_url)
    assert event.code is None


def test_a_slow_setup_times_out_with_a_clear_error(emulator_factory) -> None:
    server = emulator_factory(setup_delay_s=5.0)
    session, recorder = _start(server, options=SessionOptions(setup_timeout=0.5))
    _expect_error(recorder, "did not finish the session setup within 0.5 s")


# --------------------------------------------------------------------------- drops and resumption


@pytest.mark.parametrize("code", [1006, 1011])
def test_an_abrupt_close_mid_reply_resumes_with_history(emulator, code: int) -> None:
    session, recorder = _start(emulator)
    try:
        recorder.wait_state(SessionState.READY)
        recorder.ask("First question?")
        sent = _messages_after_first_turn(emulator)
        # Drop the connection a few messages into the next reply.
        emulator.set_options(close_after_messages=sent + 4, close_code=code)
        session.send_text("Second question?")
        recorder.wait_for(lambda _: RECONNECTED_NOTICE in recorder.notices(), 20, "reconnected")
        emulator.set_options(close_after_messages=None)
        recorder.wait_state(SessionState.READY)
        recorder.ask("Third question?")
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    dropped = [e for e in recorder.errors() if e.recoverable]
    assert [e.code for e in dropped] == [code]
    assert not [e for e in recorder.errors() if not e.recoverable]
    first, second = emulator.wait_for(lambda s: len(s) == 2 and all(r["ended"] for r in s))
    assert second["resumed_from"] == first["id"]
    assert second["history_turns"] == 2  # the service-side conversation carried over
    assert stats["reconnects"] == 1 and stats["resumed"] == 1
    # One transcript across both connections, every question once, in order.
    assert recorder.finals("user") == ["First question?", "Second question?", "Third question?"]
    assert recorder.finals("model")[0].startswith('You said: "First question?"')
    assert recorder.finals("model")[-1].startswith('You said: "Third question?"')
    assert RECONNECTED_NOTICE in recorder.notices()
    assert SessionState.RECONNECTING in recorder.states()


def test_go_away_reconnects_at_the_turn_boundary(emulator_factory) -> None:
    # Replies paced in real time (several seconds), goAway one second into the first reply.
    server = emulator_factory(realtime=True, go_away_after_s=1.0, go_away_time_left_s=60.0)
    session, recorder = _start(server)
    try:
        recorder.wait_state(SessionState.READY)
        session.send_text("Tell me everything about the keepers.")
        server.wait_for(lambda s: s and s[0]["go_away_sent"], timeout=10)
        server.set_options(go_away_after_s=None, realtime=False)  # for the next connection
        recorder.wait_for(lambda _: RECONNECTED_NOTICE in recorder.notices(), 30, "reconnected")
        recorder.ask("And now?")
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    first, second = server.wait_for(lambda s: len(s) == 2 and all(r["ended"] for r in s))
    # The reply in progress was not cut: the first connection's turn ran to its end...
    [turn] = first["turns"]
    assert not turn["interrupted"]
    assert recorder.finals("model")[0] == turn["output"]
    # ...and then we closed it ourselves (the server did not have to).
    assert first["ended"]["reason"].startswith("client closed")
    assert second["resumed_from"] == first["id"]
    assert stats["reconnects"] == 1 and stats["resumed"] == 1
    assert recorder.errors() == []


def test_a_malformed_server_message_reconnects_and_the_session_goes_on(emulator) -> None:
    emulator.set_options(malformed_after_messages=4)  # mid-way through the first reply
    session, recorder = _start(emulator)
    try:
        recorder.wait_state(SessionState.READY)
        session.send_text("First question?")
        recorder.wait_for(lambda _: recorder.notices(), 20, "back after the bad frame")
        emulator.set_options(malformed_after_messages=None)
        recorder.wait_state(SessionState.READY)
        recorder.ask("Second question?")
    finally:
        assert_ended_cleanly(session)
    [dropped] = recorder.errors()
    assert dropped.recoverable and "cannot read" in dropped.message
    # No handle existed yet (it follows the first turn), so a new session carried the transcript.
    assert recorder.notices() == [NEW_SESSION_NOTICE]
    assert "User: First question?" in session.effective_instruction
    assert recorder.finals("user") == ["First question?", "Second question?"]


def test_refused_resumption_falls_back_to_a_new_session_with_the_transcript(emulator) -> None:
    session, recorder = _start(emulator)
    try:
        recorder.wait_state(SessionState.READY)
        answer = recorder.ask("How many keepers?")
        sent = _messages_after_first_turn(emulator)
        emulator.set_options(refuse_resumption=True, close_after_messages=sent + 4, close_code=1011)
        session.send_text("And storms?")
        recorder.wait_for(lambda _: NEW_SESSION_NOTICE in recorder.notices(), 20, "new session")
        emulator.set_options(close_after_messages=None)
        recorder.wait_state(SessionState.READY)
        final = recorder.ask("Still there?")
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    records = emulator.wait_for(lambda s: len(s) == 3 and all(r["ended"] for r in s))
    refused, fresh = records[1], records[2]
    assert refused["ended"]["code"] == 1011 and refused["turns"] == []
    assert fresh["resumed_from"] is None
    seeded = session.effective_instruction
    assert seeded.startswith(INSTRUCTION + "\n\n")
    assert FENCE_OPEN in seeded
    assert "User: How many keepers?" in seeded and f"Model: {answer}" in seeded
    effective = "".join(p["text"] for p in fresh["effective_setup"]["systemInstruction"]["parts"])
    assert effective == seeded
    assert set(fresh["client_setup"]) == {"model"}  # still a bare client setup
    assert f"({len(seeded)} characters)" in final  # the model saw the seeded instruction
    assert stats["new_session_fallbacks"] == 1 and stats["resumed"] == 0


def test_a_spurious_interruption_does_not_mute_the_next_reply(emulator_factory) -> None:
    server = emulator_factory(spurious_interrupt_after_s=0.2)
    session, recorder = _start(server)
    try:
        recorder.wait_for(lambda ev: any(isinstance(e, Interrupted) for e in ev), 10,
                          "the spurious interruption")
        before = session.stats()["playback"]["written_bytes"]
        recorder.ask("Are you still talking to me?")
        audio = session.read_audio(9600)
        after = session.stats()["playback"]["written_bytes"]
    finally:
        assert_ended_cleanly(session)
    assert before == 0 and after > 24_000
    assert any(audio)
    assert recorder.errors() == []


def test_slow_pongs_do_not_kill_a_healthy_session(emulator_factory) -> None:
    # Pings every 0.2 s, pongs 1 s late; the reply takes seconds, so many pings go unanswered
    # for a while. A 3 s ping timeout tolerates that.
    server = emulator_factory(realtime=True, pong_delay_s=1.0)
    config = service_config(server, ping_interval_s=0.2, ping_timeout_s=3.0)
    session, recorder = _start(server, config=config)
    try:
        recorder.wait_state(SessionState.READY)
        recorder.ask("Take your time?", timeout=40)
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    assert stats["reconnects"] == 0
    assert recorder.errors() == []
    assert SessionState.RECONNECTING not in recorder.states()


def test_a_ping_timeout_shorter_than_the_pong_delay_drops_the_link(emulator_factory) -> None:
    # The control for the test above: the same slow pongs with an impatient keepalive.
    server = emulator_factory(pong_delay_s=1.0)
    config = service_config(server, ping_interval_s=0.2, ping_timeout_s=0.3)
    session, recorder = _start(server, config=config)
    try:
        recorder.wait_for(lambda _: [e for e in recorder.errors() if e.recoverable], 20,
                          "a keepalive failure")
    finally:
        assert_ended_cleanly(session)
    assert SessionState.RECONNECTING in recorder.states()


def test_reconnection_gives_up_after_the_attempt_limit(emulator_factory) -> None:
    # Every connection drops right after setupComplete: consecutive failures hit the cap.
    server = emulator_factory(close_after_messages=1, close_code=1011)
    session, recorder = _start(server, options=SessionOptions(max_reconnects=2, reconnect_backoff_s=0.01))
    recorder.wait_state(SessionState.ERROR, timeout=20)
    assert_ended_cleanly(session)
    final = [e for e in recorder.errors() if not e.recoverable]
    assert len(final) == 1 and "could not reconnect after 2 attempts" in final[0].message
    assert len([e for e in recorder.errors() if e.recoverable]) == 2
    assert len(server.sessions()) == 3  # the first connection and two retries, no more


def test_audio_captured_while_reconnecting_is_kept_up_to_two_seconds(emulator_factory) -> None:
    # The first connection drops right after setup; every setup takes a second, which leaves
    # time to capture audio while the session is reconnecting.
    server = emulator_factory(close_after_messages=1, close_code=1011, setup_delay_s=1.0)
    session, recorder = _start(server)
    try:
        recorder.wait_state(SessionState.RECONNECTING, timeout=20)
        server.set_options(close_after_messages=None)
        silence = bytes(640)  # 20 ms at 16 kHz
        for _ in range(150):  # 3 s of microphone audio during the reconnection
            session.send_audio(silence, 16_000)
        recorder.wait_for(lambda _: RECONNECTED_NOTICE in recorder.notices(), 20, "reconnected")
        second = server.wait_for(lambda s: len(s) == 2 and s[1]["audio_in_seconds"] >= 2.0)[1]
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    assert stats["audio_chunks_dropped"] == 50  # the oldest second, counted
    assert second["audio_in_seconds"] == pytest.approx(2.0, abs=0.001)
    assert server.sessions()[0]["audio_in_seconds"] == 0  # nothing went out before setup


def test_a_session_outlives_its_token_by_reconnecting_before_expiry(emulator) -> None:
    # A 3 s token: the service would close the session at expiry (1008, never retried), so
    # the session moves to a fresh token and resumes before that.
    session, recorder = _start(emulator, options=SessionOptions(token_lifetime=timedelta(seconds=3)))
    try:
        recorder.wait_state(SessionState.READY)
        recorder.ask("Before the token expires?")
        recorder.wait_for(lambda _: RECONNECTED_NOTICE in recorder.notices(), 10, "recycled")
        recorder.ask("After?")
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    assert recorder.errors() == []
    assert stats["resumed"] >= 1
    first = emulator.sessions()[0]
    assert first["ended"]["reason"].startswith("client closed")  # not the expiry close
    assert emulator.sessions()[1]["token"] != first["token"]


# --------------------------------------------------------------------------- long conversation


def test_a_long_conversation_across_thirty_goaways_keeps_one_transcript(emulator_factory) -> None:
    server = emulator_factory(go_away_after_s=0.3, go_away_time_left_s=5.0)
    session, recorder = _start(server)
    questions: list[str] = []
    try:
        recorder.wait_state(SessionState.READY)
        while session.stats()["reconnects"] < 30:
            question = f"Question number {len(questions) + 1}?"
            questions.append(question)
            recorder.ask(question, timeout=20)
            assert len(questions) < 400, "goAway did not recycle connections"
        stats = session.stats()
    finally:
        assert_ended_cleanly(session)
    assert recorder.finals("user") == questions  # none lost, none doubled, in order
    answers = recorder.finals("model")
    assert len(answers) == len(questions)
    for question, answer in zip(questions, answers):
        assert answer.startswith(f'You said: "{question}"')
    assert stats["reconnects"] >= 30
    assert stats["resumed"] + stats["new_session_fallbacks"] == stats["reconnects"]
    assert stats["resumed"] >= stats["reconnects"] - 1
    assert recorder.errors() == []
    assert not any(isinstance(e, Interrupted) for e in recorder.events)
    records = server.sessions()
    assert all(r["ended"] and not r["ended"]["reason"].startswith("Connection aborted")
               for r in records), "the server had to close a connection we should have left"

