"""The client recipe against the emulator: mint with the key, talk with the token."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tests.conftest import LIVE_MODEL, make_genai_client

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")


async def _one_text_turn(client, text: str, config: dict | None = None) -> list:
    messages = []
    async with client.aio.live.connect(model=LIVE_MODEL, config=config or {}) as session:
        await session.send_realtime_input(text=text)
        async for message in session.receive():
            messages.append(message)
    return messages


def test_token_recipe_text_turn_round_trip(emulator):
    key_client = make_genai_client(emulator, "test-key")
    now = dt.datetime.now(dt.timezone.utc)
    token = key_client.auth_tokens.create(config={
        "uses": 1, "expire_time": now + dt.timedelta(minutes=30),
        "new_session_expire_time": now + dt.timedelta(minutes=1),
        "live_connect_constraints": {"model": LIVE_MODEL, "config": {
            "system_instruction": "You answer questions about lighthouse logs.\nBe brief.",
            "response_modalities": ["AUDIO"], "output_audio_transcription": {}}}})
    assert token.name.startswith("auth_tokens/") and len(token.name) == len("auth_tokens/") + 64

    messages = asyncio.run(_one_text_turn(make_genai_client(emulator, token.name), "Which keeper?"))

    transcript = "".join(m.server_content.output_transcription.text for m in messages
                         if m.server_content and m.server_content.output_transcription)
    assert transcript == ('You said: "Which keeper?". My instructions begin: '
                          '"You answer questions about lighthouse logs." (53 characters).')
    audio = b"".join(m.data for m in messages if m.data)
    assert len(audio) > 24000 * 2 // 2  # at least half a second of 24 kHz PCM16
    assert messages[-1].server_content.turn_complete
    record = emulator.wait_for(lambda s: s and s[0]["ended"] is not None)[0]
    assert record["endpoint"] == "constrained" and record["auth"] == "token" and record["token"] == token.name


def test_mint_defaults_and_the_async_client(emulator):
    client = make_genai_client(emulator, "test-key")
    plain = client.auth_tokens.create()  # no config: the SDK sends an empty body

    async def mint_async() -> str:
        return (await client.aio.auth_tokens.create(config={"uses": 3})).name

    other = asyncio.run(mint_async())
    tokens = {t["name"]: t for t in emulator.tokens()}
    assert tokens[plain.name]["uses"] == 1 and tokens[plain.name]["body"] == {}
    assert tokens[other]["uses_left"] == 3
    created = dt.datetime.fromisoformat(tokens[plain.name]["created_at"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(tokens[plain.name]["expire_time"].replace("Z", "+00:00"))
    assert expires - created == dt.timedelta(minutes=30)
