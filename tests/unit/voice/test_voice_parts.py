"""The voice bridge's parts on their own: the stream's state, the watchdog thread, the reply
path. Injected clocks and events; nothing waits on time."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
import pytest

from livechat.audio.playback import PlaybackBuffer
from livechat.voice.downlink import Downlink
from livechat.voice.reply import MAX_QUEUED_SECONDS, ReplyPath
from livechat.voice.gaps import UplinkGaps, VoiceLedger
from livechat.voice.presence import BrowserPresence, BrowserSignals
from livechat.voice.stream import STREAM_DROPPED_MESSAGE, STREAM_GONE_MESSAGE, StreamState
from livechat.voice.watchdog import UplinkWatchdog

WAIT = 10.0


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _stream(clock: _Clock) -> StreamState:
    return StreamState(name="parts", clock=clock, stall_timeout_s=1.0,
                       first_frame_timeout_s=5.0, drop_notice_grace_s=2.0)


def test_the_stream_starts_once_and_stops_once() -> None:
    stream = _stream(_Clock())
    assert stream.sync(True) == (True, False, False)
    assert stream.sync(True) == (False, False, True)  # a rerun: nothing to do
    assert stream.active
    assert stream.sync(False) == (False, True, True)
    assert stream.sync(False) == (False, False, False)
    assert not stream.active


def test_a_track_end_drops_only_a_stream_that_carried_frames() -> None:
    clock = _Clock()
    stream = _stream(clock)
    stream.sync(True)
    assert stream.peer_ended() is False  # a late end from the previous stream
    assert stream.note_frame() is True
    assert stream.peer_ended() is True and not stream.active
    assert stream.note_frame() is False  # frames after the drop reach no session
    assert stream.sync(True) == (False, False, False)  # no restart while the component plays
    clock.now += 1.9
    assert stream.take_due_drop() is None  # the page may still say it was STOP
    clock.now += 0.1
    assert stream.take_due_drop() == STREAM_DROPPED_MESSAGE
    assert stream.take_due_drop() is None  # reported once


def test_a_stop_after_a_drop_is_not_reported() -> None:
    clock = _Clock()
    stream = _stream(clock)
    stream.sync(True)
    stream.note_frame()
    stream.peer_ended()
    assert stream.sync(False) == (False, True, False)  # stopping, but nothing was running
    clock.now += 60.0
    assert stream.take_due_drop() is None


def test_stalls_count_from_the_last_frame_or_from_the_start() -> None:
    clock = _Clock()
    stream = _stream(clock)
    assert stream.inspect(None) is None  # no stream
    stream.sync(True)
    clock.now += 4.9
    assert stream.inspect(None) is None  # waiting for the first frame (5 s)
    stream.note_frame()
    assert stream.heard_within(0.5)
    clock.now += 0.99
    assert stream.inspect(None) is None and not stream.heard_within(0.5)
    clock.now += 0.01
    drop = stream.inspect(None)
    assert drop is not None and drop.reason == "stalled" and "for 1 s" in drop.message
    assert not stream.active and stream.inspect(None) is None


def test_a_stream_that_never_sent_a_frame_ends_for_that_reason() -> None:
    clock = _Clock()
    stream = _stream(clock)
    stream.sync(True)
    clock.now += 5.0
    drop = stream.inspect(None)
    assert drop is not None and drop.reason == "no first frame"


def test_a_gap_pauses_the_uplink_and_is_counted_when_frames_return() -> None:
    clock = _Clock()
    stream = StreamState(name="gaps", clock=clock, stall_timeout_s=15.0, first_frame_timeout_s=5.0,
                         drop_notice_grace_s=2.0, ledger=VoiceLedger())
    stream.sync(True)
    stream.note_frame()
    clock.now += 0.5
    assert stream.inspect(None) is None and not stream.paused  # jitter, not a gap
    stream.note_frame()
    clock.now += 4.0
    assert stream.inspect(None) is None and stream.paused and stream.active
    clock.now += 0.2
    stream.note_frame()  # frames are back
    assert not stream.paused and stream.call_gaps() == (1, pytest.approx(4.2))
    assert stream.take_new_gaps() == UplinkGaps(1, 4.2, 1)
    assert stream.take_new_gaps() is None  # reported once
    clock.now += 14.9
    assert stream.inspect(None) is None  # a long gap, still under the bound
    clock.now += 0.1
    drop = stream.inspect(None)
    assert drop is not None and drop.reason == "stalled"


def test_a_gone_browser_ends_the_stream_at_once_with_its_own_message() -> None:
    clock = _Clock()
    stream = _stream(clock)
    stream.sync(True)
    stream.note_frame()
    drop = stream.inspect("the peer connection is closed")
    assert drop is not None and drop.reason == "browser gone" and drop.message == STREAM_GONE_MESSAGE
    assert not stream.active
    clock.now += 2.0
    assert stream.take_due_drop() == STREAM_GONE_MESSAGE


class _Probe:
    def __init__(self, value) -> None:
        self.value = value

    def __call__(self):
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def _presence(clock: _Clock, connected: _Probe) -> BrowserPresence:
    """A presence with a 1 s grace watching ``connected``; nothing gone yet."""
    presence = BrowserPresence(name="p", clock=clock, reconnect_grace_s=1.0)
    presence.watch(BrowserSignals(connected=connected))
    assert presence.gone(clock.now) is None
    return presence


def test_presence_a_dropped_connection_counts_after_the_grace_without_frames() -> None:
    clock = _Clock()
    connected = _Probe(True)
    presence = _presence(clock, connected)
    connected.value = False
    dropped_at = clock.now
    assert presence.gone(dropped_at) is None  # the drop is seen; the grace starts
    clock.now += 0.9
    assert presence.gone(dropped_at) is None
    clock.now += 0.1
    assert "Streamlit connection dropped" in presence.gone(dropped_at)
    connected.value = True  # a reconnect without media (a reload) does not undo it
    assert presence.gone(dropped_at) is not None


def test_presence_media_after_a_dropped_connection_means_the_browser_is_there() -> None:
    clock = _Clock()
    connected = _Probe(False)
    presence = _presence(clock, connected)
    for _ in range(10):  # frames keep coming while the websocket is down
        clock.now += 0.5
        assert presence.gone(clock.now) is None
    connected.value = True
    clock.now += 5.0
    assert presence.gone(clock.now - 5.0) is None  # reconnected: a gap is for the stall bound


def test_presence_peer_state_counts_only_after_it_was_connected() -> None:
    clock = _Clock()
    peer = _Probe("closed")  # the previous stream's worker
    presence = BrowserPresence(name="p", clock=clock, reconnect_grace_s=1.0)
    presence.watch(BrowserSignals(peer_state=peer))
    assert presence.gone(None) is None
    peer.value = "connected"
    assert presence.gone(clock.now) is None
    peer.value = "failed"
    assert presence.gone(clock.now) == "the peer connection is failed"
    presence.reset()  # a new stream
    assert presence.gone(clock.now) is None


def test_presence_a_failing_probe_is_no_sign_either_way() -> None:
    clock = _Clock()
    presence = BrowserPresence(name="p", clock=clock, reconnect_grace_s=1.0)
    presence.watch(BrowserSignals(connected=_Probe(RuntimeError("runtime gone")),
                                  peer_state=_Probe(RuntimeError("no worker"))))
    clock.now += 60.0
    assert presence.gone(clock.now - 60.0) is None


def test_the_ledger_counts_calls_gaps_and_endings() -> None:
    ledger = VoiceLedger()
    ledger.call_started()
    ledger.gap(1.5)
    ledger.gap(4.0)
    ledger.call_ended("browser gone")
    snap = ledger.snapshot()
    assert (snap.calls, snap.gaps, snap.longest_gap_s, snap.gap_seconds) == (1, 2, 4.0, 5.5)
    assert snap.ended == {"browser gone": 1}


def test_the_watchdog_ticks_until_told_there_is_nothing_to_watch() -> None:
    ticks: list[int] = []
    release = threading.Event()

    def tick() -> bool:
        ticks.append(1)
        if len(ticks) < 3:
            return True
        release.wait(WAIT)  # hold the last tick until the test holds the thread
        return False

    watchdog = UplinkWatchdog(name="parts-a", interval_s=0.001, join_timeout_s=WAIT, tick=tick)
    watchdog.start()
    [thread] = [t for t in threading.enumerate() if t.name == "parts-a-watchdog"]
    release.set()
    thread.join(WAIT)  # it ends by itself: nobody called stop()
    assert not thread.is_alive() and len(ticks) == 3
    watchdog.stop()


def test_the_watchdog_is_replaced_per_stream_and_stopped_with_a_join() -> None:
    seen = threading.Event()

    def tick() -> bool:
        seen.set()
        return True

    watchdog = UplinkWatchdog(name="parts-b", interval_s=0.001, join_timeout_s=WAIT, tick=tick)
    watchdog.start()
    watchdog.start()
    assert seen.wait(WAIT)
    assert len([t for t in threading.enumerate() if t.name == "parts-b-watchdog"]) == 1
    watchdog.stop()
    assert not [t for t in threading.enumerate() if t.name == "parts-b-watchdog"]


def test_no_interval_means_no_thread() -> None:
    watchdog = UplinkWatchdog(name="parts-c", interval_s=None, join_timeout_s=WAIT, tick=lambda: True)
    watchdog.start()
    assert not [t for t in threading.enumerate() if t.name == "parts-c-watchdog"]
    watchdog.stop()


@pytest.mark.parametrize("streaming", [True, False])
def test_reply_audio_reaches_playback_only_while_a_stream_plays(streaming: bool) -> None:
    playback = PlaybackBuffer(sample_rate=24_000, max_seconds=1.0)
    path = ReplyPath(playback, streaming=lambda: streaming, max_reply_bytes=6)
    tap = path.new_tap()
    tap.write(b"\x01\x00\x02\x00")
    tap.write(b"\x03\x00\x04\x00")  # the recorded reply is capped at 6 bytes
    path.deliver()  # the reply track's thread, before its read
    assert playback.stats().written_bytes == (8 if streaming else 0)
    tap.end_of_turn()
    assert path.replies_completed == 1 and path.wait_for_replies(1, 0.0)
    wav = path.last_reply_wav()
    assert wav is not None and wav.endswith(b"\x01\x00\x02\x00\x03\x00")
    assert path.last_reply_wav() is wav  # built once per reply


def test_an_interrupted_reply_is_forgotten_and_a_retired_tap_is_inert() -> None:
    playback = PlaybackBuffer(sample_rate=24_000, max_seconds=1.0)
    path = ReplyPath(playback, streaming=lambda: True, max_reply_bytes=1_000)
    tap = path.new_tap()
    tap.write(b"\x01\x00" * 10)
    path.deliver()
    tap.write(b"\x01\x00" * 10)  # still queued when the analyst talks over it
    tap.clear()
    path.deliver()
    assert playback.buffered_seconds == 0.0 and path.queued_bytes == 0
    tap.end_of_turn()
    assert path.last_reply_wav() is None
    tap.active = False
    tap.write(b"\x01\x00")
    tap.end_of_turn()
    path.deliver()
    assert path.replies_completed == 1 and playback.stats().written_bytes == 20


def test_consent_checks_are_relaxed_once_and_never_tightened() -> None:
    import aioice.ice

    from livechat.voice.consent import CONSENT_MISSES, relax_consent_checks

    relax_consent_checks()
    assert aioice.ice.CONSENT_FAILURES == CONSENT_MISSES
    relax_consent_checks(3)  # a smaller number never makes it stricter again
    assert aioice.ice.CONSENT_FAILURES == CONSENT_MISSES


def _tone24k(seconds: float, hz: float = 500.0) -> bytes:
    t = np.arange(int(24_000 * seconds)) / 24_000
    return (8000 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


def test_reply_audio_is_resampled_on_the_reading_thread_in_order_with_the_end_of_turn() -> None:

    playback = PlaybackBuffer(sample_rate=48_000, max_seconds=2.0)
    path = ReplyPath(playback, streaming=lambda: True, max_reply_bytes=100_000)
    tap = path.new_tap()
    reader: list[str] = []
    downlink = Downlink(playback, before_read=lambda: (reader.append(threading.current_thread().name),
                                                       path.deliver()))
    tap.write(_tone24k(0.04))
    tap.write(_tone24k(0.04))
    tap.end_of_turn()  # audio still queued: its end must come after it
    assert playback.stats().written_bytes == 0 and path.queued_bytes == 2 * 1920
    frames = [downlink.next_frame(i * 960, Fraction(1, 48_000)).to_ndarray() for i in range(6)]
    assert reader == [threading.current_thread().name] * 6 and path.queued_bytes == 0
    audio = np.concatenate(frames, axis=None)
    assert np.count_nonzero(audio[:3840]) > 3700  # 80 ms of reply, then silence
    assert not audio[4000:].any()
    stats = playback.stats()
    assert stats.written_bytes == 2 * 3840  # every sample, the filter's tail flushed at the end
    assert stats.underruns == 0  # the end of turn came after the audio, so draining is not dry


def test_reply_audio_nobody_reads_is_converted_by_the_writer_once_the_queue_is_full() -> None:

    playback = PlaybackBuffer(sample_rate=48_000, max_seconds=5.0)
    path = ReplyPath(playback, streaming=lambda: True, max_reply_bytes=1_000_000)
    tap = path.new_tap()
    chunks = int(MAX_QUEUED_SECONDS / 0.04)
    for _ in range(chunks):
        tap.write(_tone24k(0.04))
    assert playback.stats().written_bytes == 0  # within the queue's bound: left for the reader
    tap.write(_tone24k(0.04))
    assert path.queued_bytes == 0
    assert playback.buffered_seconds == pytest.approx((chunks + 1) * 0.04, abs=0.002)


def test_a_session_ending_discards_queued_and_buffered_reply_audio() -> None:

    playback = PlaybackBuffer(sample_rate=48_000, max_seconds=2.0)
    path = ReplyPath(playback, streaming=lambda: True, max_reply_bytes=100_000)
    tap = path.new_tap()
    tap.write(_tone24k(0.04))
    path.deliver()
    tap.write(_tone24k(0.04))
    path.discard()
    path.deliver()
    assert path.queued_bytes == 0 and playback.buffered_seconds == 0.0
    stats = playback.stats()
    assert stats.cleared_bytes == stats.written_bytes > 3700  # the first chunk (less the filter's
    # few held samples) was buffered and cleared; the second never reached the buffer
