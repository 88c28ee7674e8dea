"""Unit tests for livechat.voice.bridge.VoiceBridge with a small fake LiveSession.

The fake stands in for the session only (no SDK here); tests/integration/test_bridge_live.py
drives a real LiveSession against the emulator.
"""

from __future__ import annotations

import io
import threading
import wave
from collections import deque
from fractions import Fraction

import av
import numpy as np
import pytest

from livechat.voice.bridge import (
    BADGE_STATES,
    STREAM_DROPPED_MESSAGE,
    BridgeClosedError,
    BridgeConfigError,
    TaggedEvent,
    VoiceBridge,
    pcm16_wav,
)
from livechat.live.events import ErrorEvent, Notice, SessionState, StateChanged
from livechat.live.session import ReplyAudioSink

WAIT = 10.0


class _FakeSession:
    """Records what the bridge does to a session; state and events are set by the test."""

    def __init__(self, sink: ReplyAudioSink, name: str) -> None:
        self.sink = sink
        self.name = name
        self.state = SessionState.CONNECTING
        self.audio: list[tuple[bytes, int]] = []
        self.texts: list[str] = []
        self.started = False
        self.stop_calls = 0
        self.stopped = threading.Event()
        self.release_stop = threading.Event()
        self.release_stop.set()
        self._events: deque = deque()
        self._cond = threading.Condition()
        self.effective_instruction = "instruction"

    @property
    def running(self) -> bool:
        return self.started and not self.stopped.is_set()

    def start(self) -> None:
        self.started = True

    def stop(self, timeout: float = 2.0) -> bool:
        self.stop_calls += 1
        self.release_stop.wait(WAIT)
        self.state = SessionState.CLOSED
        self.stopped.set()
        return True

    def send_audio(self, pcm: bytes, rate: int) -> None:
        self.audio.append((pcm, rate))

    def send_text(self, text: str) -> None:
        self.texts.append(text)

    def emit(self, event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def poll_events(self, timeout: float = 0.0) -> list:
        with self._cond:
            if timeout > 0 and not self._events:
                self._cond.wait(timeout)
            out = list(self._events)
            self._events.clear()
        return out


class _Factory:
    def __init__(self) -> None:
        self.sessions: list[_FakeSession] = []

    def __call__(self, sink: ReplyAudioSink) -> _FakeSession:
        session = _FakeSession(sink, f"fake-{len(self.sessions) + 1}")
        self.sessions.append(session)
        return session

    @property
    def last(self) -> _FakeSession:
        return self.sessions[-1]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _browser_frame(i: int, amplitude: int = 8000) -> av.AudioFrame:
    """20 ms of 48 kHz stereo s16 packed, as Chromium sends it (a 440 Hz tone)."""
    t = (np.arange(960) + 960 * i) / 48_000
    mono = (amplitude * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    frame = av.AudioFrame.from_ndarray(np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo")
    frame.sample_rate = 48_000
    return frame


def _start_stream(bridge: VoiceBridge, factory: _Factory, key: str = "k") -> _FakeSession:
    bridge.sync_stream(playing=False, signalling=True, factory=factory, key=key)
    return factory.last


def test_uplink_frames_reach_the_session_as_16k_mono_and_move_the_meter() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)
    for i in range(50):
        bridge.on_uplink_frame(_browser_frame(i))
    assert all(rate == 16_000 for _, rate in session.audio)
    # Sent in chunks of at least 40 ms (the default), each a whole number of samples.
    assert all(len(pcm) >= 1280 and len(pcm) % 2 == 0 for pcm, _ in session.audio)
    samples = sum(len(pcm) for pcm, _ in session.audio) // 2
    stats = bridge.stats()
    # one second of audio; the resampler may hold back a few samples of filter delay and
    # the last chunk may still be filling up
    assert 16_000 - 64 <= stats.samples_accepted <= 16_000
    assert stats.samples_sent == samples and stats.samples_accepted - samples < 640
    pcm = np.frombuffer(b"".join(p for p, _ in session.audio), dtype="<i2")
    assert np.abs(pcm[2000:]).max() > 4000  # the tone survived the down-mix
    assert (stats.frames_in, stats.frames_sent, stats.frames_unsent) == (50, 50, 0)
    assert 0.1 < bridge.input_level < 0.3  # 8000/32768/sqrt(2) ≈ 0.17


@pytest.mark.parametrize("chunk_ms", [20, 60, 100])
def test_uplink_chunk_size_is_configurable(chunk_ms: int) -> None:
    bridge, factory = VoiceBridge(uplink_chunk_ms=chunk_ms), _Factory()
    session = _start_stream(bridge, factory)
    for i in range(50):
        bridge.on_uplink_frame(_browser_frame(i))
    sizes = [len(pcm) for pcm, _ in session.audio]
    assert min(sizes) >= 32 * chunk_ms and max(sizes) < 32 * (chunk_ms + 20)
    assert len(sizes) >= 1000 // chunk_ms - 1


@pytest.mark.parametrize("bad", [0, 10, 30, 120, True, 40.0])
def test_uplink_chunks_must_be_whole_frames(bad: object) -> None:
    with pytest.raises(BridgeConfigError, match="uplink_chunk_ms"):
        VoiceBridge(uplink_chunk_ms=bad)  # type: ignore[arg-type]


def test_frames_without_a_stream_are_counted_not_sent() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    bridge.on_uplink_frame(_browser_frame(0))
    bridge.send_text("hello", factory, "k")  # a text-only session is not a voice stream
    bridge.on_uplink_frame(_browser_frame(1))
    assert factory.last.audio == []
    assert bridge.stats().frames_unsent == 2
    assert bridge.input_level == 0.0


TB48 = Fraction(1, 48_000)


def _tone24k(seconds: float, hz: float = 600.0, level: int = 8000) -> bytes:
    t = np.arange(int(24_000 * seconds)) / 24_000
    return (level * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / len(samples))


def test_downlink_frames_are_exact_20ms_48k_mono_resampled_once_with_silence_when_empty() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)
    frame = bridge.next_downlink_frame(0, TB48)
    assert (frame.samples, frame.sample_rate, frame.format.name, frame.layout.name) == (960, 48_000, "s16", "mono")
    assert not frame.to_ndarray().any()
    reply = _tone24k(0.1)  # 100 ms at the model's 24 kHz
    session.sink.write(reply)
    session.sink.end_of_turn()  # flushes the resampler's last samples
    out = np.concatenate([bridge.next_downlink_frame(960 * k, TB48).to_ndarray().reshape(-1) for k in range(1, 8)])
    played = bridge.stats().playback.read_bytes // 2
    assert played == 2 * len(reply) // 2  # every 24 kHz sample became two at 48 kHz
    assert _peak_hz(out[:played], 48_000) == pytest.approx(600.0, abs=15.0)  # same pitch, not sped up
    assert not out[played:].any()  # then silence
    assert bridge.stats().frames_out == 8


def test_interrupted_flushes_playback_at_once_and_the_next_reply_plays() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)
    session.sink.write(_tone24k(1.0))  # one second queued
    session.sink.clear()  # what LiveSession does on serverContent.interrupted
    assert not bridge.next_downlink_frame(0, TB48).to_ndarray().any()
    cleared = bridge.stats().playback.cleared_bytes
    assert cleared >= 2 * 48_000 - 200  # the whole second, at 48 kHz (less the filter's few held samples)
    session.sink.write(b"\x02\x00" * 480)  # the next reply: 20 ms of a constant level
    frame = bridge.next_downlink_frame(960, TB48).to_ndarray().reshape(-1)
    # Nothing of the cut reply is left in the filter: the frame holds the new level only.
    assert np.abs(frame[frame != 0].astype(int) - 2).max() <= 1 and (frame == 2).sum() > 800


