"""A uvicorn WebSocket protocol with two hooks ASGI does not offer.

* An abrupt TCP drop: ASGI can only close with a close frame, but the service
  sometimes just drops (the SDK then reports 1006). The protocol puts an
  ``abort`` callable into ``scope["extensions"]["livechat.emulator"]``.
* Late pongs: the ``pong_delay_s`` fault holds the answer to a client ping, so
  a client's keepalive can time out.

Thread affinity: everything here runs on the server's event-loop thread.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

EXTENSION = "livechat.emulator"


def make_ws_protocol(pong_delay: Callable[[], float]) -> type[asyncio.Protocol]:
    """A ``WebSocketsSansIOProtocol`` subclass reading the current pong delay from ``pong_delay``."""

    class EmulatorWebSocketProtocol(WebSocketsSansIOProtocol):
        def handle_connect(self, event):  # type: ignore[no-untyped-def]
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            # The ASGI task is scheduled but has not run yet: the scope can still be extended.
            if scope is not None:
                scope["extensions"][EXTENSION] = {"abort": self._abort}

        def _abort(self) -> None:
            if self.transport is not None and not self.transport.is_closing():
                self.close_sent = True
                self.transport.abort()

        def handle_ping(self) -> None:
            output = b"".join(self.conn.data_to_send())
            delay = pong_delay()
            if delay <= 0:
                self.transport.write(output)
                return

            def late_pong() -> None:
                if not self.transport.is_closing():
                    self.transport.write(output)

            self.loop.call_later(delay, late_pong)

    return EmulatorWebSocketProtocol
