"""Mint request validation (livechat.emulator.auth_tokens.parse_mint_body) and the token store."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from livechat.emulator.auth_tokens import TokenStore, parse_mint_body, parse_timestamp
from livechat.emulator.errors import MintRejected, SessionRefused

NOW = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone.utc).timestamp()


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_empty_body_gets_the_service_defaults():
    parsed = parse_mint_body(b"", now=NOW, accept_nested_mask_paths=True)
    assert parsed["expire_time"] == NOW + 30 * 60
    assert parsed["new_session_expire_time"] == NOW + 60
    assert parsed["uses"] == 1 and parsed["setup"] is None and parsed["field_mask"] is None


@pytest.mark.parametrize("text, expected", [
    ("2030-01-01T12:30:00+00:00", NOW + 1800), ("2030-01-01T12:30:00Z", NOW + 1800),
    ("2030-01-01T13:30:00.123456789+01:00", NOW + 1800.123456), ("2030-01-01t12:30:00z", NOW + 1800),
])
def test_timestamps_with_offsets(text, expected):
    assert parse_timestamp(text, "expire_time") == pytest.approx(expected)


@pytest.mark.parametrize("text", ["2030-01-01T12:30:00", "2030-01-01", "tomorrow", 1893499200, "2030-13-01T00:00:00Z"])
def test_bad_timestamps(text):
    with pytest.raises(MintRejected) as info:
        parse_timestamp(text, "expire_time")
    assert info.value.http_status == 400 and "expire_time" in info.value.message


@pytest.mark.parametrize("fields, fragment", [
    ({"expireTime": "2030-01-02T08:00:00Z"}, "less than 20 hours"),
    ({"newSessionExpireTime": "2030-01-02T08:00:01Z"}, "less than 20 hours"),
    ({"expireTime": "2030-01-01T11:59:00Z"}, "in the future"),
    ({"uses": 1.5}, "Invalid value at 'uses'"),
    ({"uses": True}, "Invalid value at 'uses'"),
    ({"liveConnectConstraints": {}}, 'Unknown name "liveConnectConstraints"'),
])
def test_rejected_bodies(fields, fragment):
    with pytest.raises(MintRejected) as info:
        parse_mint_body(body(**fields), now=NOW, accept_nested_mask_paths=True)
    assert fragment in info.value.message


def test_snake_case_fields_and_string_uses_are_accepted():
    parsed = parse_mint_body(body(expire_time="2030-01-01T19:59:59Z", uses="3",
                                  bidi_generate_content_setup={"generation_config": {"response_modalities": ["AUDIO"]}},
                                  field_mask="generation_config.response_modalities"),
                             now=NOW, accept_nested_mask_paths=False)
    assert parsed["uses"] == 3
    assert parsed["setup"] == {"generationConfig": {"responseModalities": ["AUDIO"]}}
    assert parsed["field_mask"] == ["generationConfig.responseModalities"]


def test_store_counts_uses_and_enforces_new_session_expiry():
    store = TokenStore()
    token = store.mint(body(uses=2), now=NOW, accept_nested_mask_paths=True)
    assert token.name.startswith("auth_tokens/") and len(token.name) == 12 + 64
    assert store.authenticate(token.name, now=NOW) is token
    store.admit_new_session(token, "s1", now=NOW)
    store.admit_new_session(token, "s2", now=NOW + 59)
    with pytest.raises(SessionRefused, match="no uses left"):
        store.admit_new_session(token, "s3", now=NOW)
    late = store.mint(body(uses=0), now=NOW, accept_nested_mask_paths=True)
    for index in range(5):
        store.admit_new_session(late, f"u{index}", now=NOW)  # 0 means unlimited
    with pytest.raises(SessionRefused, match="newSessionExpireTime"):
        store.admit_new_session(late, "late", now=NOW + 61)
    with pytest.raises(SessionRefused, match="expired"):
        store.authenticate(late.name, now=NOW + 1800)
    with pytest.raises(SessionRefused) as info:
        store.authenticate("auth_tokens/unknown", now=NOW)
    assert info.value.code == 1008
    assert [t["sessions"] for t in store.snapshot()] == [["s1", "s2"], ["u0", "u1", "u2", "u3", "u4"]]
