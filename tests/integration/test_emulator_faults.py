"""Every fault the emulator can inject, observed from the client side through the SDK."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from google import genai
from google.genai import errors, types

from tests.conftest import LIVE_MODEL, make_genai_client
from tests.integration.emulator_support import live_error, mint, only_session, receive_turn, receive_until

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")


def run(coro, timeout: float = 20):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_refuse_auth_refuses_every_credential(emulator):
    token = mint(emulator)
    emulator.set_options(refuse_auth=True)

    client = make_genai_client(emulator, "test-key")
    with pytest.raises(errors.ClientError) as info:
        client.auth_tokens.create(config={"uses": 1})
    assert info.value.code == 400
    assert live_error(emulator, "test-key").code == 1007
    assert live_error(emulator, token).code == 1008

    emulator.set_options(refuse_auth=False)
    assert mint(emulator).startswith("auth_tokens/")


@pytest.mark.parametrize("code", [1011, 1008, 1006])
def test_close_after_messages(emulator_factory, code):
    server = emulator_factory(close_after_messages=4, close_code=code)
    seen = []

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL) as session:  # message 1: setupComplete
            await session.send_realtime_input(text="hello")
            async for message in session.receive():
                seen.append(message)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == code
    assert len(seen) == 3  # messages 2-4, then the close (or the dropped connection)
    record = only_session(server)
    assert record["server_messages"] == 4 and record["ended"]["code"] == code


def test_setup_delay_holds_setup_complete(emulator_factory):
    server = emulator_factory(setup_delay_s=1.0)

    async def connect(timeout: float | None) -> bool:
        client = make_genai_client(server, "test-key")
        async def enter() -> bool:
            async with client.aio.live.connect(model=LIVE_MODEL) as session:
                return session.setup_complete is not None
        return await asyncio.wait_for(enter(), timeout)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(connect(0.2))
    assert asyncio.run(connect(10)) is True


def _receive_until_closed(server):
    """Receive on one API-key connection until the server closes it: (messages, the APIError info)."""
    messages = []

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL) as session:
            while True:
                async for message in session.receive():
                    messages.append(message)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    return messages, info


def test_go_away_then_close(emulator_factory):
    server = emulator_factory(go_away_after_s=0.2, go_away_time_left_s=0.3)
    messages, info = _receive_until_closed(server)
    assert [m.go_away.time_left for m in messages if m.go_away] == ["0.300s"]
    assert info.value.code == 1008
    assert info.value.details.startswith("Connection aborted because the client failed to close the connection")
    assert only_session(server)["go_away_sent"] is True


def test_connection_lifetime_sends_go_away_before_the_end(emulator_factory):
    server = emulator_factory(connection_lifetime_s=0.5)
    messages, info = _receive_until_closed(server)
    # Shorter than the service's 60 s notice: the goAway comes at once with the whole lifetime left.
    assert [m.go_away.time_left for m in messages if m.go_away] == ["0.500s"]
    assert info.value.code == 1008


@pytest.mark.parametrize("compression", [False, True])
def test_session_duration_limit_unless_compression(emulator_factory, compression):
    # With compression the limit must not fire: the later goAway close comes first instead.
    server = emulator_factory(session_duration_limit_s=0.3, go_away_after_s=0.6, go_away_time_left_s=0.1)
    config = {"context_window_compression": {"sliding_window": {}}} if compression else {}

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config=config) as session:
            while True:
                await receive_turn(session)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == (1008 if compression else 1011)


def test_malformed_frame(emulator_factory):
    # Big chunks: the test stops reading mid-reply (see test_interruption_cancels_a_pending_tool_call).
    server = emulator_factory(malformed_after_messages=2, speak_chunk_ms=2000)
    seen = []

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL) as session:
            await session.send_realtime_input(text="hello")
            async for message in session.receive():
                seen.append(message)

    with pytest.raises(ValueError, match="Failed to parse response"):
        run(scenario())
    assert len(seen) == 1  # message 2, then the non-JSON frame


@pytest.mark.parametrize("pong_delay_s, survives", [(0.0, True), (3.0, False)])
def test_pong_delay_trips_the_client_keepalive(emulator_factory, pong_delay_s, survives):
    server = emulator_factory(pong_delay_s=pong_delay_s, go_away_after_s=1.0, go_away_time_left_s=0.1)
    context = ssl.create_default_context(cafile=server.ca_file)
    # async_client_args reach websockets' connect(): a fast keepalive makes the fault quick to see.
    client = genai.Client(api_key="test-key", http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1alpha",
        async_client_args={"ssl": context, "ping_interval": 0.2, "ping_timeout": 0.3}))
    got_go_away = []

    async def scenario():
        async with client.aio.live.connect(model=LIVE_MODEL) as session:
            while True:
                async for message in session.receive():
                    got_go_away.append(message.go_away is not None)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    if survives:  # pongs in time: the connection lives until the goAway close
        assert info.value.code == 1008 and any(got_go_away)
    else:  # the client gave up on its keepalive before the goAway
        # websockets fails the connection itself (it sent 1011, received no close): the SDK says 1006.
        assert info.value.code == 1006 and not any(got_go_away)


def test_refuse_resumption(emulator_factory):
    server = emulator_factory(refuse_resumption=True)

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config={"session_resumption": {}}) as session:
            await session.send_realtime_input(text="one")
            messages = await receive_until(session, lambda m: m.session_resumption_update is not None)
        handle = messages[-1].session_resumption_update.new_handle
        async with client.aio.live.connect(model=LIVE_MODEL, config={"session_resumption": {"handle": handle}}) as s:
            await receive_turn(s)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert (info.value.code, info.value.details) == (1011, "The service is currently unavailable")


def test_spurious_interrupt_then_a_normal_turn(emulator_factory):
    server = emulator_factory(spurious_interrupt_after_s=0.1)

    async def scenario():
        client = make_genai_client(server, "test-key")
        config = {"output_audio_transcription": {}}
        async with client.aio.live.connect(model=LIVE_MODEL, config=config) as session:
            spurious = await receive_turn(session)  # nothing was said
            await session.send_realtime_input(text="after")
            return spurious, await receive_turn(session)

    spurious, normal = run(scenario())
    assert spurious.interrupted and spurious.turn_complete and not spurious.audio
    assert normal.output_text.startswith('You said: "after".') and not normal.interrupted
    record = server.wait_for(lambda s: s and s[0]["ended"] is not None)[0]
    assert record["interruptions"] == 1 and record["turns"][0]["interrupted"] is False


def test_stop_closes_open_sessions_with_1001(emulator_factory):
    server = emulator_factory()
    ready = asyncio.Event()

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL) as session:
            loop = asyncio.get_running_loop()
            loop.call_soon(ready.set)
            stopping = loop.run_in_executor(None, server.stop)
            try:
                await receive_turn(session)
            finally:
                await stopping

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert (info.value.code, info.value.details) == (1001, "going away")
