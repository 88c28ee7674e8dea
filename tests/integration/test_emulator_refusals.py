"""Refusals, each the way the service refuses it, asserted on what the SDK raises."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import urllib.error
import urllib.request

import pytest
import websockets
from google.genai import errors

from tests.conftest import LIVE_MODEL, ManualClock, make_genai_client
from tests.integration.emulator_support import (constraints, live_error, live_uri, mint, only_session,
                                                receive_turn, text_turn, utc_now)

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")


def post_mint(server, body: bytes | str, *, key: str | None = "test-key", path: str = "/v1alpha/auth_tokens",
              query: str = "") -> tuple[int, dict]:
    """POST a raw body (for inputs the SDK cannot produce); return (status, JSON)."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-goog-api-key"] = key
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(server.base_url + path + query, data=data, headers=headers, method="POST")
    context = ssl.create_default_context(cafile=server.ca_file)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ------------------------------------------------------------------ Live refusals


def test_second_connection_on_a_single_use_token_is_refused(emulator):
    token = mint(emulator, uses=1, live_connect_constraints=constraints(response_modalities=["AUDIO"]))
    text_turn(emulator, token, "first")

    error = live_error(emulator, token)

    assert error.code == 1008
    refused = emulator.wait_for(lambda s: len(s) == 2 and s[1]["ended"] is not None)[1]
    assert "no uses left" in refused["ended"]["detail"]
    assert emulator.tokens()[0]["uses_left"] == 0


def test_unlimited_token_opens_several_sessions(emulator):
    token = mint(emulator, uses=0, live_connect_constraints=constraints(response_modalities=["AUDIO"]))
    for question in ("one", "two", "three"):
        assert text_turn(emulator, token, question).turn_complete
    assert emulator.tokens()[0]["uses_left"] is None


def test_expired_token_is_refused(emulator_factory):
    clock = ManualClock()
    server = emulator_factory(clock=clock)
    token = mint(server, uses=5, expire_time=utc_now() + dt.timedelta(minutes=30),
                 new_session_expire_time=utc_now() + dt.timedelta(minutes=29))
    clock.advance(31 * 60)

    error = live_error(server, token)

    assert error.code == 1008
    assert "expired" in only_session(server)["ended"]["detail"]


def test_new_session_after_new_session_expire_time_is_refused(emulator_factory):
    clock = ManualClock()
    server = emulator_factory(clock=clock)
    token = mint(server, uses=5, new_session_expire_time=utc_now() + dt.timedelta(seconds=60))
    clock.advance(61)

    error = live_error(server, token)

    assert error.code == 1008
    assert "newSessionExpireTime" in only_session(server)["ended"]["detail"]


def test_open_session_is_closed_when_the_token_expires(emulator_factory):
    clock = ManualClock()
    server = emulator_factory(clock=clock)
    token = mint(server, expire_time=utc_now() + dt.timedelta(minutes=30))

    async def expire_mid_session(session) -> None:
        await session.send_realtime_input(text="before")
        await receive_turn(session)
        clock.advance(31 * 60)
        while True:
            await receive_turn(session)

    error = live_error(server, token, after=expire_mid_session)

    assert error.code == 1008
    assert only_session(server)["turns"][0]["input"] == "before"


def test_wrong_api_key_on_live_is_1007(emulator):
    error = live_error(emulator, "not-the-key")
    assert error.code == 1007
    assert "API key not valid" in str(error)


@pytest.mark.parametrize("query, headers, code", [
    ("?access_token={token}", {}, 1008),                 # a token on the key method
    ("?key={token}", {}, 1007),                          # a token passed as a key
    ("", {}, 1008),                                      # no credential at all
])
def test_wrong_credential_on_the_key_endpoint(emulator, query, headers, code):
    token = mint(emulator)
    close = asyncio.run(_raw_close(emulator, live_uri(emulator, query=query.format(token=token))))
    assert close.code == code


