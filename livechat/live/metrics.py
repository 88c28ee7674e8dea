"""A Live session's bookkeeping: counters (what went in, out, dropped and recovered) and
per-turn figures (time to first reply audio, tokens counted once per turn).

``SessionCounters``: any thread (one lock; ``snapshot`` returns a copy). ``TurnClock``:
the session's loop thread only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Every counter a session keeps, with its starting value (seconds are floats).
_INITIAL: dict[str, float] = {
    "audio_chunks_in": 0,
    "audio_chunks_dropped": 0,
    "audio_messages_sent": 0,
    "audio_seconds_sent": 0.0,
    "texts_sent": 0,
    "texts_dropped": 0,
    "texts_asked_again": 0,  # typed questions re-sent after a lost connection
    "events_dropped": 0,
    "connections": 0,
    "reconnects": 0,
    "resumed": 0,
    "new_session_fallbacks": 0,
    "turns_completed": 0,
    "interruptions": 0,
    "tool_calls": 0,
    "inputs_after_tool_response": 0,
    "local_barge_ins": 0,
}


class SessionCounters:
    """Named counters of one session (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, float] = dict(_INITIAL)

    def add(self, name: str, amount: float = 1) -> None:
        """Add ``amount`` to the counter ``name`` (which must be one of the session's)."""
        with self._lock:
            self._values[name] += amount

    def snapshot(self) -> dict[str, float]:
        """A copy of every counter."""
        with self._lock:
            return dict(self._values)


class TurnClock:
    """Per-turn figures of one session: time to first reply audio, tokens counted once.

    Loop thread only. ``clock`` is injectable for tests (``time.monotonic`` by default).
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._input_at: float | None = None  # end of the latest speech batch or typed question
        self._first_audio_at: float | None = None
        self._usage: tuple[int, int, int] | None = None

    def now(self) -> float:
        return self._clock()

    def input_ended(self, at: float | None = None) -> None:
        """A typed question went out, or a batch of speech did (its end is the latest one)."""
        self._input_at = self._clock() if at is None else at

    def reply_audio(self) -> None:
        """Reply audio is being handed to playback (only the turn's first counts)."""
        if self._first_audio_at is None:
            self._first_audio_at = self._clock()

    def usage(self, prompt: int, response: int, total: int) -> None:
        """A usage block arrived; an empty one (all zero) never replaces a real one."""
        if prompt or response or total:
            self._usage = (prompt, response, total)

    def turn_complete(self) -> tuple[float | None, tuple[int, int, int] | None]:
        """The finished turn's (seconds to first audio, usage); starts the next turn."""
        first, started = self._first_audio_at, self._input_at
        seconds = None
        if first is not None and started is not None and started <= first:
            seconds = first - started
        usage = self._usage
        # Speech after the reply's first audio (a barge-in) belongs to the next turn.
        if started is not None and first is not None and started <= first:
            self._input_at = None
        elif first is None:
            self._input_at = None if started is None else started
        self._first_audio_at = None
        self._usage = None
        return seconds, usage
