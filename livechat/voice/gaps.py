"""Gaps in the microphone stream: counted per call, attributed to turns, summed per server.

A gap is a pause of at least ``GAP_THRESHOLD_S`` between two microphone frames while the
browser is still there: a frozen tab, a Wi-Fi blip, or a host too busy to run the media
threads on time. Browsers send a frame every 20 ms (silence included), so a gap is never
the analyst being quiet. Gaps do not end a call (only the stall bound does); they are
counted so that a host too small for its load is visible, not mysterious:

- :class:`GapLog`: one call's gaps, and which of them have not been reported yet;
- :class:`UplinkGaps`: the event the bridge reports when gaps ended (frames came back);
  the transcript shows them in the figures of the next reply (the turn they delayed);
- :class:`VoiceLedger` / :func:`voice_ledger`: the server process's totals (calls, gaps,
  how calls ended), shown on the Settings page.

Threads: ``GapLog`` is used under the stream state's lock (aiortc loop, watchdog, script
thread); ``VoiceLedger`` has its own lock (any thread).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

__all__ = ["GAP_THRESHOLD_S", "GapLog", "LedgerSnapshot", "UplinkGaps", "VoiceLedger", "voice_ledger"]

# Gaps shorter than this are ordinary jitter (a 20 ms frame late by a few hundred ms).
GAP_THRESHOLD_S = 1.0


@dataclass(frozen=True)
class UplinkGaps:
    """Microphone gaps over ``GAP_THRESHOLD_S`` that ended since the previous report.

    ``count`` and ``longest_s`` describe these gaps; ``call_total``: the call's gaps so far.
    """

    count: int
    longest_s: float
    call_total: int


class GapLog:
    """One call's microphone gaps (not thread-safe: its owner holds a lock)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []  # lengths in seconds, in order
        self._shown = 0  # gaps already attributed to a turn

    def add(self, seconds: float) -> None:
        self.gaps.append(seconds)

    @property
    def longest_s(self) -> float:
        return max(self.gaps, default=0.0)

    def take_new(self) -> UplinkGaps | None:
        """The gaps not reported yet, as an event; None when there are none."""
        new = self.gaps[self._shown:]
        self._shown = len(self.gaps)
        if not new:
            return None
        return UplinkGaps(len(new), round(max(new), 2), len(self.gaps))


@dataclass(frozen=True)
class LedgerSnapshot:
    """The server's voice totals since it started."""

    calls: int
    gaps: int
    longest_gap_s: float
    gap_seconds: float
    ended: dict[str, int]  # how calls ended: reason -> count


class VoiceLedger:
    """Process-wide voice totals (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._gaps = 0
        self._longest = 0.0
        self._gap_seconds = 0.0
        self._ended: Counter[str] = Counter()

    def call_started(self) -> None:
        with self._lock:
            self._calls += 1

    def gap(self, seconds: float) -> None:
        with self._lock:
            self._gaps += 1
            self._gap_seconds += seconds
            self._longest = max(self._longest, seconds)

    def call_ended(self, reason: str) -> None:
        with self._lock:
            self._ended[reason] += 1

    def snapshot(self) -> LedgerSnapshot:
        with self._lock:
            return LedgerSnapshot(self._calls, self._gaps, round(self._longest, 2),
                                  round(self._gap_seconds, 2), dict(self._ended))


_LEDGER = VoiceLedger()


def voice_ledger() -> VoiceLedger:
    """The server process's ledger (one per process: a replica shows its own)."""
    return _LEDGER
