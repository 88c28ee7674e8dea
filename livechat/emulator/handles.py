"""Session resumption: handles, and the conversation state they point to.

A conversation outlives its connections: each ``sessionResumptionUpdate`` hands
the client a fresh handle, and a later setup carrying one continues the same
conversation (turn numbering, token-count history, tool-call ids). A handle is
valid for 2 hours after the conversation's last connection ended
(LIVE_PROTOCOL 4). Resuming while an earlier connection of the same
conversation is still open is refused with 1011, as the service is reported to
do (the old socket must be closed first).

Thread affinity: server event-loop thread only.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from .errors import SessionRefused

HANDLE_VALIDITY_S = 2 * 3600
UNAVAILABLE_REASON = "The service is currently unavailable"
# Closing a socket and opening the next one races the server's clean-up of the
# first; wait this long for it before calling the resume a concurrent one.
_OLD_CONNECTION_GRACE_S = 1.0


@dataclass
class ConversationState:
    """Everything a resumed session inherits."""

    first_session: str
    started_at: float  # wall clock (the server's clock), for the session duration limit
    turns: int = 0
    history_tokens: int = 0
    tool_calls: int = 0
    last_session: str = ""
    open_connection: str | None = None
    ended_at: float | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def attach(self, session_id: str) -> None:
        self.open_connection = session_id
        self.last_session = session_id
        self.closed.clear()

    def detach(self, session_id: str, *, now: float) -> None:
        if self.open_connection == session_id:
            self.open_connection = None
            self.ended_at = now
            self.closed.set()


class HandleStore:
    """Resumption handles of one server."""

    def __init__(self) -> None:
        self._handles: dict[str, ConversationState] = {}

    def issue(self, state: ConversationState) -> str:
        """A new opaque handle for ``state``."""
        handle = "Cg" + secrets.token_urlsafe(24)
        self._handles[handle] = state
        return handle

    async def resume(self, handle: str, *, now: float) -> ConversationState:
        """The conversation ``handle`` continues; raise ``SessionRefused`` if it cannot be resumed."""
        state = self._handles.get(handle)
        if state is None:
            raise SessionRefused(1007, "Invalid session resumption handle.",
                                 "unknown session resumption handle")
        if state.open_connection is not None:
            try:
                await asyncio.wait_for(state.closed.wait(), _OLD_CONNECTION_GRACE_S)
            except asyncio.TimeoutError:
                raise SessionRefused(1011, UNAVAILABLE_REASON,
                                     f"{state.open_connection} of this conversation is still open") from None
        if state.ended_at is not None and now - state.ended_at > HANDLE_VALIDITY_S:
            raise SessionRefused(1007, "Invalid session resumption handle.",
                                 "the handle expired (valid 2 h after the session ended)")
        return state
