"""The bridge's Live session: one at a time, replaced, stopped and drained in order.

:class:`SessionSlot` holds the current ``LiveSession`` and the key it was made for
(dataset, budget, endpoint). ``ensure`` returns it while it is alive and the key is the
same, so a rerun never starts a second one; otherwise it stops it (``retire``) and
starts a new one from the factory, with a fresh reply tap. A stopped session is kept
until its last events are drained, so ``poll_events`` gives every session's events in
order, each tagged with the serial number of the session it came from.

Threads: the script thread holds the lifecycle lock while it replaces or stops a session
(up to ``stop_timeout_s``); ``stop_async`` (aiortc loop, watchdog) never takes it and
hands the stop to a ``<name>-stopper`` thread instead; ``close`` may come from any thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from livechat.live import Event, LiveSession, ReplyAudioSink
from livechat.voice.errors import BridgeClosedError
from livechat.voice.reply import ReplyPath, ReplyTap

__all__ = ["SessionFactory", "TaggedEvent", "SessionSlot"]

logger = logging.getLogger(__name__)

SessionFactory = Callable[[ReplyAudioSink], LiveSession]
"""Builds a not-yet-started LiveSession that writes its reply audio to the given sink."""


@dataclass(frozen=True)
class TaggedEvent:
    """An event and the serial number (1, 2, ...) of the bridge session it came from.

    Transcript turn ids are unique within one LiveSession only; the serial keeps the
    turns of consecutive sessions apart.
    """

    session: int
    event: Event


class SessionSlot:
    """The current LiveSession of one bridge, and the stopped ones not yet drained."""

    def __init__(
        self, *, name: str, stop_timeout_s: float, replies: ReplyPath
    ) -> None:
        self._name = name
        self._stop_timeout = stop_timeout_s
        self._replies = replies
        self._lifecycle = threading.RLock()
        self._session: LiveSession | None = None
        self._key: str | None = None
        self._tap: ReplyTap | None = None
        self._serial = 0  # serial number of the current session (0: none yet)
        self._retired: list[tuple[int, LiveSession]] = []  # stopped, events not yet drained
        self._stoppers_lock = threading.Lock()
        self._stoppers: list[threading.Thread] = []
        self._closed = False
        self.sessions_started = 0  # written under the lifecycle lock; read by stats()

    @property
    def session(self) -> LiveSession | None:
        """The current (possibly finished) session, or None (any thread)."""
        return self._session

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran; ``ensure`` then refuses."""
        return self._closed

    def current(self) -> tuple[LiveSession | None, int]:
        """The current session and its serial number (any thread)."""
        return self._session, self._serial

    def ensure(self, factory: SessionFactory, key: str) -> LiveSession:
        """The running session for ``key``, or a new one started with ``factory`` (script thread).

        Raises ``BridgeClosedError`` after ``close()``; whatever ``factory`` raises.
        """
        with self._lifecycle:
            if self._closed:
                raise BridgeClosedError(f"voice bridge {self._name!r} is closed; create a new one")
            current = self._session
            if current is not None and self._key == key and not current.state.is_final:
                return current
            self._retire_locked(wait=True)
            tap = self._replies.new_tap()
            session = factory(tap)
            self._session, self._key, self._tap = session, key, tap
            self._serial += 1
            self.sessions_started += 1
            self._replies.reset()
            session.start()
            logger.info("voice bridge %s: started session %s", self._name, session.name)
            return session

    def stop(self) -> bool:
        """Stop the current session within ``stop_timeout_s`` (script thread); True if it ended."""
        with self._lifecycle:
            session = self._session
            if session is None:
                return True
            if self._tap is not None:
                self._tap.active = False
            self._replies.discard()
            return session.stop(self._stop_timeout)

    def stop_async(self) -> None:
        """Stop the current session without blocking the caller (aiortc loop, watchdog).

        Deliberately does not take the lifecycle lock: the script thread may hold it for up
        to ``stop_timeout_s`` while it replaces a session, and the aiortc loop must not wait.
        """
        session, tap = self._session, self._tap
        if session is None or not session.running:
            return
        if tap is not None:
            tap.active = False
        thread = threading.Thread(
            target=session.stop, args=(self._stop_timeout,),
            name=f"{self._name}-stopper", daemon=True,
        )
        with self._stoppers_lock:
            self._stoppers = [t for t in self._stoppers if t.is_alive()]
            self._stoppers.append(thread)
        thread.start()
        self._replies.discard()

    def poll_events(self) -> tuple[list[TaggedEvent], int]:
        """Events since the last call, retired sessions first; and the current serial."""
        with self._lifecycle:
            events: list[TaggedEvent] = []
            keep: list[tuple[int, LiveSession]] = []
            for serial, old in self._retired:
                alive = old.running  # read before draining: its last events come before it ends
                events.extend(TaggedEvent(serial, e) for e in old.poll_events())
                if alive:
                    keep.append((serial, old))
            self._retired = keep
            if self._session is not None:
                events.extend(TaggedEvent(self._serial, e) for e in self._session.poll_events())
            return events, self._serial

    def close(self, join_timeout_s: float) -> None:
        """Stop the session for good and join the stopper threads (any thread; idempotent)."""
        with self._lifecycle:
            if not self._closed:
                self._closed = True
                self._retire_locked(wait=True)
        with self._stoppers_lock:
            stoppers = list(self._stoppers)
        for thread in stoppers:
            thread.join(join_timeout_s)
            if thread.is_alive():
                logger.warning("voice bridge %s: stopper %s still running after %.1f s",
                               self._name, thread.name, join_timeout_s)

    def _retire_locked(self, *, wait: bool) -> None:
        """Stop the current session and keep it until its last events are drained."""
        session = self._session
        if session is None:
            return
        if self._tap is not None:
            self._tap.active = False
        self._replies.discard()
        if wait:
            session.stop(self._stop_timeout)
        self._retired.append((self._serial, session))
        self._session, self._key, self._tap = None, None, None
