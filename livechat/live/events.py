"""Events a ``LiveSession`` reports to the UI: frozen dataclasses that cross threads.

They are created on the session's loop thread and read by whichever thread calls
``LiveSession.poll_events()`` (a Streamlit fragment). Being frozen and holding only plain
data, they need no locking once created.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class SessionState(StrEnum):
    """Where a Live session is in its life (shown as the status pill)."""

    CONNECTING = "connecting"  # minting a token, opening the websocket, awaiting setupComplete
    READY = "ready"  # setup done; waiting for the user
    LISTENING = "listening"  # the service is transcribing user speech
    RESPONDING = "responding"  # the model is speaking or transcribing its reply
    RECONNECTING = "reconnecting"  # connection lost or recycled; resuming
    CLOSED = "closed"  # ended normally (stop() or a normal close)
    ERROR = "error"  # ended by a failure; see the last ErrorEvent

    @property
    def is_final(self) -> bool:
        """True for the states a session never leaves."""
        return self in (SessionState.CLOSED, SessionState.ERROR)


Role = Literal["user", "model"]


@dataclass(frozen=True)
class StateChanged:
    """The session moved to ``state``; ``detail`` says why, in words an analyst reads.

    ``at`` is when (``time.monotonic()``), for "reconnecting for 3 s" displays and figures;
    it takes no part in equality.
    """

    state: SessionState
    detail: str = ""
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class TranscriptUpdate:
    """The transcript of one utterance so far.

    ``turn_id`` is unique within the session (across reconnections) and increases; ``text``
    is the whole utterance merged so far, so a consumer replaces, never appends. ``final``
    is True once the utterance is complete (the last update for that ``turn_id``).
    """

    turn_id: int
    role: Role
    text: str
    final: bool


@dataclass(frozen=True)
class ToolCallStarted:
    """The model asked for a tool; it now runs off the event loop."""

    call_id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCallFinished:
    """A tool call ended: ``result`` was sent back, or ``cancelled`` (not sent)."""

    call_id: str
    name: str
    result: dict[str, Any] | None
    cancelled: bool = False


@dataclass(frozen=True)
class Usage:
    """Token counts of one completed turn, counted once: the last non-empty usage block the
    service sent during the turn (it may send one at generation start, on tool calls and an
    empty one on turnComplete; LIVE_PROTOCOL.md §8.5)."""

    prompt: int
    response: int
    total: int


@dataclass(frozen=True)
class TurnFigures:
    """What one reply cost, shown as a caption under it.

    ``turn_id`` is the model utterance's ``TranscriptUpdate.turn_id`` (None when the reply
    had no transcript). ``first_audio_s``: from the end of the analyst's speech (or the
    typed question being sent) to the reply's first audio handed to playback; None when the
    reply answered no input (a tool result, proactive audio). ``tokens``: the turn's total,
    counted once (None when the service reported none). Like pipecat's TTFB and LiveKit's TTFT.
    """

    turn_id: int | None
    first_audio_s: float | None
    tokens: int | None


@dataclass(frozen=True)
class Interrupted:
    """The service cut the model's reply short (barge-in); playback was flushed."""


@dataclass(frozen=True)
class ErrorEvent:
    """Something failed. ``code`` is the websocket close code or HTTP status when known.

    ``recoverable`` is True when the session is retrying on its own (a reconnection follows)
    and False when the session has ended in ``SessionState.ERROR``.
    """

    message: str
    code: int | None = None
    recoverable: bool = False


@dataclass(frozen=True)
class Notice:
    """An informational message for the analyst, e.g. "Reconnected"."""

    message: str


Event = (
    StateChanged
    | TranscriptUpdate
    | ToolCallStarted
    | ToolCallFinished
    | Usage
    | TurnFigures
    | Interrupted
    | ErrorEvent
    | Notice
)

__all__ = [
    "ErrorEvent",
    "Event",
    "Interrupted",
    "Notice",
    "Role",
    "SessionState",
    "StateChanged",
    "ToolCallFinished",
    "ToolCallStarted",
    "TranscriptUpdate",
    "TurnFigures",
    "Usage",
]