def test_reruns_never_start_a_second_session_and_stop_ends_it() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    for playing, signalling in ((False, True), (False, True), (True, False), (True, False)):
        bridge.sync_stream(playing=playing, signalling=signalling, factory=factory, key="k")
    assert len(factory.sessions) == 1 and factory.last.started
    assert bridge.stream_active
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")
    assert factory.last.stop_calls == 1
    assert not bridge.stream_active
    assert bridge.status() == "closed"
    bridge.sync_stream(playing=False, signalling=True, factory=factory, key="k")
    assert len(factory.sessions) == 2  # START again: a new session


def test_typed_questions_share_the_voice_session() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)
    bridge.send_text("how many rows?", factory, "k")
    assert factory.sessions == [session]
    assert session.texts == ["how many rows?"]


def test_a_new_key_or_a_finished_session_gets_a_new_session() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    first = bridge.send_text("one", factory, "dataset-a")
    second = bridge.send_text("two", factory, "dataset-b")
    assert second is not first and first.stop_calls == 1
    second.state = SessionState.ERROR
    third = bridge.send_text("three", factory, "dataset-b")
    assert third is not second
    assert [s.texts for s in factory.sessions] == [["one"], ["two"], ["three"]]


def test_events_are_tagged_by_session_and_retired_sessions_drain_first() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    first = bridge.send_text("one", factory, "a")
    first.emit(StateChanged(SessionState.READY))
    second = bridge.send_text("two", factory, "b")  # retires the first
    first.emit(StateChanged(SessionState.CLOSED))  # its last words, after retirement
    second.emit(StateChanged(SessionState.READY))
    events = bridge.poll_events()
    assert [(e.session, e.event.state) for e in events] == [
        (1, SessionState.READY), (1, SessionState.CLOSED), (2, SessionState.READY)]
    assert bridge.poll_events() == []


