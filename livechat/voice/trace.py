"""Where a reply's first audio is on its way out: stage marks for the latency benchmark.

Off unless ``LIVECHAT_VOICE_TRACE`` names a file (``bench/bench_e2e.py`` sets it for the app
it starts); then each reply appends JSON lines to it, one per stage, with the wall-clock time
``t`` (``time.time()``, comparable with the browser's clock on the same machine):

- ``received``: the reply's first audio chunk handed to the bridge by the Live session;
- ``buffered``: that chunk queued for the reply track (which resamples it to 48 kHz into
  the playback buffer just before its next read, so that cost falls in ``taken``);
- ``taken``: the first frame holding reply audio read by the track at its deadline
  (``pts``), and ``loud``: the first frame above ``LOUD_DBFS`` (``pts``, ``onset_ms`` after
  the reply's first sample);
- ``sent``: the RTP packets carrying those frames handed to the DTLS transport (``rtp``
  timestamp, ``of`` = ``taken``/``loud``), matched by timestamp in the browser's
  ``getSynchronizationSources()``;
- ``stall``: the track's grid jumped to real time (``skipped`` frames).

One voice call at a time per process (the benchmark's case): RTP timestamps are mapped to
frame pts through the first packet of each SSRC. Nothing of this runs when the variable is
unset. Any thread (one lock); the file is line-buffered and closed at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from typing import Any

from livechat.audio.pcm import rms_dbfs

__all__ = ["LOUD_DBFS", "TRACE_ENV", "ReplyTrace", "reply_trace"]

TRACE_ENV = "LIVECHAT_VOICE_TRACE"
LOUD_DBFS = -45.0  # a 20 ms frame above this is speech, not a quiet onset

_lock = threading.Lock()
_trace: ReplyTrace | None = None
_checked = False


class ReplyTrace:
    """Appends stage marks to one file (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (closed at exit)
        self._lock = threading.Lock()
        self._origins: dict[int, int] = {}  # SSRC -> RTP timestamp of its first packet (pts 0)
        self._wanted: dict[int, list[str]] = {}  # frame pts -> the marks waiting for its packet
        atexit.register(self.close)

    def mark(self, stage: str, at: float | None = None, **fields: Any) -> None:
        """Append one stage mark, stamped ``at`` (``time.time()``; default now)."""
        line = json.dumps({"stage": stage, "t": time.time() if at is None else at, **fields})
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")

    def want_packet(self, pts: int, of: str) -> None:
        """Mark ``sent`` when the packet of the frame at ``pts`` leaves."""
        with self._lock:
            self._wanted.setdefault(pts, []).append(of)

    def packet(self, data: bytes) -> None:
        """An outgoing RTP packet (the DTLS transport's hook)."""
        if len(data) < 12:
            return
        ssrc = int.from_bytes(data[8:12], "big")
        rtp = int.from_bytes(data[4:8], "big")
        with self._lock:
            origin = self._origins.setdefault(ssrc, rtp)
            if not self._wanted:
                return
            offset = (rtp - origin) % (1 << 32)
            done = [pts for pts in self._wanted if pts <= offset]
            marks = [(of, pts) for pts in done for of in self._wanted.pop(pts)]
        for of, pts in marks:
            self.mark("sent", of=of, rtp=(origin + pts) % (1 << 32), pts=pts, ssrc=ssrc)

    def new_call(self) -> None:
        """A new sender starts: forget the previous one's timestamps."""
        with self._lock:
            self._origins.clear()
            self._wanted.clear()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


class ReplyStages:
    """One bridge's view of the trace: which reply is on its way, and what it reached."""

    def __init__(self, trace: ReplyTrace, *, rate: int) -> None:
        self._trace = trace
        self._rate = rate
        self._lock = threading.Lock()
        self._received = False  # a reply's first chunk came; its loud frame is not yet taken
        self._marked = False  # this reply's marks are written: nothing more until the next reply
        self._first_pts: int | None = None

    def chunk(self, before: float, nbytes: int) -> None:
        """A reply chunk was buffered; ``before`` is when it was handed over."""
        with self._lock:
            if self._received or self._marked:
                return
            self._received = True
            self._marked = True
            self._first_pts = None
        self._trace.mark("received", at=before, bytes=nbytes)
        self._trace.mark("buffered", bytes=nbytes)

    def reply_over(self) -> None:
        """The reply ended or was cleared: the next chunk starts a new one."""
        with self._lock:
            self._received = False
            self._marked = False
            self._first_pts = None

    def frame(self, pts: int, pcm: bytes, audio_bytes: int) -> None:
        """The track read a frame holding ``audio_bytes`` of reply audio (the rest padding)."""
        with self._lock:
            if not self._received or audio_bytes <= 0:
                return
            first = self._first_pts is None
            if first:
                self._first_pts = pts
            loud = rms_dbfs(pcm) > LOUD_DBFS
            if loud:
                self._received = False  # done with this reply
            onset_ms = (pts - self._first_pts) * 1000.0 / self._rate
        if first:
            self._trace.mark("taken", pts=pts)
            self._trace.want_packet(pts, "taken")
        if loud:
            self._trace.mark("loud", pts=pts, onset_ms=onset_ms)
            self._trace.want_packet(pts, "loud")

    def stall(self, skipped: int) -> None:
        self._trace.mark("stall", skipped=skipped)


def reply_trace() -> ReplyTrace | None:
    """The process's trace when ``LIVECHAT_VOICE_TRACE`` is set, else None (cheap after the first call)."""
    global _trace, _checked
    if _checked:
        return _trace
    with _lock:
        if not _checked:
            path = os.environ.get(TRACE_ENV, "").strip()
            if path:
                _trace = ReplyTrace(path)
                _hook_rtp(_trace)
            _checked = True
    return _trace


def _hook_rtp(trace: ReplyTrace) -> None:
    """Let the trace see every outgoing RTP packet (RTCP excluded)."""
    from aiortc.rtcdtlstransport import RTCDtlsTransport
    from aiortc.rtp import is_rtcp

    original = RTCDtlsTransport._send_rtp

    async def send_rtp(self: RTCDtlsTransport, data: bytes) -> None:
        await original(self, data)
        if not is_rtcp(data):
            trace.packet(data)

    RTCDtlsTransport._send_rtp = send_rtp  # type: ignore[method-assign]
