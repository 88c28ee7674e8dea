"""The four sources of ICE servers, as ``livechat.ui.ice.ice_configuration`` chooses them.

Static ``ice_servers``, ``turn_urls`` + ``turn_secret`` (coturn), a managed pair
(Cloudflare / Twilio, minted by streamlit-webrtc's helpers against the local fake of
their endpoints, ``tests.fake_turn_services``), or none. Every HTTPS request of this
process goes through the fake while these tests run, so "nothing was looked up" is
checked by what it recorded. Runs in Streamlit's bare mode (no script run).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from livechat.managed_turn import REFUSED, IceRenewal, ManagedTurnError
from livechat.ui import ice, runtime
from tests.fake_turn_services import CLOUDFLARE_PAIR, RELAY_URLS, TWILIO_PAIR, FakeTurnServices, faked_providers

CLOUDFLARE = {"CLOUDFLARE_TURN_KEY_ID": CLOUDFLARE_PAIR[0], "CLOUDFLARE_TURN_KEY_API_TOKEN": CLOUDFLARE_PAIR[1]}
TWILIO = {"TWILIO_ACCOUNT_SID": TWILIO_PAIR[0], "TWILIO_AUTH_TOKEN": TWILIO_PAIR[1]}
STATIC = {"urls": ["stun:stun.example.org:3478"]}
TURN_ENV = ("LIVECHAT_TURN_URLS", "LIVECHAT_TURN_SECRET", "LIVECHAT_ICE_TRANSPORT_POLICY")


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTurnServices]:
    for name in TURN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(ice, "_RENEWAL", IceRenewal())  # no servers from another test
    with faked_providers(tmp_path, monkeypatch) as fake:
        yield fake


def _configuration(monkeypatch: pytest.MonkeyPatch, secrets: dict[str, Any]) -> dict[str, Any]:
    monkeypatch.setattr(runtime, "secrets_mapping", lambda: dict(secrets))
    return ice.ice_configuration()


def test_no_source_means_host_candidates_and_no_lookup(services: FakeTurnServices,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert _configuration(monkeypatch, {}) == {"iceServers": []}
    assert services.connects == []


def test_static_servers_win_over_a_managed_pair(services: FakeTurnServices,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert _configuration(monkeypatch, {"ice_servers": [STATIC], **CLOUDFLARE}) == {
        "iceServers": [{"urls": STATIC["urls"]}]}
    assert services.connects == []


def test_turn_urls_win_over_a_managed_pair(services: FakeTurnServices, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"turn_urls": ["turn:10.0.0.1:3478"], "turn_secret": "coturn-shared-secret", **TWILIO}
    (server,) = _configuration(monkeypatch, secrets)["iceServers"]
    assert server["urls"] == ["turn:10.0.0.1:3478"] and server["username"].split(":")[0].isdigit()
    assert services.connects == []


def test_a_cloudflare_pair_alone_is_minted_and_shared_across_runs(services: FakeTurnServices,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first = _configuration(monkeypatch, CLOUDFLARE)
    assert first == {"iceServers": [{"urls": ["stun:stun.cloudflare.com:3478"]},
                                    {"urls": list(RELAY_URLS), "username": "cf-user-1",
                                     "credential": "cf-credential-1"}]}
    assert _configuration(monkeypatch, CLOUDFLARE) == first  # a rerun: the same servers
    assert len(services.requests) == 1
    assert CLOUDFLARE_PAIR[1] not in repr(first)


def test_a_twilio_pair_from_the_environment_is_minted(services: FakeTurnServices,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in TWILIO.items():
        monkeypatch.setenv(name, value)
    servers = _configuration(monkeypatch, {})["iceServers"]
    assert [s["urls"] for s in servers] == [["stun:global.stun.twilio.com:3478"], *([u] for u in RELAY_URLS)]
    assert services.requests[0].host == "api.twilio.com"


def test_relay_only_works_with_the_minted_turn_servers(services: FakeTurnServices,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    config = _configuration(monkeypatch, {**CLOUDFLARE, "ice_transport_policy": "relay"})
    assert config["iceTransportPolicy"] == "relay" and len(config["iceServers"]) == 2


def test_a_refusal_is_an_error_not_host_candidates(services: FakeTurnServices,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    services.mode = "refuse"
    with pytest.raises(ManagedTurnError, match=REFUSED):
        _configuration(monkeypatch, CLOUDFLARE)


def test_settings_status_names_the_source_never_a_credential(services: FakeTurnServices,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "secrets_mapping", lambda: dict(CLOUDFLARE))
    status = ice.managed_turn_status()
    assert status is not None and status.error is None
    assert status.label == "Cloudflare, via streamlit-webrtc, renewed every hour"
    assert len(status.minted.servers) == 2
    assert all(secret not in repr(status) for secret in CLOUDFLARE_PAIR)
    monkeypatch.setattr(runtime, "secrets_mapping", lambda: {})
    assert ice.managed_turn_status() is None
