"""Minting locked tokens through the real SDK against the emulator, and what they lock."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timezone

import pytest
from google.genai import errors, types

from livechat.config import ServiceConfig, make_client
from livechat.live.tokens import TokenError, amint_live_token, mint_live_token
from tests.integration.session_support import INSTRUCTION, live_settings, service_config

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]


def _connect_once(config: ServiceConfig, token: str, client_config: types.LiveConnectConfig) -> str:
    """Open a Live session with ``token``, ask one typed question, return the spoken reply text."""

    async def run() -> str:
        client = make_client(config, api_key=token)
        try:
            async with client.aio.live.connect(model=config.model, config=client_config) as session:
                await session.send_realtime_input(text="hello")
                text = ""
                async for message in session.receive():
                    content = message.server_content
                    if content and content.output_transcription:
                        text += content.output_transcription.text or ""
                return text
        finally:
            await client.aio.aclose()
            client.close()

    return asyncio.run(asyncio.wait_for(run(), 20))


def test_the_mint_body_locks_everything_and_has_no_field_mask(emulator) -> None:
    config = service_config(emulator)
    settings = live_settings(voice="Puck")
    with make_client(config, api_key=config.api_key) as client:
        name = mint_live_token(client, settings)
    assert name.startswith("auth_tokens/")
    [token] = emulator.tokens()
    body = token["body"]
    assert "fieldMask" not in body and token["field_mask"] is None
    assert body["uses"] == 1
    # Aware timestamps: the SDK sent an explicit UTC offset.
    assert body["expireTime"].endswith("+00:00") and body["newSessionExpireTime"].endswith("+00:00")
    setup = body["bidiGenerateContentSetup"]
    assert setup["systemInstruction"]["parts"] == [{"text": INSTRUCTION}]
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert "Puck" in str(setup["generationConfig"]["speechConfig"])
    for key in ("inputAudioTranscription", "outputAudioTranscription", "sessionResumption",
                "contextWindowCompression"):
        assert key in setup, key
    assert setup["model"] == f"models/{settings.model}"


def test_a_locked_token_ignores_the_clients_own_instruction(emulator) -> None:
    config = service_config(emulator)
    with make_client(config, api_key=config.api_key) as client:
        token = mint_live_token(client, live_settings())
    # Even a client that sends its own instruction gets the token's (the global lock).
    reply = _connect_once(config, token, types.LiveConnectConfig(
        system_instruction="CLIENT SIDE INSTRUCTION", response_modalities=[types.Modality.AUDIO]))
    first_line = INSTRUCTION.split("\n", 1)[0]
    assert f'"{first_line}" ({len(INSTRUCTION)} characters)' in reply
    record = emulator.wait_for(lambda s: len(s) == 1 and s[0]["ended"] is not None)[0]
    assert "CLIENT SIDE" in str(record["client_setup"])
    assert "CLIENT SIDE" not in str(record["effective_setup"])


def test_a_single_use_token_opens_one_session_only(emulator) -> None:
    config = service_config(emulator)
    with make_client(config, api_key=config.api_key) as client:
        token = mint_live_token(client, live_settings())
    _connect_once(config, token, types.LiveConnectConfig())
    with pytest.raises(errors.APIError) as caught:
        _connect_once(config, token, types.LiveConnectConfig())
    assert caught.value.code == 1008


def test_the_async_mint_builds_the_same_body(emulator) -> None:
    config = service_config(emulator)
    now = datetime.now(timezone.utc)

    async def run() -> str:
        client = make_client(config, api_key=config.api_key)
        try:
            return await amint_live_token(client, live_settings(), uses=2, now=now)
        finally:
            await client.aio.aclose()
            client.close()

    name = asyncio.run(run())
    [token] = emulator.tokens()
    assert token["name"] == name and token["uses"] == 2
    assert token["body"]["bidiGenerateContentSetup"]["systemInstruction"]["parts"][0]["text"] == INSTRUCTION


def test_a_wrong_key_is_a_clear_token_error_without_the_key(emulator) -> None:
    config = service_config(emulator, api_key="wrong-key-value")
    with make_client(config, api_key=config.api_key) as client:
        with pytest.raises(TokenError) as caught:
            mint_live_token(client, live_settings())
    assert "API key was rejected" in str(caught.value)
    assert "wrong-key-value" not in str(caught.value)
    assert caught.value.status == 400 and not caught.value.retryable


def test_a_wrong_visitor_key_says_which_key_to_check(emulator) -> None:
    """The async mint the session uses names the key the analyst pasted, in plain words."""
    config = service_config(emulator, api_key="pasted-wrong-key-value")

    async def run() -> str:
        client = make_client(config, api_key=config.api_key)
        try:
            return await amint_live_token(client, live_settings(), key_name="the Gemini API key you pasted")
        finally:
            await client.aio.aclose()
            client.close()

    with pytest.raises(TokenError) as caught:
        asyncio.run(run())
    message = str(caught.value)
    assert "not a valid key. Check the Gemini API key you pasted." in message and "API key not valid" in message
    assert "pasted-wrong-key-value" not in message and "GEMINI_API_KEY" not in message
    assert caught.value.status == 400 and emulator.tokens() == []


def test_an_unreachable_endpoint_is_a_retryable_token_error(emulator) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ServiceConfig(api_key="k-123456", base_url=f"https://127.0.0.1:{port}",
                           ca_file=emulator.ca_file)
    with make_client(config, api_key="k-123456") as client:
        with pytest.raises(TokenError) as caught:
            mint_live_token(client, live_settings())
    assert "Could not reach" in str(caught.value) and caught.value.retryable
    assert caught.value.status is None


def test_an_untrusted_certificate_is_reported_as_such(emulator) -> None:
    config = ServiceConfig(api_key="test-key", base_url=emulator.base_url)  # no CA file
    with make_client(config, api_key="test-key") as client:
        with pytest.raises(TokenError, match="not trusted.*GEMINI_CA_FILE"):
            mint_live_token(client, live_settings())
