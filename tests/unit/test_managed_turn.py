"""Managed TURN (livechat.managed_turn): the pair, the failures in plain words, the renewal.

streamlit-webrtc's own credential helpers mint here (``livechat.ui.ice._helper_mint``);
their HTTP goes to ``tests.fake_turn_services``, a local fake of Cloudflare's and Twilio's
credential endpoints (HTTPS proxy on 127.0.0.1 + a throw-away CA, see that module).
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from livechat import redact
from livechat.config import ConfigError, TurnSettings
from livechat.managed_turn import (
    CLOUDFLARE,
    REFUSED,
    TWILIO,
    UNREACHABLE,
    IceRenewal,
    ManagedTurn,
    ManagedTurnError,
    Schedule,
    ice_servers_from_answer,
    managed_turn_in_use,
    resolve_managed_turn,
)
from livechat.ui import ice
from tests.fake_turn_services import CLOUDFLARE_PAIR, RELAY_URLS, TWILIO_PAIR, FakeTurnServices, faked_providers

CF, TW = CLOUDFLARE_PAIR, TWILIO_PAIR
NOW = 1_800_000_000.0


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTurnServices]:
    """The fake providers, with this process's HTTPS sent through them."""
    with faked_providers(tmp_path, monkeypatch) as fake:
        yield fake


