"""What a Live session reports to the UI: its state, its last error and a bounded event queue.

The session's loop thread (and, for a stop before start, the caller) puts events in; the
UI's polling thread drains them with ``poll``. When the queue is full the oldest event is
dropped and counted, so a UI that stops polling never makes the session grow without bound.

Any thread: one lock guards state, last error and the queue; a condition on it wakes a
``poll`` that waits.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from livechat.live.errors import LinkFailure
from livechat.live.events import ErrorEvent, Event, SessionState, StateChanged
from livechat.live.metrics import Counter, SessionCounters

logger = logging.getLogger(__name__)


class EventOutbox:
    """State, last error and queued events of one session (any thread)."""

    def __init__(self, *, name: str, max_events: int, counters: SessionCounters,
                 observer: Callable[[Event], None] | None = None) -> None:
        self._name = name
        # Sees every event as it is emitted (the budgets' feed), on the emitting thread.
        self._observer = observer
        self._counters = counters
        self._lock = threading.Lock()
        # Signalled (under _lock) whenever an event is queued: poll(timeout) waits on it.
        self._ready = threading.Condition(self._lock)
        self._state = SessionState.CONNECTING
        self._events: deque[Event] = deque()
        self._max_events = max_events
        self._last_error: str | None = None

    @property
    def state(self) -> SessionState:
        with self._lock:
            return self._state

    @property
    def last_error(self) -> str | None:
        with self._lock:
            return self._last_error

    def emit(self, event: Event) -> None:
        """Queue an event for ``poll``; drops the oldest when full."""
        with self._lock:
            if len(self._events) >= self._max_events:
                self._events.popleft()
                self._counters.add(Counter.EVENTS_DROPPED)
            self._events.append(event)
            self._ready.notify_all()
        if self._observer is not None:
            self._observer(event)

    def set_state(self, state: SessionState, detail: str = "") -> None:
        """Move to ``state`` and report it; final states are never left."""
        with self._lock:
            if self._state == state or self._state.is_final:
                return
            self._state = state
        logger.debug("live session %s: %s %s", self._name, state, detail)
        self.emit(StateChanged(state, detail))

    def fail(self, failure: LinkFailure) -> None:
        """End in ERROR with an ErrorEvent (once; a final state is kept)."""
        with self._lock:
            self._last_error = failure.message
            final = self._state.is_final
        if final:
            return
        logger.warning("live session %s: %s", self._name, failure.message)
        self.emit(ErrorEvent(failure.message, failure.code, recoverable=False))
        self.set_state(SessionState.ERROR, failure.message)

    def retrying(self, failure: LinkFailure) -> None:
        """Report a failure the session recovers from on its own, and move to RECONNECTING."""
        with self._lock:
            self._last_error = failure.message
        self.emit(ErrorEvent(failure.message, failure.code, recoverable=True))
        self.set_state(SessionState.RECONNECTING, failure.message)

    def poll(self, timeout: float = 0.0) -> list[Event]:
        """All queued events, oldest first (drains); waits up to ``timeout`` s for one."""
        with self._lock:
            if timeout > 0 and not self._events:
                self._ready.wait(timeout)
            events = list(self._events)
            self._events.clear()
        return events
