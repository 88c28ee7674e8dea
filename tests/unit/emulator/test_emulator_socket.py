"""The emulator's listening socket: its connections run with Nagle's algorithm off.

asyncio turns TCP_NODELAY on only for sockets whose ``proto`` is IPPROTO_TCP; a listener
made with proto 0 gave every accepted connection Nagle's algorithm, which held each small
reply message until the client's next packet carried the ACK.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from livechat.emulator import EmulatorStartError
from livechat.emulator.server import bind_listening_socket


def test_accepted_connections_have_tcp_nodelay() -> None:
    async def scenario() -> tuple[int, int]:
        listener = bind_listening_socket("127.0.0.1", 0)
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_client, sock=listener)
        try:
            port = listener.getsockname()[1]
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                nodelay = await asyncio.wait_for(accepted, 5.0)
            finally:
                writer.close()
            return listener.proto, nodelay
        finally:
            server.close()
            await server.wait_closed()

    proto, nodelay = asyncio.run(scenario())
    assert proto == socket.IPPROTO_TCP
    assert nodelay != 0


def test_binding_a_taken_port_names_the_address() -> None:
    first = bind_listening_socket("127.0.0.1", 0)
    try:
        first.listen()
        port = first.getsockname()[1]
        # SO_REUSEADDR does not allow two listeners on one port.
        with pytest.raises(EmulatorStartError, match=f"127.0.0.1:{port}"):
            bind_listening_socket("127.0.0.1", port).close()
    finally:
        first.close()
