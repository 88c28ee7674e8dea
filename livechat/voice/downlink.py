"""The downlink: reply audio from the playback buffer to the browser, 20 ms at a time.

The streamlit-webrtc source track calls :meth:`Downlink.next_frame` on aiortc's loop every
20 ms; it hands back exactly 20 ms of 24 kHz mono s16, silence when the buffer is empty
(aiortc's Opus encoder upsamples to 48 kHz). The session writes into the buffer and
clears it on ``interrupted``; this side only reads.
"""

from __future__ import annotations

from fractions import Fraction

import av

from livechat.audio.pcm import FRAME_SECONDS, REPLY_RATE
from livechat.audio.playback import PlaybackBuffer

__all__ = ["DOWNLINK_RATE", "Downlink"]

DOWNLINK_RATE = REPLY_RATE  # the model's reply rate; aiortc's Opus encoder upsamples to 48 kHz
_S16 = 2  # bytes per PCM16 sample


class Downlink:
    """Frames for the source track from one ``PlaybackBuffer`` (aiortc loop thread only)."""

    def __init__(self, playback: PlaybackBuffer) -> None:
        self._playback = playback
        self._frame_bytes = int(round(DOWNLINK_RATE * FRAME_SECONDS)) * _S16
        self.frames_out = 0  # single writer (aiortc loop); readers see whole ints under the GIL

    def next_frame(self, pts: int, time_base: Fraction) -> av.AudioFrame:
        """The next 20 ms of reply audio, 24 kHz mono s16 (aiortc loop; silence when none)."""
        pcm = self._playback.read(self._frame_bytes)
        # Filling a fresh frame's plane costs half of from_ndarray (measured 1.4 vs 3.1 us);
        # this runs 50 times a second per stream on the shared aiortc loop.
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // _S16)
        frame.planes[0].update(pcm)
        frame.sample_rate = DOWNLINK_RATE
        frame.pts = pts
        frame.time_base = time_base
        self.frames_out += 1
        return frame