def _unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send HTTPS to a closed port on 127.0.0.1 (nothing listens: connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    urllib.request.install_opener(None)


CLOUDFLARE_TURN = ManagedTurn(CLOUDFLARE, *CF)
TWILIO_TURN = ManagedTurn(TWILIO, *TW)


def _renew(renewal: IceRenewal, managed: ManagedTurn, now: float):
    return renewal.servers(managed, ice._schedule(managed), ice._helper_mint(managed), now=now)


# ----------------------------------------------------------------------------- which pair


def test_no_pair_means_no_managed_service() -> None:
    assert resolve_managed_turn({}, {}) is None


def test_the_names_streamlit_webrtc_reads_in_its_order() -> None:
    cloudflare = {"CLOUDFLARE_TURN_KEY_ID": CF[0], "CLOUDFLARE_TURN_KEY_API_TOKEN": CF[1]}
    twilio = {"TWILIO_ACCOUNT_SID": TW[0], "TWILIO_AUTH_TOKEN": TW[1]}
    assert resolve_managed_turn(cloudflare, {}) == CLOUDFLARE_TURN
    assert resolve_managed_turn({}, twilio) == TWILIO_TURN  # the environment counts too
    assert resolve_managed_turn(twilio, cloudflare).service is CLOUDFLARE  # Cloudflare first
    other = {"CLOUDFLARE_TURN_KEY_ID": "env-id-000000", "CLOUDFLARE_TURN_KEY_API_TOKEN": "env-token-0000"}
    assert resolve_managed_turn(cloudflare, other) == CLOUDFLARE_TURN  # secrets win


def test_half_a_pair_names_the_missing_secret_not_the_value() -> None:
    missing = "CLOUDFLARE_TURN_KEY_ID is set but CLOUDFLARE_TURN_KEY_API_TOKEN is not"
    with pytest.raises(ConfigError, match=missing) as info:
        resolve_managed_turn({"CLOUDFLARE_TURN_KEY_ID": CF[0]}, {})
    assert CF[0] not in str(info.value)
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is set but TWILIO_ACCOUNT_SID is not"):
        resolve_managed_turn({}, {"TWILIO_AUTH_TOKEN": TW[1]})
    # A complete pair wins over another half pair, as in streamlit-webrtc.
    assert resolve_managed_turn({"CLOUDFLARE_TURN_KEY_ID": CF[0]}, {"TWILIO_ACCOUNT_SID": TW[0],
                                                                    "TWILIO_AUTH_TOKEN": TW[1]}) == TWILIO_TURN


def test_the_secrets_are_hidden_and_redacted() -> None:
    managed = resolve_managed_turn({"TWILIO_ACCOUNT_SID": TW[0], "TWILIO_AUTH_TOKEN": TW[1]}, {})
    assert TW[1] not in repr(managed) and TW[0] not in repr(managed)
    assert TW[1] not in managed.key and CF[1] not in CLOUDFLARE_TURN.key
    assert redact.redact_text(f"token {TW[1]} sid {TW[0]}") == f"token {redact.MASK} sid {redact.MASK}"


COTURN = TurnSettings(urls=("turn:t.example.org:3478",), secret="coturn-secret")
CLOUDFLARE_SECRETS = {"CLOUDFLARE_TURN_KEY_ID": CF[0], "CLOUDFLARE_TURN_KEY_API_TOKEN": CF[1]}


@pytest.mark.parametrize(("static", "turn", "expected"), [
    (False, TurnSettings(), CLOUDFLARE_TURN),  # only the pair: the managed service
    (True, TurnSettings(), None),  # static ice_servers win
    (False, COTURN, None),  # coturn's shared secret wins
])
def test_the_managed_service_is_used_only_without_another_source(static: bool, turn: TurnSettings,
                                                                  expected: ManagedTurn | None) -> None:
    assert managed_turn_in_use(static_servers=static, turn=turn, secrets=CLOUDFLARE_SECRETS, env={}) == expected
    assert managed_turn_in_use(static_servers=static, turn=turn, secrets={}, env={}) is None


def test_half_a_pair_beside_another_source_is_not_an_error() -> None:
    half = {"TWILIO_ACCOUNT_SID": TW[0]}
    assert managed_turn_in_use(static_servers=False, turn=COTURN, secrets=half, env={}) is None
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is not"):
        managed_turn_in_use(static_servers=False, turn=TurnSettings(), secrets=half, env={})


# ----------------------------------------------------------------------------- minting


def test_cloudflare_mints_through_streamlit_webrtc(services: FakeTurnServices) -> None:
    minted = _renew(IceRenewal(), CLOUDFLARE_TURN, NOW)
    assert minted.servers == ({"urls": ["stun:stun.cloudflare.com:3478"]},
                              {"urls": list(RELAY_URLS), "username": "cf-user-1", "credential": "cf-credential-1"})
    (request,) = services.requests
    assert request.path == f"/v1/turn/keys/{CF[0]}/credentials/generate-ice-servers"
    assert request.authorization == f"Bearer {CF[1]}"
    assert b'"ttl": 7200' in request.body  # the helper's own lifetime
    assert minted.expires_at == NOW + 7200
    assert redact.redact_text("cf-credential-1") == redact.MASK  # minted credentials stay out of logs


def test_twilio_mints_through_streamlit_webrtc(services: FakeTurnServices) -> None:
    minted = _renew(IceRenewal(), TWILIO_TURN, NOW)
    assert minted.servers[0] == {"urls": ["stun:global.stun.twilio.com:3478"]}  # legacy "url" dropped
    assert [s["urls"] for s in minted.servers[1:]] == [[url] for url in RELAY_URLS]
    assert all(s["username"] == "tw-user-1" for s in minted.servers[1:])
    assert services.requests[0].path == f"/2010-04-01/Accounts/{TW[0]}/Tokens.json"
    assert minted.expires_at == NOW + 3600


def test_schedules_follow_the_helpers_lifetimes() -> None:
    cloudflare, twilio = ice._schedule(CLOUDFLARE_TURN), ice._schedule(TWILIO_TURN)
    assert (cloudflare.lifetime_s, cloudflare.renew_after_s, cloudflare.every) == (7200, 3600, "every hour")
    assert (twilio.lifetime_s, twilio.renew_after_s, twilio.every) == (3600, 1800, "every 30 minutes")
    with pytest.raises(ValueError):
        Schedule(60, 60)


@pytest.mark.parametrize("managed", [CLOUDFLARE_TURN, TWILIO_TURN], ids=["cloudflare", "twilio"])
def test_servers_are_shared_until_due_then_renewed_before_expiry(services: FakeTurnServices,
                                                                managed: ManagedTurn) -> None:
    renewal = IceRenewal()
    schedule = ice._schedule(managed)
    first = _renew(renewal, managed, NOW)
    assert _renew(renewal, managed, NOW + schedule.renew_after_s - 1) is first  # no new request
    assert len(services.requests) == 1
    renewed = _renew(renewal, managed, NOW + schedule.renew_after_s)
    assert len(services.requests) == 2
    assert renewed.servers != first.servers and renewed.minted_at == NOW + schedule.renew_after_s
    assert renewed.minted_at < first.expires_at  # renewed while the first ones still worked


@pytest.mark.parametrize("managed", [CLOUDFLARE_TURN, TWILIO_TURN], ids=["cloudflare", "twilio"])
def test_a_refusal_is_said_in_plain_words(services: FakeTurnServices, managed: ManagedTurn) -> None:
    services.mode = "refuse"
    with pytest.raises(ManagedTurnError) as info:
        _renew(IceRenewal(), managed, NOW)
    assert info.value.kind == "refused"
    assert str(info.value).startswith(REFUSED)
    assert managed.service.token_name in str(info.value) and managed.token not in str(info.value)


def test_wrong_credentials_are_refused(services: FakeTurnServices) -> None:
    with pytest.raises(ManagedTurnError, match=REFUSED):
        _renew(IceRenewal(), ManagedTurn(CLOUDFLARE, CF[0], "not-the-token-000"), NOW)


@pytest.mark.parametrize("managed", [CLOUDFLARE_TURN, TWILIO_TURN], ids=["cloudflare", "twilio"])
def test_an_unreachable_service_is_said_in_plain_words(services: FakeTurnServices, managed: ManagedTurn,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _unreachable(monkeypatch)
    with pytest.raises(ManagedTurnError) as info:
        _renew(IceRenewal(), managed, NOW)
    assert info.value.kind == "unreachable"
    assert str(info.value) == f"{UNREACHABLE} ({managed.service.name}, {managed.service.host})"


def test_a_server_error_names_the_status(services: FakeTurnServices) -> None:
    services.mode = "error"
    with pytest.raises(ManagedTurnError, match=r"answered with an error \(Cloudflare, HTTP 503\)"):
        _renew(IceRenewal(), CLOUDFLARE_TURN, NOW)


def test_an_answer_without_a_turn_server_is_refused() -> None:
    with pytest.raises(ManagedTurnError, match="holds no TURN server") as info:
        ice_servers_from_answer(CLOUDFLARE, [{"urls": ["stun:stun.cloudflare.com:3478"]}])
    assert info.value.kind == "answer"
    single = {"urls": ["turn:t.example.org:3478"], "username": "u-000000", "credential": "c-000000"}
    assert ice_servers_from_answer(CLOUDFLARE, single) == (single,)  # the older one-table answer


def test_a_failed_renewal_keeps_the_valid_servers_and_retries_later(services: FakeTurnServices) -> None:
    renewal = IceRenewal(retry_after_s=30)
    first = _renew(renewal, CLOUDFLARE_TURN, NOW)
    services.mode = "refuse"
    due = NOW + 3600
    assert _renew(renewal, CLOUDFLARE_TURN, due) is first  # still valid for an hour
    assert renewal.last_error(CLOUDFLARE_TURN) is not None
    assert _renew(renewal, CLOUDFLARE_TURN, due + 10) is first
    assert len(services.requests) == 2  # within retry_after_s: no new request
    services.mode = "ok"
    renewed = _renew(renewal, CLOUDFLARE_TURN, due + 30)
    assert renewed is not first and renewal.last_error(CLOUDFLARE_TURN) is None
    services.mode = "refuse"
    with pytest.raises(ManagedTurnError, match=REFUSED):  # nothing valid left
        _renew(renewal, CLOUDFLARE_TURN, renewed.expires_at + 60)


def test_a_failure_is_remembered_briefly_so_reruns_do_not_wait_on_the_service(services: FakeTurnServices) -> None:
    renewal = IceRenewal(retry_after_s=30)
    services.mode = "refuse"
    for moment in (NOW, NOW + 5, NOW + 29):
        with pytest.raises(ManagedTurnError):
            _renew(renewal, CLOUDFLARE_TURN, moment)
    assert len(services.requests) == 1
    services.mode = "ok"
    assert _renew(renewal, CLOUDFLARE_TURN, NOW + 30).servers
