"""A Live session's counters: what went in, out, dropped and recovered (for diagnostics).

Any thread: one lock guards the values; ``snapshot`` returns a copy.
"""

from __future__ import annotations

import threading

# Every counter a session keeps, with its starting value (seconds are floats).
_INITIAL: dict[str, float] = {
    "audio_chunks_in": 0,
    "audio_chunks_dropped": 0,
    "audio_messages_sent": 0,
    "audio_seconds_sent": 0.0,
    "texts_sent": 0,
    "texts_dropped": 0,
    "events_dropped": 0,
    "connections": 0,
    "reconnects": 0,
    "resumed": 0,
    "new_session_fallbacks": 0,
    "turns_completed": 0,
    "interruptions": 0,
    "tool_calls": 0,
    "inputs_after_tool_response": 0,
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
