"""The state of one browser session's WebRTC stream, as the bridge sees it.

:class:`StreamState` says whether the webrtc component is on (signalling or playing) and
its peer alive, when the stream started, how many microphone frames it carried, when the
last one came and which gaps it had. From that, and the browser's other signals
(:mod:`livechat.voice.presence`), :meth:`StreamState.inspect` decides what a silence of
the uplink means (docs/voice-lifecycle.md):

- **the browser is gone** (its Streamlit connection dropped and no frame came since, the
  peer connection failed or closed) or **the sink track ended** after frames flowed
  (:meth:`StreamState.peer_ended`): the call ends at once;
- **frames are late** (no frame for ``gap_threshold_s`` while nothing says the browser
  left): the uplink is paused, not ended; the gap is counted when frames return;
- **no frame for ``stall_timeout_s``** (default 15 s; none at all ``first_frame_timeout_s``
  after the start) with no other sign: the call ends, with that reason.

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
from dataclasses import dataclass

from livechat.voice.gaps import GAP_THRESHOLD_S, GapLog, UplinkGaps, VoiceLedger, voice_ledger

__all__ = [
    "END_REASONS",
    "GAP_LOG",
    "GONE_LOG",
    "STALL_LOG",
    "TRACK_ENDED_LOG",
    "STREAM_DROPPED_MESSAGE",
    "STREAM_GONE_MESSAGE",
    "STREAM_STALLED_MESSAGE",
    "Drop",
    "StreamState",
]

logger = logging.getLogger(__name__)

STREAM_DROPPED_MESSAGE = (
    "The microphone stream ended, so the voice session was closed. "
    "Press STOP, then START to talk again."
)
STREAM_GONE_MESSAGE = (
    "The browser lost its connection to the app, so the microphone stream ended and the voice "
    "session was closed. Press STOP, then START to talk again."
)
STREAM_STALLED_MESSAGE = (
    "No audio has arrived from the microphone for {seconds:g} s, so the voice session was "
    "closed. Press STOP, then START to talk again."
)

# How a call ended (the Settings page counts them): the page stopped it (STOP, or the
# component went away), the browser left, its track ended, its audio stalled beyond the
# bound, it never sent a frame, or the bridge was closed (session end, SIGTERM).
END_REASONS = ("stopped", "browser gone", "track ended", "stalled", "no first frame", "closed")

# Log lines the browser tests and operators look for (keep them stable).
GONE_LOG = "the browser is gone"
STALL_LOG = "no uplink audio for"
GAP_LOG = "microphone gap of"
TRACK_ENDED_LOG = "the uplink track ended"


@dataclass(frozen=True)
class Drop:
    """Why a live stream was dropped: one of ``END_REASONS`` and the message to report."""

    reason: str
    message: str


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
        gap_threshold_s: float = GAP_THRESHOLD_S,
        ledger: VoiceLedger | None = None,
    ) -> None:
        self._name = name
        self._clock = clock
        self._stall_timeout = stall_timeout_s
        self._first_frame_timeout = first_frame_timeout_s
        self._drop_grace = drop_notice_grace_s
        self._gap_threshold = gap_threshold_s
        self._ledger = ledger or voice_ledger()
        self._lock = threading.Lock()
        self._active = False  # the webrtc component is signalling or playing
        self._dropped = False  # the peer went away while the component still plays
        self._started_at = 0.0
        self._frames = 0  # frames of this stream
        self._last_frame_at = 0.0
        self._paused = False  # a gap is open: the uplink waits for frames (logged once)
        self._gaps = GapLog()  # this call's gaps
        # A dropped stream's message and when it dropped, until reported or the page stops.
        self._pending_drop: tuple[float, str] | None = None

    @property
    def active(self) -> bool:
        """True while the webrtc component is signalling or playing and its peer is alive."""
        with self._lock:
            return self._active

    @property
    def paused(self) -> bool:
        """True while frames are late (a gap of at least the threshold is open)."""
        with self._lock:
            return self._active and self._paused

    @property
    def last_frame_at(self) -> float | None:
        """Clock time of this stream's last frame, None before the first."""
        with self._lock:
            return self._last_frame_at if self._frames else None

    def call_gaps(self) -> tuple[int, float]:
        """This call's gaps: (count, longest in seconds)."""
        with self._lock:
            return len(self._gaps.gaps), self._gaps.longest_s

    def take_new_gaps(self) -> UplinkGaps | None:
        """The gaps that ended since the previous call of this (or None)."""
        with self._lock:
            return self._gaps.take_new()

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
                self._paused = False
                self._gaps = GapLog()
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
        """A microphone frame arrived (aiortc loop); True while the stream is on.

        A frame after a gap of at least the threshold ends the gap: it is counted (this
        call, the server's ledger) and the uplink resumes.
        """
        gap = None
        with self._lock:
            now = self._clock()
            if self._frames and now - self._last_frame_at >= self._gap_threshold:
                gap = now - self._last_frame_at
                self._gaps.add(gap)
            self._paused = False
            self._last_frame_at = now
            self._frames += 1
            active = self._active
        if gap is not None:
            self._ledger.gap(gap)
            logger.info("voice bridge %s: %s %.1f s; frames are back, the uplink resumes",
                        self._name, GAP_LOG, gap)
        return active

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
            self._drop_locked(self._clock(), STREAM_DROPPED_MESSAGE)
        logger.info("voice bridge %s: %s; stopping the session", self._name, TRACK_ENDED_LOG)
        return True

    def inspect(self, gone: str | None) -> Drop | None:
        """Decide what the uplink's state means (any thread); the drop, or None to go on.

        ``gone``: why the browser is gone (from ``BrowserPresence.gone``), or None. A gap
        of the threshold or more pauses the uplink (logged once); only the stall bound,
        with nothing else said, ends the call because of a gap.
        """
        now = self._clock()
        drop: Drop | None = None
        with self._lock:
            if not self._active:
                return None
            idle = now - (self._last_frame_at if self._frames else self._started_at)
            limit = self._stall_timeout if self._frames else self._first_frame_timeout
            if gone is not None:
                drop = Drop("browser gone", STREAM_GONE_MESSAGE)
                note = f"{GONE_LOG} ({gone}); stopping the session"
            elif idle >= limit:
                drop = Drop("stalled" if self._frames else "no first frame",
                            STREAM_STALLED_MESSAGE.format(seconds=round(limit, 1)))
                note = f"{STALL_LOG} {idle:.1f} s; stopping the session"
            elif self._frames and idle >= self._gap_threshold and not self._paused:
                self._paused = True
                note = (f"no microphone frame for {idle:.1f} s but nothing says the browser left; "
                        "the uplink pauses until frames return")
            else:
                return None
            if drop is not None:
                self._drop_locked(now, drop.message)
        logger.info("voice bridge %s: %s", self._name, note)
        return drop

    def _drop_locked(self, now: float, message: str) -> None:
        self._active = False
        self._dropped = True
        self._paused = False
        self._pending_drop = (now, message)

    def take_due_drop(self) -> str | None:
        """The drop message once the grace passed without the page stopping the stream; once."""
        with self._lock:
            pending = self._pending_drop
            if pending is None or self._clock() - pending[0] < self._drop_grace:
                return None
            self._pending_drop = None
            return pending[1]
