"""Reply-audio playback buffer between the Live session and the WebRTC output.

The Live session's loop thread writes 24 kHz mono PCM16 reply chunks as they arrive
(irregular sizes, bursts faster than real time); the WebRTC worker reads fixed-size
slices every 20 ms. This module owns that hand-off and nothing else: a bounded byte
FIFO that never blocks the writer, always hands the reader exactly what it asked for
(audio first, silence after), can be flushed at once on barge-in, and counts every
byte it accepted, dropped, flushed or played so losses are visible, not silent.

Threads: ``write``/``end_of_turn``/``clear`` are called from the Live session's loop
thread (or the UI thread for ``clear``); ``read`` from the WebRTC media worker;
``stats``/``buffered_seconds`` from anywhere (the UI's polling fragment). One lock
guards all state; no method waits on anything but that lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["PlaybackBuffer", "PlaybackConfigError", "PlaybackReadError", "PlaybackStats"]

_BYTES_PER_SAMPLE = 2  # PCM16 mono


class PlaybackConfigError(ValueError):
    """A PlaybackBuffer was constructed with an impossible rate or size."""


class PlaybackReadError(ValueError):
    """``read`` was asked for a byte count that cannot be PCM16 audio."""


@dataclass(frozen=True, slots=True)
class PlaybackStats:
    """Byte and event counters since the buffer was created (a consistent snapshot).

    Invariant: ``written_bytes == read_bytes + dropped_bytes + cleared_bytes + buffered_bytes``.
    ``read_bytes`` counts reply audio handed to the reader, not the silence padding.
    """

    dropped_bytes: int
    underruns: int
    cleared_bytes: int
    written_bytes: int
    read_bytes: int
    buffered_bytes: int = 0
    padded_bytes: int = 0


class PlaybackBuffer:
    """Bounded, thread-safe FIFO of mono PCM16 reply audio (see module docstring)."""

    def __init__(self, *, sample_rate: int = 24_000, max_seconds: float = 30.0) -> None:
        if not isinstance(sample_rate, int) or sample_rate <= 0:
            raise PlaybackConfigError(
                f"sample_rate must be a positive integer, got {sample_rate!r}"
            )
        if not max_seconds > 0:
            raise PlaybackConfigError(f"max_seconds must be positive, got {max_seconds!r}")
        self._sample_rate = sample_rate
        self._max_bytes = max(
            _BYTES_PER_SAMPLE, int(sample_rate * max_seconds) * _BYTES_PER_SAMPLE
        )
        self._lock = threading.Lock()
        # bytearray: deleting from the front only moves a start offset (amortised O(1)),
        # so consuming 20 ms slices does not memmove the whole backlog.
        self._buf = bytearray()
        # PCM16 needs whole samples: an odd trailing byte waits here for its partner.
        self._carry = b""
        # A reply is "playing" from its first written audio until end_of_turn()/clear();
        # running dry while playing is an underrun, counted once per dry spell.
        self._playing = False
        self._dry = False
        self._dropped = 0
        self._underruns = 0
        self._cleared = 0
        self._written = 0
        self._read = 0
        self._padded = 0

    @property
    def sample_rate(self) -> int:
        """Sample rate of the audio this buffer holds (Hz)."""
        return self._sample_rate

    @property
    def max_bytes(self) -> int:
        """Capacity in bytes; beyond it the oldest audio is dropped."""
        return self._max_bytes

    @property
    def buffered_seconds(self) -> float:
        """Seconds of audio waiting to be read (any thread)."""
        with self._lock:
            n = len(self._buf)
        return n / (_BYTES_PER_SAMPLE * self._sample_rate)

    def write(self, pcm: bytes | bytearray | memoryview) -> None:
        """Append mono PCM16 audio (Live loop thread). Never blocks beyond the lock.

        On overflow the OLDEST audio is dropped (a reply that far behind is stale) and
        counted in ``dropped_bytes``. An odd byte count keeps the stray byte for the
        next write, so samples never get misaligned.
        """
        if not pcm:
            return
        with self._lock:
            data = self._carry + bytes(pcm) if self._carry else pcm
            if len(data) % _BYTES_PER_SAMPLE:
                self._carry = bytes(data[-1:])
                data = data[:-1]
            else:
                self._carry = b""
            if not data:
                return
            self._written += len(data)
            self._buf += data
            excess = len(self._buf) - self._max_bytes
            if excess > 0:
                # excess is even: both len(buf) and max_bytes are multiples of 2.
                del self._buf[:excess]
                self._dropped += excess
            self._playing = True
            self._dry = False

    def read(self, n_bytes: int) -> bytes:
        """Return exactly ``n_bytes``: buffered audio first, then zero padding (media worker).

        Counts an underrun when a reply was playing (audio written, no ``end_of_turn`` or
        ``clear`` since) and the buffer could not fill this read: once per dry spell.
        """
        if n_bytes < 0 or n_bytes % _BYTES_PER_SAMPLE:
            raise PlaybackReadError(
                f"n_bytes must be a non-negative even number (whole PCM16 samples), got {n_bytes}"
            )
        with self._lock:
            have = len(self._buf)
            if have >= n_bytes:
                out = bytes(self._buf[:n_bytes])
                del self._buf[:n_bytes]
                self._read += n_bytes
                return out
            out = bytes(self._buf)
            self._buf.clear()
            self._read += have
            self._padded += n_bytes - have
            if self._playing and not self._dry:
                self._underruns += 1
                self._dry = True
        return out + bytes(n_bytes - have)

    def clear(self) -> int:
        """Drop all buffered audio at once (barge-in); returns the bytes dropped.

        Also ends the current reply, so the silence that follows is not an underrun.
        """
        with self._lock:
            n = len(self._buf)
            self._buf.clear()
            self._carry = b""
            self._cleared += n
            self._playing = False
            self._dry = False
        return n

    def end_of_turn(self) -> None:
        """Mark the current reply as complete (Live loop thread, on ``turnComplete``).

        Audio already buffered still plays; running dry afterwards is not an underrun.
        """
        with self._lock:
            self._playing = False

    def stats(self) -> PlaybackStats:
        """A consistent snapshot of the counters (any thread)."""
        with self._lock:
            return PlaybackStats(
                dropped_bytes=self._dropped,
                underruns=self._underruns,
                cleared_bytes=self._cleared,
                written_bytes=self._written,
                read_bytes=self._read,
                buffered_bytes=len(self._buf),
                padded_bytes=self._padded,
            )
