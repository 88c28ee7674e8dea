"""Is the browser still there? Signals that mean it left, apart from late microphone frames.

A closed tab and a late frame are different events (docs/voice-lifecycle.md). On a loaded
host the media threads of the app or the browser stall for seconds while the analyst is
still there, so a gap in microphone frames alone says little. These signals say more:

- **the Streamlit connection**: the runtime drops a session's websocket the moment the tab
  closes, reloads or navigates away (it keeps the session ~2 min for a reconnect). A drop
  counts once ``reconnect_grace_s`` passed with no microphone frame since it: media still
  arriving means the browser is there (a websocket blip), and a reconnect without media
  (a reload: that page has a new peer connection) does not undo it;
- **the peer connection** (aiortc's ``connectionState``): ``failed`` or ``closed`` after it
  was ``connected`` in this stream (DTLS closed, ICE consent lost).

The sink track ending is the third signal; ``StreamState.peer_ended`` handles it. The UI
supplies the two probes (:class:`BrowserSignals`): this package never imports streamlit.

Threads: the watchdog thread and the script thread call :meth:`BrowserPresence.gone`;
probes are replaced by the script thread. One short lock; probes must not block.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BrowserPresence", "BrowserSignals", "PEER_GONE_STATES"]

logger = logging.getLogger(__name__)

PEER_GONE_STATES = frozenset({"failed", "closed"})


@dataclass(frozen=True)
class BrowserSignals:
    """Probes of the browser's presence, supplied by the UI (each may be None: unknown).

    ``connected()``: True while the browser session's Streamlit websocket is connected.
    ``peer_state()``: the WebRTC peer connection's ``connectionState``, or None when there
    is none. Neither may block; an exception counts as "no sign either way".
    """

    connected: Callable[[], bool] | None = None
    peer_state: Callable[[], str | None] | None = None


class BrowserPresence:
    """Decides, from the probes and the last frame's time, whether the browser is gone."""

    def __init__(self, *, name: str, clock: Callable[[], float], reconnect_grace_s: float) -> None:
        self._name = name
        self._clock = clock
        self._grace = reconnect_grace_s
        self._lock = threading.Lock()
        self._signals = BrowserSignals()
        self._disconnected_at: float | None = None  # when the connection was seen down
        self._peer_seen_connected = False

    def watch(self, signals: BrowserSignals) -> None:
        """Use these probes from now on (script thread)."""
        with self._lock:
            self._signals = signals

    def page_connected(self) -> bool | None:
        """The browser session's Streamlit connection: True, False, or None when unknown (any thread)."""
        with self._lock:
            signals = self._signals
        answer = _probe(signals.connected)
        return answer if isinstance(answer, bool) else None

    def reset(self) -> None:
        """A new stream starts: forget what the previous one saw (script thread)."""
        with self._lock:
            self._disconnected_at = None
            self._peer_seen_connected = False

    def gone(self, last_frame_at: float | None) -> str | None:
        """Why the browser is gone (a short reason for the log), or None while it may be there.

        ``last_frame_at``: the clock time of the stream's last microphone frame (None: none yet).
        """
        with self._lock:
            signals = self._signals
            now = self._clock()
            peer = _probe(signals.peer_state)
            if peer == "connected":
                self._peer_seen_connected = True
            elif peer in PEER_GONE_STATES and self._peer_seen_connected:
                return f"the peer connection is {peer}"
            connected = _probe(signals.connected)
            if connected is False:
                if self._disconnected_at is None:
                    self._disconnected_at = now
                    logger.info("voice bridge %s: the browser's Streamlit connection dropped", self._name)
            elif connected is True and self._disconnected_at is not None and last_frame_at is not None \
                    and last_frame_at > self._disconnected_at:
                self._disconnected_at = None  # back, and media came through the drop: it was there
            if self._disconnected_at is None:
                return None
            # Media still arriving keeps it alive; a reconnect with none since (a reload: that
            # page has its own peer connection) does not.
            since = now - max(self._disconnected_at, last_frame_at or self._disconnected_at)
            if since < self._grace:
                return None
            return (f"its Streamlit connection dropped {now - self._disconnected_at:.1f} s ago and no "
                    f"microphone audio came for {since:.1f} s")


def _probe(probe: Callable[[], object] | None) -> object:
    """A probe's answer; None when there is no probe or it failed (no sign either way)."""
    if probe is None:
        return None
    try:
        return probe()
    except Exception:  # a probe of a torn-down runtime or worker: say nothing
        logger.debug("browser presence probe failed", exc_info=True)
        return None
