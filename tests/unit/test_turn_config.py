"""TURN settings (livechat.config): secrets, environment fallbacks, REST-API credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import pytest

from livechat import redact
from livechat.config import (
    ConfigError,
    TurnSettings,
    resolve_turn_settings,
    turn_credentials,
)

SECRET = "turn-shared-secret-123"


def test_nothing_configured_means_no_minting_and_policy_all() -> None:
    settings = resolve_turn_settings({}, {})
    assert settings == TurnSettings()
    assert not settings.mints_credentials and not settings.relay_only


def test_environment_fallback_reads_comma_separated_urls() -> None:
    env = {"LIVECHAT_TURN_URLS": "turn:10.0.0.1:3478, turn:10.0.0.1:3478?transport=tcp ,",
           "LIVECHAT_TURN_SECRET": SECRET, "LIVECHAT_ICE_TRANSPORT_POLICY": "Relay"}
    settings = resolve_turn_settings({}, env)
    assert settings.urls == ("turn:10.0.0.1:3478", "turn:10.0.0.1:3478?transport=tcp")
    assert settings.secret == SECRET and settings.relay_only


def test_secrets_win_over_the_environment() -> None:
    secrets = {"turn_urls": ["turns:turn.example.org:443?transport=tcp"], "turn_secret": "from-secrets",
               "ice_transport_policy": "all"}
    env = {"LIVECHAT_TURN_URLS": "turn:other:3478", "LIVECHAT_TURN_SECRET": SECRET,
           "LIVECHAT_ICE_TRANSPORT_POLICY": "relay"}
    settings = resolve_turn_settings(secrets, env)
    assert settings.urls == ("turns:turn.example.org:443?transport=tcp",)
    assert settings.secret == "from-secrets" and not settings.relay_only


@pytest.mark.parametrize(("secrets", "rule"), [
    ({"turn_urls": ["turn:t:3478"]}, "turn_secret must be set"),
    ({"turn_secret": SECRET}, "turn_urls must list"),
    ({"turn_urls": ["stun:t:3478"], "turn_secret": SECRET}, "turn: or turns: URLs"),
    ({"ice_transport_policy": "nohost"}, "must be one of all, relay"),
    ({"turn_urls": 3478, "turn_secret": SECRET}, "list of URLs"),
])
def test_broken_settings_name_the_rule(secrets: dict, rule: str) -> None:
    with pytest.raises(ConfigError, match=rule):
        resolve_turn_settings(secrets, {})


def test_the_secret_is_never_in_repr_or_messages() -> None:
    settings = resolve_turn_settings({"turn_urls": "turn:t:3478", "turn_secret": SECRET}, {})
    assert SECRET not in repr(settings)
    with pytest.raises(ConfigError) as info:
        resolve_turn_settings({"turn_secret": SECRET}, {})
    assert SECRET not in str(info.value)
    creds = turn_credentials(SECRET, "abc", now=0)
    assert creds.credential not in repr(creds)


def test_the_secret_is_masked_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    resolve_turn_settings({}, {"LIVECHAT_TURN_URLS": "turn:t:1", "LIVECHAT_TURN_SECRET": SECRET})
    assert redact.redact_text(f"secret={SECRET}") == "secret=***"


def test_credentials_follow_the_turn_rest_scheme() -> None:
    creds = turn_credentials(SECRET, "a1b2", now=1_700_000_000.7, lifetime_s=3600)
    assert creds.username == "1700003600:a1b2"
    assert creds.expires_at == 1_700_003_600
    expected = base64.b64encode(hmac.new(SECRET.encode(), b"1700003600:a1b2", hashlib.sha1).digest()).decode()
    assert creds.credential == expected
    # another session, another credential
    assert turn_credentials(SECRET, "zz", now=1_700_000_000).credential != creds.credential


@pytest.mark.parametrize("session_id", ["", "a:b"])
def test_credentials_refuse_an_unusable_user_id(session_id: str) -> None:
    with pytest.raises(ConfigError, match="without ':'"):
        turn_credentials(SECRET, session_id, now=0)
