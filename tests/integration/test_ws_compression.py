"""The app's Live websocket offers no permessage-deflate (real SDK, local websockets server).

Reply and microphone audio travel as base64 PCM, which barely compresses; deflating every
message cost CPU on both ends under the GIL. ``make_client`` passes ``compression=None`` to
websockets; this checks the SDK really connects without offering the extension, against a
server that would accept it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from google.genai import types
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request

from livechat.config import ServiceConfig, make_client
from livechat.emulator.tls import generate_tls_material, server_ssl_context


def test_live_connect_does_not_offer_permessage_deflate(tmp_path: Path) -> None:
    # The SDK always speaks wss://, so the server needs a certificate the client trusts.
    tls = generate_tls_material(tmp_path, hosts=("127.0.0.1",))

    async def scenario() -> tuple[str | None, list[str], dict]:
        offered: list[str | None] = []
        negotiated: list[str] = []
        setups: list[dict] = []

        def record(connection: ServerConnection, request: Request) -> None:
            offered.append(request.headers.get("Sec-WebSocket-Extensions"))

        async def handler(connection: ServerConnection) -> None:
            negotiated.extend(ext.name for ext in connection.protocol.extensions)
            setups.append(json.loads(await connection.recv()))
            await connection.send(json.dumps({"setupComplete": {}}))
            await connection.close(1000)

        # compression="deflate" (the default, spelled out): the server would accept it.
        async with serve(handler, "127.0.0.1", 0, process_request=record,
                         compression="deflate", ssl=server_ssl_context(tls)) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            config = ServiceConfig(api_key="test-key", base_url=f"https://127.0.0.1:{port}",
                                   ca_file=str(tls.ca_file))
            client = make_client(config, api_key="test-key")
            try:
                async with client.aio.live.connect(model=config.model,
                                                   config=types.LiveConnectConfig()) as session:
                    assert session.setup_complete is not None
            finally:
                await client.aio.aclose()
                client.close()
        assert len(offered) == 1
        return offered[0], negotiated, setups[0]

    offered, negotiated, setup = asyncio.run(asyncio.wait_for(scenario(), 20.0))
    assert "setup" in setup  # the SDK really spoke to this server
    assert offered is None or "permessage-deflate" not in offered
    assert negotiated == []
