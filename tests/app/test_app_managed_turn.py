"""Community Cloud's two secrets in AppTest: a Cloudflare (or Twilio) pair gives the Talk
page's component the servers streamlit-webrtc's helper minted, Settings names the source,
and a refused or unreachable service is a plain message, not a component that connects
for ever. The helpers' HTTP is answered by ``tests.fake_turn_services`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from livechat.managed_turn import IceRenewal
from livechat.ui import ice, talk
from livechat.voice.bridge import VoiceBridge
from tests.app.apptest_support import element_texts, new_app
from tests.fake_turn_services import (
    CLOUDFLARE_PAIR,
    PAIR_NAMES,
    RELAY_URLS,
    TWILIO_PAIR,
    FakeTurnServices,
    faked_providers,
)

CLOUDFLARE = {"CLOUDFLARE_TURN_KEY_ID": CLOUDFLARE_PAIR[0], "CLOUDFLARE_TURN_KEY_API_TOKEN": CLOUDFLARE_PAIR[1]}
TWILIO = {"TWILIO_ACCOUNT_SID": TWILIO_PAIR[0], "TWILIO_AUTH_TOKEN": TWILIO_PAIR[1]}
REFUSED_ON_TALK = (
    "Voice cannot connect: the TURN service refused the credentials (Cloudflare: check "
    "CLOUDFLARE_TURN_KEY_ID and CLOUDFLARE_TURN_KEY_API_TOKEN). Check the TURN service's two secrets "
    "(Settings & diagnostics names the service), then reload this page.")


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTurnServices]:
    for name in ("LIVECHAT_TURN_URLS", "LIVECHAT_TURN_SECRET", "LIVECHAT_ICE_TRANSPORT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(ice, "_RENEWAL", IceRenewal())  # no servers from another test
    with faked_providers(tmp_path, monkeypatch) as fake:
        yield fake
    assert not any(name in os.environ for name in PAIR_NAMES), "a secret leaked into the environment"


def _app(secrets: dict[str, str]) -> AppTest:
    at = new_app()
    for name, value in secrets.items():
        at.secrets[name] = value
    return at.run()


def _talk(at: AppTest, bridges: list[VoiceBridge]) -> AppTest:
    at.switch_page("pages/talk.py").run()
    assert not at.exception, at.exception
    bridge = at.session_state[talk.BRIDGE_STATE_KEY] if talk.BRIDGE_STATE_KEY in at.session_state else None
    if isinstance(bridge, VoiceBridge):
        bridges.append(bridge)
    return at


def _component_rtc(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.json_args)["rtc_configuration"] for c in at.get("component_instance")]


def _settings(at: AppTest) -> AppTest:
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception
    return at


def test_the_cloudflare_pair_gives_the_component_minted_servers_and_settings_names_it(
        services: FakeTurnServices, bridges: list[VoiceBridge]) -> None:
    at = _talk(_app({**CLOUDFLARE, **TWILIO}), bridges)  # both pairs: Cloudflare first
    minted = [{"urls": ["stun:stun.cloudflare.com:3478"]},
              {"urls": list(RELAY_URLS), "username": "cf-user-1", "credential": "cf-credential-1"}]
    assert _component_rtc(at) == [{"iceServers": minted}]
    assert not at.error
    visible = [element_texts(at)]

    _settings(at)
    markdown = [m.value for m in at.markdown]
    assert "**TURN:** Cloudflare, via streamlit-webrtc, renewed every hour" in markdown
    assert any(m.startswith("**TURN servers:** 2 minted, valid until ") for m in markdown)
    assert not at.error
    assert len(services.requests) == 1  # Settings reused the process's servers
    visible += [element_texts(at), repr(at.session_state.to_dict()), repr(at.query_params)]
    leaks = [name for name, value in {**CLOUDFLARE, **TWILIO}.items() if value in "\n".join(visible)]
    assert not leaks, f"on the page or in its state: {leaks}"


def test_a_refused_pair_is_said_on_talk_and_settings_and_no_component_renders(
        services: FakeTurnServices, bridges: list[VoiceBridge]) -> None:
    services.mode = "refuse"
    at = _talk(_app(CLOUDFLARE), bridges)
    assert [e.value for e in at.error] == [REFUSED_ON_TALK]
    assert _component_rtc(at) == []  # no silent fallback to host candidates
    _settings(at)
    assert [e.value for e in at.error] == [
        "TURN: the TURN service refused the credentials (Cloudflare: check CLOUDFLARE_TURN_KEY_ID and "
        "CLOUDFLARE_TURN_KEY_API_TOKEN)"]


def test_an_unreachable_service_is_said_on_the_talk_page(
        services: FakeTurnServices, bridges: list[VoiceBridge], monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("HTTPS_PROXY", closed)
    monkeypatch.setenv("https_proxy", closed)
    urllib.request.install_opener(None)
    at = _talk(_app(TWILIO), bridges)
    (error,) = [e.value for e in at.error]
    assert error.startswith("Voice cannot connect: the TURN service could not be reached (Twilio, api.twilio.com).")
    assert _component_rtc(at) == []


def test_without_a_pair_the_app_looks_nothing_up(services: FakeTurnServices, bridges: list[VoiceBridge]) -> None:
    at = _talk(_app({}), bridges)
    assert _component_rtc(at) == [{"iceServers": []}]
    _settings(at)
    assert not any(m.value.startswith("**TURN:**") for m in at.markdown)
    assert services.connects == []
