"""The downlink's pacing, deadline filling and direct send (fake clocks: no timing assertions)."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import numpy as np
import pytest
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from livechat.audio.playback import PlaybackBuffer
from livechat.voice.pacing import FramePacer
from livechat.voice.reply import ReplyPath
from livechat.voice.track import ReplyTrack, SenderTrack, install_direct_send

SPF, RATE = 960, 48_000
PTIME = SPF / RATE


class _Clock:
    """A fake clock; ``sleep`` advances it (and records the waits) instead of waiting."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def _frame(pts: int, value: int = 0) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=SPF)
    frame.planes[0].update(np.full(SPF, value, dtype="<i2").tobytes())
    frame.sample_rate = RATE
    return frame


def _track(clock: _Clock, reads: list[tuple[int, float]] | None = None) -> ReplyTrack:
    def next_frame(pts: int, time_base: Fraction) -> av.AudioFrame:
        if reads is not None:
            reads.append((pts, clock.now))
        return _frame(pts, 1)

    return ReplyTrack(next_frame, sample_rate=RATE, samples_per_frame=SPF, clock=clock, sleep=clock.sleep)


def _recv(track, n: int) -> list[av.AudioFrame]:
    async def go() -> list[av.AudioFrame]:
        return [await track.recv() for _ in range(n)]

    return asyncio.run(go())


def test_pacer_keeps_a_fixed_grid_and_absorbs_jitter_under_one_frame() -> None:
    pacer = FramePacer(samples_per_frame=SPF, sample_rate=RATE)
    first = pacer.next_slot(10.0)
    assert (first.pts, first.wait_s, first.skipped) == (0, 0.0, 0)
    early = pacer.next_slot(10.005)  # asked 15 ms before its slot
    assert early.pts == SPF and early.wait_s == pytest.approx(0.015)
    late = pacer.next_slot(10.05)  # 10 ms after its slot (due 10.04): sent at once, grid kept
    assert (late.pts, late.wait_s, late.skipped) == (2 * SPF, 0.0, 0)
    on_grid = pacer.next_slot(10.05)
    assert on_grid.pts == 3 * SPF and on_grid.wait_s == pytest.approx(0.01)  # due 10.06
    assert pacer.stalls == 0


def test_pacer_drops_to_real_time_after_a_stall_instead_of_bursting() -> None:
    pacer = FramePacer(samples_per_frame=SPF, sample_rate=RATE)
    pacer.next_slot(0.0)
    stalled = pacer.next_slot(0.2)  # slot 1 was due at 0.02: 180 ms late
    assert stalled.skipped == 9 and stalled.pts == 10 * SPF and stalled.wait_s == 0.0
    after = pacer.next_slot(0.2)  # the next frame waits for its own slot: no catch-up burst
    assert after.pts == 11 * SPF and after.wait_s == pytest.approx(0.02)
    assert (pacer.stalls, pacer.skipped_frames, pacer.frames) == (1, 9, 3)


def test_track_fills_each_frame_after_waiting_for_its_deadline() -> None:
    clock, reads = _Clock(), []
    track = _track(clock, reads)
    frames = _recv(track, 4)
    assert [f.pts for f in frames] == [0, SPF, 2 * SPF, 3 * SPF]
    assert all(f.time_base == Fraction(1, RATE) and f.sample_rate == RATE for f in frames)
    # Each frame's audio was read at its own deadline, not one frame before it.
    assert [round(t - 100.0, 6) for _, t in reads] == [0.0, 0.02, 0.04, 0.06]


def test_track_after_a_stall_sends_one_silent_frame_at_the_new_timestamp_then_audio() -> None:
    clock, reads = _Clock(), []
    track = _track(clock, reads)
    stalls: list[int] = []
    track.on_stall = stalls.append
    _recv(track, 2)
    clock.now += 0.5  # the loop was starved for half a second
    frames = _recv(track, 2)
    assert stalls == [24]
    assert not frames[0].to_ndarray().any()  # no reply audio in the frame the encoder mislabels
    assert frames[1].to_ndarray().all() and frames[1].pts == frames[0].pts + SPF
    assert len(reads) == 3  # the buffer was not read for the skipped slots: no reply audio lost


def test_direct_send_hands_the_sender_the_track_itself_and_a_new_call_ends_the_old_view() -> None:
    install_direct_send()
    install_direct_send()  # idempotent
    relay = MediaRelay()
    clock = _Clock()
    track = _track(clock)
    calls: list[int] = []
    track.on_subscribe = lambda: calls.append(1)
    view = relay.subscribe(track)
    assert isinstance(view, SenderTrack) and view.source is track
    assert relay.subscribe(view) is view  # streamlit-webrtc subscribes its relayed source again
    assert [f.pts for f in _recv(view, 2)] == [0, SPF]
    clock.now += 60.0  # a later call: a fresh grid, not a 60 s stall
    second = relay.subscribe(track)
    assert view.readyState == "ended" and calls == [1, 1]
    assert [f.pts for f in _recv(second, 1)] == [0]
    with pytest.raises(MediaStreamError):
        _recv(view, 1)
    second.stop()  # the peer connection closing ends its view, not the bridge's track
    assert track.readyState == "live"


def test_other_tracks_still_go_through_the_library_relay() -> None:
    install_direct_send()

    class _Other(MediaStreamTrack):
        kind = "audio"

        async def recv(self) -> av.AudioFrame:
            return _frame(0)

    other = _Other()
    proxy = MediaRelay().subscribe(other)
    assert proxy is not other and not isinstance(proxy, SenderTrack)


def test_reply_resampled_once_to_48k_keeps_pitch_and_clear_drops_the_filter_tail() -> None:
    playback = PlaybackBuffer(sample_rate=RATE, max_seconds=2.0)
    path = ReplyPath(playback, streaming=lambda: True, max_reply_bytes=100_000)
    tap = path.new_tap()
    t = np.arange(2400) / 24_000
    tone = (8000 * np.sin(2 * np.pi * 500 * t)).astype("<i2").tobytes()
    tap.write(tone[:1000])  # irregular chunk edges, as the service sends them
    tap.write(tone[1000:])
    tap.end_of_turn()
    assert playback.stats().written_bytes == 0  # queued: the track's thread resamples it
    path.deliver()
    out = np.frombuffer(playback.read(playback.stats().buffered_bytes), dtype="<i2")
    assert len(out) == 4800  # 100 ms at 48 kHz: nothing lost at chunk edges or the end
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    assert np.argmax(spectrum) * RATE / len(out) == pytest.approx(500.0, abs=10.0)
    tap.write(tone)
    tap.clear()  # barge-in: the buffer and the filter's held samples both go
    tap.write(bytes(960))
    tap.end_of_turn()
    path.deliver()
    assert not np.frombuffer(playback.read(playback.stats().buffered_bytes), dtype="<i2").any()
    wav = path.last_reply_wav()
    assert wav is not None and wav.endswith(bytes(960))  # the last reply is kept at 24 kHz
