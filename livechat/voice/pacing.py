"""When each downlink frame is due: a steady 20 ms schedule that drops to real time after a stall.

aiortc sends an audio frame as soon as the track's ``recv()`` returns it and paces nothing
itself, so the track's schedule *is* the packet schedule the browser sees. Chromium's jitter
buffer (NetEq) raises its target delay to the worst arrival gap it saw and lets it decay
only over ~30 s, so one burst costs every later reply of the call (WebRTC's
``modules/audio_coding/neteq/delay_manager.cc``: the target is a high quantile of a histogram
of relative arrival delays with a forgetting factor; our stage figures show it in
``jitterBufferTargetDelay``). Hence:

- frame ``k`` is due at ``start + k * ptime`` (a fixed grid, no drift from sleep jitter);
- a frame up to one ``ptime`` late is sent at once (the grid absorbs small jitter);
- a frame later than that (the loop was starved, the host stalled) is **not** followed by a
  burst of catch-up frames: the grid jumps to now, and the frames that fell due meanwhile
  are skipped. Their timestamps are skipped too (``pts`` follows the wall clock), so the
  browser sees a gap in the stream, not packets arriving late, and no reply audio is lost:
  the playback buffer is simply read later.

Pure arithmetic over an injected clock reading; :class:`livechat.voice.track.ReplyTrack`
does the waiting. One instance per stream, used from one thread (aiortc's loop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FramePacer", "Slot"]


@dataclass(frozen=True)
class Slot:
    """The next frame's place on the grid: its pts, how long to wait for it, frames skipped."""

    pts: int
    wait_s: float
    skipped: int


class FramePacer:
    """The 20 ms grid of one outgoing stream (see the module docstring)."""

    def __init__(self, *, samples_per_frame: int, sample_rate: int) -> None:
        if samples_per_frame <= 0 or sample_rate <= 0:
            raise ValueError(f"samples_per_frame and sample_rate must be positive, "
                             f"got {samples_per_frame!r}, {sample_rate!r}")
        self._spf = samples_per_frame
        self._ptime = samples_per_frame / sample_rate
        self._start: float | None = None
        self._index = 0  # index of the next frame on the grid
        self.frames = 0  # frames handed out
        self.stalls = 0  # times the grid jumped to real time
        self.skipped_frames = 0  # grid slots skipped by those jumps

    @property
    def ptime(self) -> float:
        """Seconds per frame."""
        return self._ptime

    def next_slot(self, now: float) -> Slot:
        """The next frame's slot, given the clock reading ``now`` (seconds)."""
        if self._start is None:
            self._start = now
        due = self._start + self._index * self._ptime
        skipped = 0
        if now - due > self._ptime:
            # A stall: resume on the grid slot that is due now, and send it at once.
            target = int(math.floor((now - self._start) / self._ptime + 1e-9))  # 1e-9: float edges
            skipped = max(0, target - self._index)
            self._index = target
            due = self._start + self._index * self._ptime
            self.stalls += 1
            self.skipped_frames += skipped
        slot = Slot(pts=self._index * self._spf, wait_s=max(0.0, due - now), skipped=skipped)
        self._index += 1
        self.frames += 1
        return slot
