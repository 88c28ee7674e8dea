"""The voice bridge's parts on their own: the stream's state, the watchdog thread, the reply
path. Injected clocks and events; nothing waits on time."""

from __future__ import annotations

import threading

import pytest

from livechat.audio.playback import PlaybackBuffer
from livechat.voice.reply import ReplyPath
from livechat.voice.stream import STREAM_DROPPED_MESSAGE, StreamState
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
    assert stream.detect_stall() is None  # no stream
    stream.sync(True)
    clock.now += 4.9
    assert stream.detect_stall() is None  # waiting for the first frame (5 s)
    stream.note_frame()
    assert stream.heard_within(0.5)
    clock.now += 0.99
    assert stream.detect_stall() is None and not stream.heard_within(0.5)
    clock.now += 0.01
    message = stream.detect_stall()
    assert message is not None and "for 1 s" in message
    assert not stream.active and stream.detect_stall() is None


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
    tap.clear()
    assert playback.buffered_seconds == 0.0
    tap.end_of_turn()
    assert path.last_reply_wav() is None
    tap.active = False
    tap.write(b"\x01\x00")
    tap.end_of_turn()
    assert path.replies_completed == 1 and playback.stats().written_bytes == 20
