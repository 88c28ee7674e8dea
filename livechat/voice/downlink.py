"""The downlink: reply audio from the playback buffer to the browser, 20 ms at a time.

The bridge's :class:`~livechat.voice.track.ReplyTrack` calls :meth:`Downlink.next_frame` on
aiortc's loop at each frame's deadline; it hands back exactly 20 ms of 48 kHz mono s16,
silence when the buffer is empty. 48 kHz is what the Opus encoder codes: the reply is
resampled once, here on this thread just before the read (``before_read``, the reply
path's ``deliver``; ``livechat.voice.reply`` says why not on the session's loop), so
aiortc's encoder has no rate to convert and holds no frame back (at 24 kHz its resampler delayed every
frame by one, 20 ms; measured with aiortc 1.16). The session queues audio and clears it on
``interrupted``; this side resamples the queue and reads.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import av

from livechat.audio.pcm import BROWSER_RATE, FRAME_SECONDS, s16_frame
from livechat.audio.playback import PlaybackBuffer

__all__ = ["DOWNLINK_RATE", "Downlink"]

DOWNLINK_RATE = BROWSER_RATE  # Opus codes 48 kHz: what the browser plays
_S16 = 2  # bytes per PCM16 sample

# Called with (pts, pcm) after each read: the latency trace's hook (bench only).
ReadHook = Callable[[int, bytes], None]


class Downlink:
    """Frames for the reply track from one ``PlaybackBuffer`` (aiortc loop thread only)."""

    def __init__(
        self, playback: PlaybackBuffer, *, before_read: Callable[[], None] | None = None
    ) -> None:
        self._playback = playback
        # Runs first in every read: the reply path resamples what the session queued
        # (livechat.voice.reply: on this thread, not the session's loop).
        self._before_read = before_read
        self._samples = int(round(DOWNLINK_RATE * FRAME_SECONDS))
        self._frame_bytes = self._samples * _S16
        self.frames_out = 0  # single writer (aiortc loop); readers see whole ints under the GIL
        self.on_read: ReadHook | None = None  # latency trace (bench), None in normal runs

    @property
    def samples_per_frame(self) -> int:
        """Samples in each 20 ms frame (960)."""
        return self._samples

    def next_frame(self, pts: int, time_base: Fraction) -> av.AudioFrame:
        """The next 20 ms of reply audio, 48 kHz mono s16 (aiortc loop; silence when none)."""
        if self._before_read is not None:
            self._before_read()
        pcm = self._playback.read(self._frame_bytes)
        frame = s16_frame(pcm, "mono", DOWNLINK_RATE)  # read() returns exactly one frame's bytes
        frame.pts = pts
        frame.time_base = time_base
        self.frames_out += 1
        if self.on_read is not None:
            self.on_read(pts, pcm)
        return frame

