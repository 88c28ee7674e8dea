"""The downlink's WebRTC track: each 20 ms frame filled at its deadline and handed straight to the sender.

streamlit-webrtc's own ``AudioSourceTrack`` reads a frame's audio *before* it sleeps to the
frame's deadline (20 ms of age on every frame), catches up with a burst after a stall, and
the library puts two buffered ``MediaRelay`` proxies (each an ``asyncio.Queue`` and a task)
between it and aiortc's sender. Measured in ``bench/bench_e2e.py``'s stage table; this
module replaces all three:

- :class:`ReplyTrack` (one per bridge, the page's ``source_audio_track``) waits for the
  frame's slot on a :class:`~livechat.voice.pacing.FramePacer` grid, *then* asks the
  bridge for the audio (``next_frame(pts, time_base)``), so a reply chunk that arrives
  during the wait goes out in that very frame. After a stall it drops to real time (see
  ``pacing``); the first frame after the jump is silence, because aiortc's Opus encoder
  (its ``AudioResampler`` with a fixed frame size) stamps the first frame after a
  timestamp jump with the old timeline (measured with aiortc 1.16 / PyAV 18): that frame
  would look 'late' to the browser, so it carries no reply audio.
- :func:`install_direct_send` makes ``MediaRelay.subscribe`` hand aiortc's sender a
  :class:`SenderTrack` view of a ``ReplyTrack`` instead of a queued proxy: ``recv`` is the
  reply track's own, no queue, no extra task, so nothing can pile up and burst. Each new
  view (a new call) restarts the grid and ends the previous view, and stopping a view (the
  peer connection closing) does not end the reply track, which the next call reuses.

Threads: ``recv`` runs on aiortc's loop (streamlit-webrtc's one global loop); the counters
may be read from anywhere.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from fractions import Fraction

import av
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from livechat.audio.pcm import s16_frame
from livechat.voice.pacing import FramePacer

__all__ = ["DirectSendError", "ReplyTrack", "SenderTrack", "install_direct_send"]

NextFrame = Callable[[int, Fraction], av.AudioFrame]


class DirectSendError(RuntimeError):
    """aiortc's ``MediaRelay`` no longer has the ``subscribe`` this module wraps."""


class ReplyTrack(MediaStreamTrack):
    """The bridge's outgoing audio track (see the module docstring)."""

    kind = "audio"

    def __init__(
        self,
        next_frame: NextFrame,
        *,
        sample_rate: int,
        samples_per_frame: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self._next_frame = next_frame
        self._rate = sample_rate
        self._spf = samples_per_frame
        self._time_base = Fraction(1, sample_rate)
        self._clock = clock
        self._sleep = sleep
        self._pacer = FramePacer(samples_per_frame=samples_per_frame, sample_rate=sample_rate)
        self._view: SenderTrack | None = None
        self._lock = threading.Lock()  # subscribe may come from another thread than recv
        # The latency trace's hooks (bench only): a new call, a stall's skipped frames.
        self.on_subscribe: Callable[[], None] | None = None
        self.on_stall: Callable[[int], None] | None = None

    @property
    def pacer(self) -> FramePacer:
        """The current call's grid (frames, stalls, skipped frames)."""
        return self._pacer

    def subscribe(self) -> SenderTrack:
        """A view for a new sender: a fresh grid, and the previous view ended."""
        with self._lock:
            previous, self._view = self._view, SenderTrack(self)
            self._pacer = FramePacer(samples_per_frame=self._spf, sample_rate=self._rate)
            view = self._view
        if previous is not None:
            previous.stop()
        if self.on_subscribe is not None:
            self.on_subscribe()
        return view

    async def recv(self) -> av.AudioFrame:
        """The next frame, at its deadline on the grid, filled after the wait."""
        if self.readyState != "live":
            raise MediaStreamError
        slot = self._pacer.next_slot(self._clock())
        if slot.wait_s > 0:
            await self._sleep(slot.wait_s)
        if slot.skipped:
            if self.on_stall is not None:
                self.on_stall(slot.skipped)
            return self._silence(slot.pts)
        frame = self._next_frame(slot.pts, self._time_base)
        frame.pts = slot.pts
        frame.time_base = self._time_base
        return frame

    def _silence(self, pts: int) -> av.AudioFrame:
        frame = s16_frame(bytes(self._spf * 2), "mono", self._rate)  # PCM16: 2 bytes a sample
        frame.pts = pts
        frame.time_base = self._time_base
        return frame


class SenderTrack(MediaStreamTrack):
    """One sender's view of a :class:`ReplyTrack`: its frames, directly, until stopped."""

    kind = "audio"

    def __init__(self, source: ReplyTrack) -> None:
        super().__init__()
        self._source = source

    @property
    def source(self) -> ReplyTrack:
        """The reply track this view reads."""
        return self._source

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._source.recv()


_install_lock = threading.Lock()


def install_direct_send() -> None:
    """Make ``MediaRelay.subscribe`` pass reply tracks to the sender unqueued (idempotent)."""
    with _install_lock:
        original = getattr(MediaRelay, "subscribe", None)
        if original is None or not callable(original):
            raise DirectSendError("aiortc.contrib.media.MediaRelay.subscribe is gone; "
                                  "re-check livechat/voice/track.py against the installed aiortc")
        if getattr(original, "_livechat_direct", False):
            return

        def subscribe(self: MediaRelay, track: MediaStreamTrack, buffered: bool = True) -> MediaStreamTrack:
            if isinstance(track, ReplyTrack):
                return track.subscribe()
            if isinstance(track, SenderTrack):
                return track  # the library subscribes its own relayed source once more
            return original(self, track, buffered)

        subscribe._livechat_direct = True  # type: ignore[attr-defined]
        MediaRelay.subscribe = subscribe  # type: ignore[method-assign]
