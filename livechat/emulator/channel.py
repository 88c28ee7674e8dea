"""``Channel``: one Live WebSocket as the conversation sees it.

It serialises server messages (binary JSON frames), counts them for the
message-count faults (``malformed_after_messages``, ``close_after_messages``),
and closes exactly once: with a close frame, or, for code 1006, by dropping the
TCP connection without one. Every close is written to the session record.

Thread affinity: server event-loop thread only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from starlette.websockets import WebSocket, WebSocketState

from . import faults, wire
from .options import ABRUPT_DROP, EmulatorOptions
from .records import SessionRecord

logger = logging.getLogger(__name__)


class ChannelClosed(Exception):
    """The connection is closed (by either side); stop producing messages."""


class Channel:
    """Send, receive and close for one accepted WebSocket."""

    def __init__(self, websocket: WebSocket, record: SessionRecord, options: Callable[[], EmulatorOptions],
                 abort: Callable[[], None] | None) -> None:
        self._ws = websocket
        self._record = record
        self._options = options
        self._abort = abort
        self._send_lock = asyncio.Lock()
        self._sent = 0
        self.closed = False

    async def send(self, message: dict) -> None:
        """Send one server message, then apply any message-count fault it triggers."""
        async with self._send_lock:
            if self.closed:
                raise ChannelClosed()
            try:
                await self._ws.send_bytes(wire.encode(message))
            except Exception as exc:  # the peer went away under us
                self.closed = True
                self._record.end("connection lost while sending", None)
                raise ChannelClosed() from exc
            self._sent += 1
            self._record.count("server_messages")
            options = self._options()
            for action in faults.after_server_message(options, self._sent):
                if action == "malformed":
                    await self._ws.send_bytes(wire.MALFORMED_FRAME)
                elif action == "close":
                    await self._close_locked(options.close_code, options.close_reason or faults.INJECTED_CLOSE_REASON,
                                             f"close_after_messages fault after {self._sent} messages")
        if self.closed:
            raise ChannelClosed()

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next client frame, or ``None`` once the client has gone (or ``timeout`` passed)."""
        try:
            message: dict[str, Any] = await asyncio.wait_for(self._ws.receive(), timeout)
        except asyncio.TimeoutError:
            return None
        except RuntimeError:  # receive after disconnect
            return None
        if message["type"] == "websocket.disconnect":
            code = message.get("code")
            if not self.closed:
                self.closed = True
                self._record.end(f"client closed ({message.get('reason') or 'no reason'})", code)
            return None
        self._record.count("client_messages")
        if message.get("text") is not None:
            return message["text"]
        return message.get("bytes") or b""

    async def close(self, code: int, reason: str, detail: str | None = None) -> None:
        """Close once with ``code``/``reason`` (1006: abrupt drop); record ``detail`` too."""
        async with self._send_lock:
            await self._close_locked(code, reason, detail)

    async def _close_locked(self, code: int, reason: str, detail: str | None) -> None:
        if self.closed:
            return
        self.closed = True
        reason = wire.close_reason(reason)
        self._record.end(reason, code, detail)
        logger.info("closing %s with %s %s", self._record.id, code, detail or reason)
        if code == ABRUPT_DROP:
            if self._abort is not None:
                self._abort()
                return
            code, reason = 1011, wire.close_reason("Internal error encountered.")
        if self._ws.application_state != WebSocketState.DISCONNECTED:
            try:
                await self._ws.close(code, reason)
            except Exception:  # already gone; the record says how it ended
                logger.debug("close of %s failed: peer already gone", self._record.id)
