"""Reply audio from the Live session: into playback while a stream plays, and kept as the last reply.

Each LiveSession gets its own :class:`ReplyTap` (its ``ReplyAudioSink``), called on that
session's loop thread. The bridge deactivates a tap when it moves on to another session,
so a late write from a stopping session changes nothing. Taps feed one :class:`ReplyPath`:

- ``write``: the 24 kHz audio is queued for the reply track only while a voice stream
  plays (without one nobody reads the buffer, and stale audio would delay the next voice
  reply); it is recorded at 24 kHz, up to ``max_reply_seconds``, as the reply being spoken;
- ``deliver`` (the reply track's thread, just before each read): the queued audio is
  resampled once to the playback rate (48 kHz, what Opus codes: ``PcmStreamResampler`` of
  ``livechat.audio.pcm``, one filter kept across the reply's chunks) into the
  ``PlaybackBuffer``. Resampling there and not on the session's loop is measured
  (``bench/bench_sessions.py``, N = 50): PyAV releases the GIL inside each call, and on the
  shared Live loop every release handed the GIL to the busy media thread, so each 40 ms
  chunk cost ~100 us of CPU there against ~15 us alone; on the media thread, which holds
  the GIL most of the time anyway, the app took 0.955 core at N = 50 against 1.005 (medians
  of four interleaved rounds, ``docs/reply-latency.md`` "CPU per session"). When nobody reads (no track pulling yet, a stalled
  one), the writer converts once ``MAX_QUEUED_SECONDS`` are waiting, as before;
- ``clear`` (``interrupted``): queued audio and playback flushed at once, the
  resampler's held samples dropped, the interrupted reply forgotten;
- ``end_of_turn``: once the audio queued before it is in playback, the resampler's last
  samples follow it and the buffer is told the reply is complete (in that order, so
  draining the buffer afterwards is not an underrun); the recorded reply becomes the
  last reply (:meth:`ReplyPath.last_reply_wav`, for playing a typed question's answer
  without WebRTC) and the turn is counted.

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

__all__ = ["MAX_QUEUED_SECONDS", "ReplyPath", "ReplyTap"]

# Queued 24 kHz audio the reply track's thread has not taken yet beyond which the writer
# converts it itself (nobody is reading). Holds the emulator's first burst (its default
# pacing lead, 0.2 s: docs/emulator.md) with room to spare; how far ahead the real
# service sends is not documented, and a bigger burst is only converted on this side.
MAX_QUEUED_SECONDS = 0.5
_S16 = 2  # bytes per PCM16 sample
_END = None  # in the queue: the reply ended here (flush the filter, end the turn)


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
        # Used by the reply track's thread (deliver), the session's loop (a full queue, the
        # end of a turn with nothing queued, clear) and the script thread (reset): always
        # under _resample_lock, which also orders the queue against the playback buffer.
        self._resampler = PcmStreamResampler(REPLY_RATE, playback.sample_rate)
        self._resample_lock = threading.Lock()
        self._queue: list[bytes | None] = []  # 24 kHz chunks and _END marks, in order
        self._queued_bytes = 0
        self._max_queued_bytes = int(REPLY_RATE * MAX_QUEUED_SECONDS) * _S16
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
        """Drop what is queued and buffered for playback, the resampler's held samples and
        the reply being recorded: a new session starts, or the reply was interrupted."""
        self.discard()
        self._restart_resampler()  # its held samples belong to the reply just cut
        with self._lock:
            self._reply.clear()

    def discard(self) -> None:
        """Drop the audio queued and buffered for playback (any thread: a session ends)."""
        with self._resample_lock:
            self._queue, self._queued_bytes = [], 0
            self._playback.clear()

    @property
    def queued_bytes(self) -> int:
        """24 kHz bytes written but not yet resampled into the playback buffer (any thread)."""
        return self._queued_bytes

    def _restart_resampler(self) -> None:
        with self._resample_lock:
            self._resampler = PcmStreamResampler(REPLY_RATE, self._playback.sample_rate)
        if self.stages is not None:
            self.stages.reply_over()

    # ------------------------------------------------------------------ the reply track's thread

    def deliver(self) -> None:
        """Resample the queued reply audio into the playback buffer (just before each read)."""
        if not self._queue:  # the common case between chunks: no lock taken
            return
        with self._resample_lock:
            self._deliver_locked()

    def _deliver_locked(self) -> None:
        queue, self._queue, self._queued_bytes = self._queue, [], 0
        run: list[bytes] = []
        for item in queue:
            if item is not _END:
                run.append(item)
                continue
            pcm = self._resampler.convert(b"".join(run)) if run else b""
            run = []
            self._playback.write(pcm + self._resampler.flush())
            self._playback.end_of_turn()
        if run:
            self._playback.write(self._resampler.convert(b"".join(run)))

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
                self._queue.append(bytes(pcm))
                self._queued_bytes += len(pcm)
                if self._queued_bytes > self._max_queued_bytes:
                    self._deliver_locked()  # nobody is reading: convert here, in order
            if self.stages is not None:
                self.stages.chunk(handed, len(pcm))

    def clear(self) -> None:
        self.reset()  # ``interrupted``: nothing of the cut reply plays or is kept

    def end_of_turn(self) -> None:
        streaming = self._streaming()  # the stream's lock, not taken under ours
        with self._resample_lock:
            if self._queue:
                self._queue.append(_END)  # the track's thread ends it after the audio before it
            else:
                tail = self._resampler.flush()
                if tail and streaming:
                    self._playback.write(tail)
                self._playback.end_of_turn()
        if self.stages is not None:
            self.stages.reply_over()
        with self._lock:
            if self._reply:
                self._last_reply = bytes(self._reply)
                self._last_reply_wav = None
                self._reply.clear()
            self._replies_done += 1
            self._reply_cond.notify_all()
