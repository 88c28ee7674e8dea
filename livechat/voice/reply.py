"""Reply audio from the Live session: into playback while a stream plays, and kept as the last reply.

Each LiveSession gets its own :class:`ReplyTap` (its ``ReplyAudioSink``), called on that
session's loop thread. The bridge deactivates a tap when it moves on to another session,
so a late write from a stopping session changes nothing. Taps feed one :class:`ReplyPath`:

- ``write``: the 24 kHz audio is resampled once to the playback rate (48 kHz, what Opus
  codes: ``PcmStreamResampler`` of ``livechat.audio.pcm``, one filter kept across the
  reply's chunks) and goes to the ``PlaybackBuffer`` only while a voice stream plays
  (without one nobody reads the buffer, and stale audio would delay the next voice reply);
  it is recorded at 24 kHz, up to ``max_reply_seconds``, as the reply being spoken;
- ``clear`` (``interrupted``): playback flushed at once, the resampler's held samples
  dropped, the interrupted reply forgotten;
- ``end_of_turn``: the resampler's last samples are flushed into playback, the recorded
  reply becomes the last reply (:meth:`ReplyPath.last_reply_wav`, for playing a typed
  question's answer without WebRTC) and the turn is counted.

Counters and the last reply may be read from any thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from livechat.audio.pcm import REPLY_RATE, PcmStreamResampler
from livechat.audio.playback import PlaybackBuffer
from livechat.voice.trace import ReplyStages
from livechat.voice.wav import pcm16_wav

__all__ = ["ReplyPath", "ReplyTap"]


class ReplyTap:
    """The ReplyAudioSink of one LiveSession (its loop thread); inert once ``active`` is False."""

    def __init__(self, path: ReplyPath) -> None:
        self._path = path
        self.active = True

    def write(self, pcm24k: bytes) -> None:
        if self.active:
            self._path.write(pcm24k)

    def clear(self) -> None:
        if self.active:
            self._path.clear()

    def end_of_turn(self) -> None:
        if self.active:
            self._path.end_of_turn()


class ReplyPath:
    """Where every session's reply audio goes (see the module docstring)."""

    def __init__(
        self, playback: PlaybackBuffer, *, streaming: Callable[[], bool], max_reply_bytes: int
    ) -> None:
        self._playback = playback
        self._streaming = streaming
        self._max_reply_bytes = max_reply_bytes
        # Thread-confined in use (the session's loop) but replaced by reset() on the script
        # thread: taken under _resample_lock, which nothing else waits on.
        self._resampler = PcmStreamResampler(REPLY_RATE, playback.sample_rate)
        self._resample_lock = threading.Lock()
        self.stages: ReplyStages | None = None  # the latency trace (bench only)
        self._lock = threading.Lock()
        self._reply = bytearray()  # the reply being spoken now
        self._last_reply: bytes = b""
        self._last_reply_wav: bytes | None = None  # built on first request, per reply
        self._replies_done = 0
        self._reply_cond = threading.Condition(self._lock)

    def new_tap(self) -> ReplyTap:
        """A sink for a new session (script thread)."""
        return ReplyTap(self)

    def reset(self) -> None:
        """Forget the reply being recorded: a new session starts (script thread)."""
        with self._lock:
            self._reply.clear()
        self._restart_resampler()

    def _restart_resampler(self) -> None:
        with self._resample_lock:
            self._resampler = PcmStreamResampler(REPLY_RATE, self._playback.sample_rate)
        if self.stages is not None:
            self.stages.reply_over()

    @property
    def replies_completed(self) -> int:
        """How many model turns have completed since the bridge was created."""
        with self._lock:
            return self._replies_done

    def wait_for_replies(self, count: int, timeout: float) -> bool:
        """Wait until ``replies_completed >= count`` (any thread but the session's); True if so."""
        with self._reply_cond:
            return self._reply_cond.wait_for(lambda: self._replies_done >= count, timeout)

    def last_reply_wav(self) -> bytes | None:
        """The last completed reply as a WAV file, or None when there is none yet.

        Built once per reply: the page asks for it on every fragment run.
        """
        with self._lock:
            wav, pcm = self._last_reply_wav, self._last_reply
        if wav is not None or not pcm:
            return wav
        wav = pcm16_wav(pcm)  # outside the lock: the session's loop takes it for every chunk
        with self._lock:
            if self._last_reply is pcm:
                self._last_reply_wav = wav
        return wav

    # ------------------------------------------------------------------ the session's loop thread

    def write(self, pcm: bytes) -> None:
        streaming = self._streaming()
        with self._lock:
            room = self._max_reply_bytes - len(self._reply)
            if room > 0:
                self._reply += pcm[:room]
        if streaming:
            # Without a stream nobody reads the buffer: filling it would only delay the
            # next voice reply by stale audio.
            handed = time.time() if self.stages is not None else 0.0
            with self._resample_lock:
                self._playback.write(self._resampler.convert(pcm))
            if self.stages is not None:
                self.stages.chunk(handed, len(pcm))

    def clear(self) -> None:
        self._playback.clear()
        self._restart_resampler()  # its held samples belong to the reply just cut
        with self._lock:
            self._reply.clear()

    def end_of_turn(self) -> None:
        with self._resample_lock:
            tail = self._resampler.flush()
        if tail and self._streaming():
            self._playback.write(tail)
        if self.stages is not None:
            self.stages.reply_over()
        self._playback.end_of_turn()
        with self._lock:
            if self._reply:
                self._last_reply = bytes(self._reply)
                self._last_reply_wav = None
                self._reply.clear()
            self._replies_done += 1
            self._reply_cond.notify_all()
