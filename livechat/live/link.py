"""The state of one websocket connection of a Live session, and why a connection ended.

A ``LiveSession`` talks over one websocket at a time; each gets a fresh ``Link``. The
pieces that work on a connection (the receiver, the input sender, the tool runner) share
it. Loop thread only: nothing here is locked.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from google.genai import live


class Outcome(Enum):
    """Why a connection ended without a failure."""

    CLOSED = "closed"  # the service ended the session normally (1000)
    GOAWAY = "goaway"  # the service asked us to move (or the token expires); reconnect now


@dataclass(eq=False)
class PendingCall:
    """A tool call of this connection that has not been answered yet."""

    name: str
    blocking: bool  # the model waits for it; nothing else may be sent meanwhile
    future: asyncio.Future[Any]
    task: asyncio.Task[None] | None = None
    result: dict[str, Any] | None = None  # set when the tool has finished; then it is in ``ready``


@dataclass(eq=False)
class Link:
    """State of one websocket connection (loop thread only)."""

    session: live.AsyncSession
    go_away: bool = False
    awaiting_reply: bool = False  # a typed question was sent; its answer has not ended
    # A turn completed after the last resumption handle: the handle misses that turn.
    handle_stale: bool = False
    # Typed questions whose inputTranscription echo (if the service sends one) is swallowed,
    # oldest first (an echo may come late, after the next question was typed: LIVE_PROTOCOL
    # §8.5), and how much of the oldest one's echo has arrived so far.
    typed_echoes: deque[str] = field(default_factory=lambda: deque(maxlen=4))
    echo_seen: str = ""
    # Tool calls of this connection not answered yet, and the ids of those whose result
    # waits for the sender (responses go out before any other input).
    tools: dict[str, PendingCall] = field(default_factory=dict)
    ready: list[str] = field(default_factory=list)
    closed: bool = False

    @property
    def blocking_call_pending(self) -> bool:
        """True while the model waits for a blocking call's response."""
        return any(call.blocking for call in self.tools.values())