def test_wait_for_events_keeps_what_it_saw_for_poll_events() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    assert bridge.wait_for_events(0.01) is False  # no session yet
    session = bridge.send_text("one", factory, "a")
    threading.Thread(target=session.emit, args=(Notice("hello"),)).start()
    assert bridge.wait_for_events(WAIT)
    assert bridge.poll_events() == [TaggedEvent(1, Notice("hello"))]


def test_a_dropped_peer_ends_the_session_without_blocking_and_does_not_restart() -> None:
    clock = _Clock()
    bridge, factory = VoiceBridge(clock=clock, drop_notice_grace_s=2.0), _Factory()
    session = _start_stream(bridge, factory)
    bridge.on_uplink_frame(_browser_frame(0))
    bridge.on_uplink_ended()
    assert session.stopped.wait(WAIT)
    assert not bridge.stream_active
    assert bridge.poll_events() == []  # the page may still be about to say it was STOP
    clock.now += 2.0
    assert [e.event for e in bridge.poll_events()] == [ErrorEvent(STREAM_DROPPED_MESSAGE, None, recoverable=False)]
    # The component still says "playing": no new session until it stops and starts again.
    bridge.sync_stream(playing=True, signalling=False, factory=factory, key="k")
    assert len(factory.sessions) == 1
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")
    bridge.sync_stream(playing=False, signalling=True, factory=factory, key="k")
    assert len(factory.sessions) == 2
    bridge.close()


def test_a_late_track_end_from_a_previous_stream_is_ignored() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)  # no frame has arrived on this stream yet
    bridge.on_uplink_ended()
    assert session.stop_calls == 0 and bridge.stream_active
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")
    bridge.on_uplink_ended()  # STOP already handled by the page
    assert session.stop_calls == 1 and bridge.poll_events() == []


def test_uplink_callbacks_never_wait_for_a_slow_stop() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)
    bridge.on_uplink_frame(_browser_frame(0))
    session.release_stop.clear()  # the session's stop() now hangs until released
    replacer = threading.Thread(target=bridge.send_text, args=("new", factory, "other-key"))
    replacer.start()  # holds the bridge's lifecycle lock while the old session stops
    media = threading.Thread(target=lambda: [bridge.on_uplink_frame(_browser_frame(1)),
                                             bridge.on_uplink_ended(),
                                             bridge.next_downlink_frame(0, TB48)])
    media.start()
    media.join(WAIT)
    finished_while_stop_hung = not media.is_alive()
    session.release_stop.set()
    replacer.join(WAIT)
    assert finished_while_stop_hung
    bridge.close()


