"""A Live session's bookkeeping: counters (what went in, out, dropped and recovered) and
per-turn figures (time to first reply audio, tokens counted once per turn).

``SessionCounters``: any thread (one lock; ``snapshot`` returns a copy). ``TurnClock``:
the session's loop thread only.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

class Counter(enum.Enum):
    """Every counter a session keeps; the value is its name in ``stats()``."""

    AUDIO_CHUNKS_IN = "audio_chunks_in"
    AUDIO_CHUNKS_DROPPED = "audio_chunks_dropped"
    AUDIO_MESSAGES_SENT = "audio_messages_sent"
    AUDIO_SECONDS_SENT = "audio_seconds_sent"  # a float: seconds
    TEXTS_SENT = "texts_sent"
    TEXTS_DROPPED = "texts_dropped"
    TEXTS_ASKED_AGAIN = "texts_asked_again"  # typed questions re-sent after a lost connection
    EVENTS_DROPPED = "events_dropped"
    CONNECTIONS = "connections"
    RECONNECTS = "reconnects"
    RESUMED = "resumed"
    NEW_SESSION_FALLBACKS = "new_session_fallbacks"
    TURNS_COMPLETED = "turns_completed"
    INTERRUPTIONS = "interruptions"
    TOOL_CALLS = "tool_calls"
    INPUTS_AFTER_TOOL_RESPONSE = "inputs_after_tool_response"
    LOCAL_BARGE_INS = "local_barge_ins"


class SessionCounters:
    """The counters of one session (any thread): updated by ``Counter`` member, never by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Counter, float] = {
            counter: 0.0 if counter is Counter.AUDIO_SECONDS_SENT else 0 for counter in Counter
        }

    def add(self, counter: Counter, amount: float = 1) -> None:
        """Add ``amount`` to ``counter``."""
        if not isinstance(counter, Counter):
            raise TypeError(f"counter must be a Counter member, got {counter!r}")
        with self._lock:
            self._values[counter] += amount

    def get(self, counter: Counter) -> float:
        """One counter's current value."""
        with self._lock:
            return self._values[counter]

    def snapshot(self) -> dict[str, float]:
        """A copy of every counter, by its ``stats()`` name."""
        with self._lock:
            return {counter.value: value for counter, value in self._values.items()}


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
