"""The state of one browser session's WebRTC stream, as the bridge sees it.

:class:`StreamState` says whether the webrtc component is on (signalling or playing) and
its peer alive, when the stream started, how many microphone frames it carried and when
the last one came. From that it decides when the peer is gone: the sink track ended after
frames flowed (:meth:`StreamState.peer_ended`), or no frame for ``stall_timeout_s`` (none
at all ``first_frame_timeout_s`` after the start; :meth:`StreamState.detect_stall`).
Browsers send frames continuously, silence and muted tracks included, so a stall means the
peer is gone.

A dropped stream is reported only once ``drop_notice_grace_s`` passed without the page
stopping the stream (:meth:`StreamState.take_due_drop`): STOP ends the uplink track (and
its frames) before the page's run sees the component stopped, and a STOP shows no error.

Every method takes the one short lock, so any thread may call it: the script thread, the
aiortc loop (a frame, a track end), the watchdog thread. None of them blocks beyond it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["STREAM_DROPPED_MESSAGE", "STREAM_STALLED_MESSAGE", "StreamState"]

logger = logging.getLogger(__name__)

STREAM_DROPPED_MESSAGE = (
    "The microphone stream ended, so the voice session was closed. "
    "Press STOP, then START to talk again."
)
STREAM_STALLED_MESSAGE = (
    "No audio has arrived from the microphone for {seconds:g} s, so the voice session was "
    "closed. Press STOP, then START to talk again."
)


class StreamState:
    """Whether the stream is on, what it carried, and whether (and how) it dropped."""

    def __init__(
        self,
        *,
        name: str,
        clock: Callable[[], float],
        stall_timeout_s: float,
        first_frame_timeout_s: float,
        drop_notice_grace_s: float,
    ) -> None:
        self._name = name
        self._clock = clock
        self._stall_timeout = stall_timeout_s
        self._first_frame_timeout = first_frame_timeout_s
        self._drop_grace = drop_notice_grace_s
        self._lock = threading.Lock()
        self._active = False  # the webrtc component is signalling or playing
        self._dropped = False  # the peer went away while the component still plays
        self._started_at = 0.0
        self._frames = 0  # frames of this stream
        self._last_frame_at = 0.0
        # A dropped stream's message and when it dropped, until reported or the page stops.
        self._pending_drop: tuple[float, str] | None = None

    @property
    def active(self) -> bool:
        """True while the webrtc component is signalling or playing and its peer is alive."""
        with self._lock:
            return self._active

    def sync(self, active: bool) -> tuple[bool, bool, bool]:
        """Follow the component's state (script thread): ``(starting, stopping, was_active)``.

        Starting: the component came on and no drop is waiting for it to stop. Stopping:
        it went off while the stream was on or had dropped; a drop not yet reported is
        then forgotten (the page stopped it: a STOP, not an error). After a drop nothing
        starts again until the component stops.
        """
        with self._lock:
            starting = active and not self._active and not self._dropped
            stopping = not active and (self._active or self._dropped)
            was_active = self._active
            if starting:
                self._active = True
                self._started_at = self._clock()
                self._frames = 0
            elif stopping:
                self._active = False
                self._dropped = False
                if self._pending_drop is not None:
                    logger.info("voice bridge %s: the stream was stopped by the page; "
                                "not reporting it as dropped", self._name)
                self._pending_drop = None
        return starting, stopping, was_active

    def deactivate(self) -> None:
        """The stream is off (a start that failed, or the bridge closing); any thread."""
        with self._lock:
            self._active = False

    def note_frame(self) -> bool:
        """A microphone frame arrived (aiortc loop); True while the stream is on."""
        with self._lock:
            self._last_frame_at = self._clock()
            self._frames += 1
            return self._active

    def heard_within(self, seconds: float) -> bool:
        """True while the stream is on and its last frame came less than ``seconds`` ago."""
        with self._lock:
            return self._active and self._clock() - self._last_frame_at < seconds

    def peer_ended(self) -> bool:
        """The sink track ended (aiortc loop); True when that dropped a live stream.

        A late call from a previous stream arrives before any frame of the next one: only
        a stream that is on and has carried frames counts as dropped.
        """
        with self._lock:
            if not self._active or not self._frames:
                return False
            self._active = False
            self._dropped = True
            self._pending_drop = (self._clock(), STREAM_DROPPED_MESSAGE)
        logger.info("voice bridge %s: the uplink track ended; stopping the session", self._name)
        return True

    def detect_stall(self) -> str | None:
        """Mark the stream dropped when its uplink stalled (any thread); the message, or None."""
        now = self._clock()
        with self._lock:
            if not self._active:
                return None
            if self._frames:
                idle, limit = now - self._last_frame_at, self._stall_timeout
            else:
                idle, limit = now - self._started_at, self._first_frame_timeout
            if idle < limit:
                return None
            self._active = False
            self._dropped = True
            message = STREAM_STALLED_MESSAGE.format(seconds=round(limit, 1))
            self._pending_drop = (now, message)
        logger.info("voice bridge %s: no uplink audio for %.1f s; stopping the session", self._name, idle)
        return message

    def take_due_drop(self) -> str | None:
        """The drop message once the grace passed without the page stopping the stream; once."""
        with self._lock:
            pending = self._pending_drop
            if pending is None or self._clock() - pending[0] < self._drop_grace:
                return None
            self._pending_drop = None
            return pending[1]
