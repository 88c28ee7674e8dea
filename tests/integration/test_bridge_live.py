"""VoiceBridge with a real LiveSession and the real SDK against the emulator.

Browser frames are simulated as streamlit-webrtc delivers them (48 kHz stereo s16, 20 ms);
everything after ``on_uplink_frame`` and before ``next_downlink_frame`` is the product's
own path: resampling, the session, the websocket, the emulator's VAD and replies.
"""

from __future__ import annotations

import time

from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
import pytest

from livechat.voice.bridge import STREAM_DROPPED_MESSAGE, VoiceBridge
from livechat.live.events import ErrorEvent, Interrupted, SessionState
from livechat.live.session import LiveSession
from livechat.ui.talk import session_factory
from tests.integration.session_support import live_settings, service_config, wait_until

TIMEOUT = 20.0
TB = Fraction(1, 48_000)


def _frames(pcm48k_mono: bytes) -> list[av.AudioFrame]:
    """48 kHz stereo packed s16 frames of 960 samples, as Chromium's arrive."""
    mono = np.frombuffer(pcm48k_mono, dtype="<i2")
    mono = np.concatenate([mono, np.zeros(-len(mono) % 960, dtype="<i2")])
    frames = []
    for start in range(0, len(mono), 960):
        chunk = np.repeat(mono[start:start + 960], 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
        frame.sample_rate = 48_000
        frames.append(frame)
    return frames


def _silence(seconds: float) -> list[av.AudioFrame]:
    return _frames(bytes(int(48_000 * seconds) * 2))


def _feed(bridge: VoiceBridge, server, frames: list[av.AudioFrame]) -> None:
    """Push frames faster than real time, but never more than ~1 s ahead of what the
    emulator has received (the session buffers at most 2 s while the link catches up)."""
    already = server.sessions()[-1]["audio_in_seconds"]
    for start in range(0, len(frames), 25):
        for frame in frames[start:start + 25]:
            bridge.on_uplink_frame(frame)
        fed = already + (start + 25) * 0.02 - 1.0
        server.wait_for(lambda sessions: sessions[-1]["audio_in_seconds"] >= fed, timeout=TIMEOUT)


def _ready(bridge: VoiceBridge) -> None:
    """Wait until the bridge's session finished its setup (woken by its events)."""
    def ready() -> bool:
        session = bridge.session
        return session is not None and session.state not in (SessionState.CONNECTING,)

    while not ready():
        assert bridge.wait_for_events(TIMEOUT), f"no session event; state={bridge.status()}"
    assert bridge.session.state is SessionState.READY


def _voice(bridge: VoiceBridge, server, **settings) -> Callable:
    factory = session_factory(service_config(server), live_settings(**settings), None, name="live-bridge-test")
    bridge.sync_stream(playing=False, signalling=True, factory=factory, key="k")
    _ready(bridge)
    return factory


def test_speech_in_reply_out_and_stop_ends_the_live_session(emulator, speech_pcm) -> None:
    bridge = VoiceBridge()
    factory = _voice(bridge, emulator)
    speech = speech_pcm(rate=48_000)
    _feed(bridge, emulator, _frames(speech) + _silence(1.0))
    assert bridge.wait_for_replies(1, TIMEOUT)
    reply = np.concatenate([bridge.next_downlink_frame(960 * i, TB).to_ndarray().reshape(-1) for i in range(150)])
    assert np.abs(reply).max() > 1000  # the spoken reply came out of the downlink
    record = emulator.sessions()[-1]
    assert record["audio_in_rate"] == 16_000
    sent = len(_frames(speech) + _silence(1.0)) * 0.02
    assert record["audio_in_seconds"] == pytest.approx(sent, abs=0.05)
    assert record["turns"][0]["kind"] == "audio"
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")  # STOP
    emulator.wait_for(lambda sessions: sessions[-1]["ended"] is not None, timeout=2.0)
    assert bridge.status() == "closed"
    bridge.close()


def test_barge_in_flushes_the_playback_buffer(emulator_factory, speech_pcm) -> None:
    server = emulator_factory(realtime=True)
    bridge = VoiceBridge()
    _voice(bridge, server)
    question = _frames(speech_pcm(rate=48_000)) + _silence(1.0)
    _feed(bridge, server, question)
    # Wait for reply audio to be queued (the emulator sends 200 ms ahead of real time).
    wait_until(lambda: bridge.playback.buffered_seconds > 0.1, TIMEOUT, "reply audio queued")
    _feed(bridge, server, question)  # the analyst talks over the reply
    events: list = []
    while not any(isinstance(e.event, Interrupted) for e in events):
        assert bridge.wait_for_events(TIMEOUT), "no interruption"
        events += bridge.poll_events()
    assert bridge.stats().playback.cleared_bytes > 0
    bridge.close()
    server.wait_for(lambda sessions: sessions[-1]["ended"] is not None, timeout=2.0)


def test_closing_the_tab_ends_the_live_session_within_two_seconds(emulator) -> None:
    bridge = VoiceBridge()
    _voice(bridge, emulator)
    session = bridge.session
    bridge.close()  # what the SessionShutdownObserver calls
    emulator.wait_for(lambda sessions: sessions[-1]["ended"] is not None, timeout=2.0)
    assert session is not None and not session.running


def test_a_dropped_peer_ends_the_live_session_within_two_seconds(emulator) -> None:
    # The error waits drop_notice_grace_s for the page to say it was a STOP; no page here.
    bridge = VoiceBridge(drop_notice_grace_s=0.001)
    _voice(bridge, emulator)
    for frame in _silence(0.2):
        bridge.on_uplink_frame(frame)
    bridge.on_uplink_ended()  # the sink track ended while the component still plays
    emulator.wait_for(lambda sessions: sessions[-1]["ended"] is not None, timeout=2.0)
    # The notice is posted by the bridge's watchdog on its next tick, which may come just
    # after the emulator saw the close: wait for it (bounded) rather than poll once.
    errors: list = []
    deadline = time.monotonic() + TIMEOUT
    while not errors and time.monotonic() < deadline:
        bridge.wait_for_events(0.05)
        errors = [e.event for e in bridge.poll_events() if isinstance(e.event, ErrorEvent)]
        if not errors:
            time.sleep(0.02)  # the session is gone, so wait_for_events can return at once
    assert errors, "the bridge never reported the dropped stream"
    assert errors[-1].message == STREAM_DROPPED_MESSAGE
    bridge.close()


def test_typed_questions_during_voice_go_to_the_same_live_session(emulator) -> None:
    bridge = VoiceBridge()
    factory = _voice(bridge, emulator)
    session = bridge.session
    assert isinstance(session, LiveSession)
    bridge.send_text("How many keepers?", factory, "k")
    assert bridge.wait_for_replies(1, TIMEOUT)
    assert bridge.session is session and len(emulator.sessions()) == 1
    assert emulator.sessions()[-1]["turns"][0]["input"] == "How many keepers?"
    bridge.close()