def test_browser_style_access_token_works_on_constrained(emulator):
    token = mint(emulator, live_connect_constraints=constraints(output_audio_transcription={}))

    async def run() -> list[dict]:
        uri = live_uri(emulator, "BidiGenerateContentConstrained", query=f"?access_token={token}")
        async with websockets.connect(uri, ssl=ssl.create_default_context(cafile=emulator.ca_file)) as ws:
            await ws.send(json.dumps({"setup": {"model": f"models/{LIVE_MODEL}"}}))
            first = json.loads(await ws.recv())
            await ws.send(json.dumps({"realtimeInput": {"text": "hi"}}))
            messages = [first]
            while "turnComplete" not in json.dumps(messages[-1]):
                messages.append(json.loads(await ws.recv()))
            return messages

    messages = asyncio.run(asyncio.wait_for(run(), 20))
    assert messages[0] == {"setupComplete": {}}
    assert only_session(emulator)["auth"] == "token"


def test_constrained_endpoint_without_token_and_on_unlisted_version(emulator):
    close = asyncio.run(_raw_close(emulator, live_uri(emulator, "BidiGenerateContentConstrained"),
                                   headers={"x-goog-api-key": "test-key"}))
    assert close.code == 1008
    token = mint(emulator)
    close = asyncio.run(_raw_close(emulator, live_uri(emulator, "BidiGenerateContentConstrained", version="v1beta"),
                                   headers={"Authorization": f"Token {token}"}))
    assert close.code == 1008
    assert "v1alpha only" in emulator.wait_for(lambda s: len(s) == 2 and s[1]["ended"])[1]["ended"]["detail"]


def test_unknown_model_text_modality_and_bad_first_frame(emulator):
    assert live_error(emulator, "test-key", model="gemini-2.0-flash-live-001").code == 1008
    error = live_error(emulator, "test-key", config={"response_modalities": ["TEXT"]})
    assert (error.code, error.details) == (1007, "Cannot extract voices from a non-audio request.")
    close = asyncio.run(_raw_close(emulator, live_uri(emulator), headers={"x-goog-api-key": "test-key"},
                                   first={"config": {"model": LIVE_MODEL}}))
    assert close.code == 1007


def test_reasons_fit_in_a_close_frame(emulator):
    # The unregistered-callers text is longer than 123 bytes: it must arrive cut, not crash the close.
    close = asyncio.run(_raw_close(emulator, live_uri(emulator)))
    assert close.code == 1008
    assert close.reason.startswith("Method doesn't allow unregistered callers")
    assert len(close.reason.encode()) == 123


async def _raw_close(server, uri: str, headers: dict | None = None, first: dict | None = None):
    context = ssl.create_default_context(cafile=server.ca_file)
    async with websockets.connect(uri, ssl=context, additional_headers=headers or {}) as ws:
        await ws.send(json.dumps(first or {"setup": {"model": f"models/{LIVE_MODEL}"}}))
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    return info.value.rcvd


# ------------------------------------------------------------------ mint refusals


def test_wrong_key_on_mint_is_a_client_error(emulator):
    client = make_genai_client(emulator, "wrong-key")
    with pytest.raises(errors.ClientError) as info:
        client.auth_tokens.create(config={"uses": 1})
    assert info.value.code == 400
    assert info.value.status == "INVALID_ARGUMENT"
    assert info.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_missing_key_is_403_and_a_token_is_never_a_mint_credential(emulator):
    status, body = post_mint(emulator, "{}", key=None)
    assert (status, body["error"]["status"]) == (403, "PERMISSION_DENIED")
    token = mint(emulator)
    status, body = post_mint(emulator, "{}", key=token)
    assert (status, body["error"]["message"]) == (400, "API key not valid. Please pass a valid API key.")
    status, body = post_mint(emulator, "{}", key=None, query="?key=test-key")
    assert status == 200 and body["name"].startswith("auth_tokens/")


