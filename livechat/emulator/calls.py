"""The function calls of one connection: ids, what each waits for, and their session record.

A BLOCKING call holds its model turn on a future until the ``toolResponse``; a
NON_BLOCKING call (3.8's default, LIVE_PROTOCOL 8.1) only remembers its
function name until its result arrives. Ids continue across resumptions
(``ConversationState.tool_calls``); a response to an id this connection never
issued is the client's error (close 1007, as before).

Thread affinity: server event-loop thread only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import wire
from .errors import SessionRefused
from .handles import ConversationState
from .records import SessionRecord
from .replies import ToolCommand


class CallBook:
    """Open and answered calls of one ``Conversation``."""

    def __init__(self, record: SessionRecord, state: ConversationState) -> None:
        self._record = record
        self._state = state
        self._blocking: dict[str, asyncio.Future] = {}  # unanswered blocking calls
        self._futures: dict[str, asyncio.Future] = {}  # what each blocking call's turn waits on, until it reads it
        self._background: dict[str, str] = {}  # non-blocking, unanswered: id -> function name
        self._known: set[str] = set()

    def open(self, command: ToolCommand, behavior: str) -> str:
        """A new call id for ``command`` (``behavior`` BLOCKING or NON_BLOCKING), recorded."""
        self._state.tool_calls += 1
        call_id = f"function-call-{self._state.tool_calls}"
        self._known.add(call_id)
        self._record.add_tool_call({"id": call_id, "name": command.name, "args": command.args,
                                    "response": None, "cancelled": False, "behavior": behavior,
                                    "scheduling": None})
        if behavior == "BLOCKING":
            self._blocking[call_id] = self._futures[call_id] = asyncio.get_running_loop().create_future()
        else:
            self._background[call_id] = command.name
        return call_id

    async def wait(self, call_id: str) -> Any:
        """The response of blocking call ``call_id`` (raises ``CancelledError`` if it was cancelled)."""
        try:
            return await self._futures[call_id]
        finally:
            self._futures.pop(call_id, None)

    def answer(self, response: Any) -> tuple[str, str | None]:
        """Take one function response: ``("blocking", None)``, ``("background", name)`` or ``("stale", None)``.

        "stale" is an answer to a cancelled or already answered call: the service ignores it.
        """
        call_id = response.get("id") if isinstance(response, dict) else None
        if call_id not in self._known:
            raise SessionRefused(1007, wire.INVALID_ARGUMENT, f"toolResponse for unknown function call id {call_id!r}")
        if call_id in self._background:
            # willContinue: true keeps the call open for further responses (google-genai 3.6.1 FunctionResponse).
            name = self._background[call_id] if response.get("willContinue") else self._background.pop(call_id)
            return "background", name
        future = self._blocking.pop(call_id, None)
        if future is not None and not future.done():
            future.set_result(response.get("response"))
            # Recorded on arrival: the waiting turn may be interrupted before it reads the result,
            # and the service did receive it.
            self._record.update_tool_call(call_id, response=response.get("response"))
            return "blocking", None
        return "stale", None

    @property
    def blocking_pending(self) -> list[str]:
        """Ids of blocking calls still unanswered (and not cancelled)."""
        return list(self._blocking)

    @property
    def any_pending(self) -> bool:
        return bool(self.blocking_pending or self._background)

    def cancel_blocking(self) -> list[str]:
        """Cancel every unanswered blocking call (an interruption); return their ids."""
        cancelled = self.blocking_pending
        for call_id in cancelled:
            self._blocking.pop(call_id).cancel()
            self._record.update_tool_call(call_id, cancelled=True)
        return cancelled

    def close(self) -> None:
        """The connection ended: release every waiting turn."""
        for future in self._futures.values():
            future.cancel()
        self._blocking.clear()
        self._futures.clear()