def test_check_stream_stops_a_stalled_stream() -> None:
    clock = _Clock()
    bridge, factory = VoiceBridge(clock=clock, stall_timeout_s=3.0, first_frame_timeout_s=10.0,
                                  watchdog_interval_s=None), _Factory()
    session = _start_stream(bridge, factory)
    clock.now += 9.0
    assert bridge.check_stream() is None  # waiting for the first frame
    bridge.on_uplink_frame(_browser_frame(0))
    clock.now += 2.9
    assert bridge.check_stream() is None
    clock.now += 0.2
    message = bridge.check_stream()
    assert message is not None and "3 s" in message
    assert session.stop_calls == 1 and not bridge.stream_active
    assert bridge.check_stream() is None  # reported once


def test_check_stream_stops_a_stream_that_never_delivered_a_frame() -> None:
    clock = _Clock()
    bridge, factory = VoiceBridge(clock=clock, first_frame_timeout_s=10.0, watchdog_interval_s=None), _Factory()
    session = _start_stream(bridge, factory)
    clock.now += 10.0
    assert bridge.check_stream() is not None
    assert session.stop_calls == 1


@pytest.mark.parametrize(("state", "streaming", "word"), [
    (SessionState.CONNECTING, True, "connecting"),
    (SessionState.READY, True, "listening"),
    (SessionState.READY, False, "idle"),
    (SessionState.LISTENING, True, "listening"),
    (SessionState.RESPONDING, False, "responding"),
    (SessionState.RECONNECTING, True, "reconnecting"),
    (SessionState.ERROR, False, "error"),
    (SessionState.CLOSED, False, "closed"),
])
def test_status_words(state: SessionState, streaming: bool, word: str) -> None:
    bridge, factory = VoiceBridge(), _Factory()
    assert bridge.status() == "idle"
    if streaming:
        _start_stream(bridge, factory)
    else:
        bridge.send_text("q", factory, "k")
    factory.last.state = state
    assert bridge.status() == word
    assert word in BADGE_STATES


def test_the_last_reply_is_kept_as_wav_and_text_replies_skip_playback() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = bridge.send_text("q", factory, "k")
    assert bridge.last_reply_wav() is None
    reply = np.arange(-500, 500, dtype="<i2").tobytes()
    session.sink.write(reply[:1000])
    session.sink.write(reply[1000:])
    assert bridge.stats().playback.written_bytes == 0  # nobody would read it
    session.sink.end_of_turn()
    assert bridge.replies_completed == 1 and bridge.wait_for_replies(1, 0.01)
    with wave.open(io.BytesIO(bridge.last_reply_wav())) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 24_000, 2)
        assert wav.readframes(wav.getnframes()) == reply
    session.sink.write(b"\x05\x00" * 100)
    session.sink.clear()  # an interrupted reply does not replace the last one
    session.sink.end_of_turn()
    with wave.open(io.BytesIO(bridge.last_reply_wav())) as wav:
        assert wav.readframes(wav.getnframes()) == reply


def test_a_stopped_session_no_longer_reaches_playback() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")
    session.sink.write(b"\x01\x00" * 480)  # a late write from the stopping session
    assert bridge.stats().playback.written_bytes == 0


def test_close_stops_everything_and_is_final() -> None:
    bridge, factory = VoiceBridge(), _Factory()
    session = _start_stream(bridge, factory)
    bridge.close()
    bridge.close()
    assert session.stop_calls == 1 and bridge.closed
    assert bridge.source_track.readyState == "ended"  # a sender still reading it stops
    with pytest.raises(BridgeClosedError, match="closed"):
        bridge.send_text("q", factory, "k")


@pytest.mark.parametrize("field", ["playback_seconds", "stop_timeout_s", "stall_timeout_s"])
@pytest.mark.parametrize("value", [0, -1.0, True, "2"])
def test_impossible_settings_are_refused(field: str, value: object) -> None:
    with pytest.raises(BridgeConfigError, match=field):
        VoiceBridge(**{field: value})


def test_pcm16_wav_round_trips_and_ignores_a_stray_byte() -> None:
    pcm = np.arange(100, dtype="<i2").tobytes()
    with wave.open(io.BytesIO(pcm16_wav(pcm + b"\x07", 16_000))) as wav:
        assert wav.getframerate() == 16_000
        assert wav.readframes(wav.getnframes()) == pcm
    with pytest.raises(BridgeConfigError, match="sample_rate"):
        pcm16_wav(pcm, 0)