def test_naive_timestamp_is_rejected(emulator):
    client = make_genai_client(emulator, "test-key")
    with pytest.raises(errors.ClientError) as info:
        client.auth_tokens.create(config={"expire_time": dt.datetime.now() + dt.timedelta(minutes=5)})
    assert info.value.code == 400
    assert "expire_time" in info.value.message and "Timestamp" in info.value.message


def test_expiry_beyond_20_hours_is_rejected(emulator):
    client = make_genai_client(emulator, "test-key")
    with pytest.raises(errors.ClientError) as info:
        client.auth_tokens.create(config={"expire_time": utc_now() + dt.timedelta(hours=20, minutes=1)})
    assert info.value.code == 400
    assert "20 hours" in info.value.message


def test_unknown_field_is_rejected_like_the_service(emulator):
    client = make_genai_client(emulator, "test-key")
    with pytest.raises(errors.ClientError) as info:
        client.auth_tokens.create(config={"uses": 1, "http_options": {
            "extra_body": {"liveConnectConstraints": {"model": LIVE_MODEL}}}})
    assert info.value.code == 400
    assert info.value.message == 'Invalid JSON payload received. Unknown name "liveConnectConstraints": Cannot find field.'
    status, body = post_mint(emulator, json.dumps({"bidiGenerateContentSetup": {"generationConfig": {"colour": 1}}}))
    assert status == 400
    assert body["error"]["message"] == ('Invalid JSON payload received. Unknown name "colour" at '
                                        "'bidi_generate_content_setup.generation_config': Cannot find field.")


@pytest.mark.parametrize("body, expected", [
    ("{not json", "Invalid JSON payload received."),
    ('{"uses": "many"}', "Invalid value at 'uses'"),
    ('{"uses": -1}', "uses must be >= 0"),
    ('{"bidiGenerateContentSetup": {"model": "models/x", "tools": []}, "fieldMask": "model,tools.0"}',
     "field_mask is invalid for BidiGenerateContentSetup"),
    ('{"bidiGenerateContentSetup": {"model": "models/x", "tools": []}, "fieldMask": "model"}',
     "BidiGenerateContentSetup contains fields that are not specified in field_mask"),
    ('{"fieldMask": "temperature"}', "field_mask is invalid for BidiGenerateContentSetup"),
])
def test_malformed_mint_bodies(emulator, body, expected):
    status, error = post_mint(emulator, body)
    assert status == 400
    assert error["error"]["status"] == "INVALID_ARGUMENT"
    assert error["error"]["message"].startswith(expected)


def test_nested_mask_paths_are_configurable(emulator_factory):
    config = {"lock_additional_fields": [], "live_connect_constraints": constraints(system_instruction="SI")}
    strict = emulator_factory(accept_nested_mask_paths=False)
    with pytest.raises(errors.ClientError) as info:
        mint(strict, **config)
    assert info.value.code == 400 and "field_mask is invalid" in info.value.message
    lenient = emulator_factory(accept_nested_mask_paths=True)
    assert mint(lenient, **config).startswith("auth_tokens/")
    assert lenient.tokens()[0]["field_mask"] == ["model", "systemInstruction.parts", "systemInstruction.role"]


def test_other_versions_and_spellings_are_404(emulator):
    client = make_genai_client(emulator, "test-key")
    client_beta = type(client)(api_key="test-key", http_options={
        "base_url": emulator.base_url, "api_version": "v1beta",
        "client_args": {"verify": ssl.create_default_context(cafile=emulator.ca_file)}})
    with pytest.raises(errors.ClientError) as info:
        client_beta.auth_tokens.create(config={"uses": 1})
    assert info.value.code == 404
    for path in ("/v1alpha/authTokens", "/v1alpha/auth-tokens", "/v1/auth_tokens"):
        assert post_mint(emulator, "{}", path=path)[0] == 404
