"""The ICE configuration a browser session gets (livechat.ui.ice.ice_configuration), under AppTest.

Minted TURN credentials are per browser session, stable across reruns (the component's
arguments must not change on every run), and never the long-term secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from streamlit.testing.v1 import AppTest

SECRET = "app-test-turn-secret"


def _page() -> None:
    import json

    import streamlit as st

    from livechat.ui import ice

    st.code(json.dumps(ice.ice_configuration()), language=None)


def _config(app: AppTest) -> dict:
    app.run()
    assert not app.exception, app.exception
    return json.loads(app.code[0].value)


def test_minted_credentials_are_per_session_and_stable_across_reruns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVECHAT_TURN_URLS", "turn:10.77.0.2:3478?transport=udp,turn:10.77.0.2:3478?transport=tcp")
    monkeypatch.setenv("LIVECHAT_TURN_SECRET", SECRET)
    monkeypatch.setenv("LIVECHAT_ICE_TRANSPORT_POLICY", "relay")
    first = AppTest.from_function(_page, default_timeout=30)
    config = _config(first)
    assert config["iceTransportPolicy"] == "relay"
    (server,) = config["iceServers"]
    assert server["urls"] == ["turn:10.77.0.2:3478?transport=udp", "turn:10.77.0.2:3478?transport=tcp"]
    expiry, _, turn_id = server["username"].partition(":")
    assert expiry.isdigit() and len(turn_id) == 16
    assert server["credential"] == base64.b64encode(
        hmac.new(SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()).decode()
    assert SECRET not in json.dumps(config)

    assert _config(first) == config  # a rerun: the same credentials
    other = AppTest.from_function(_page, default_timeout=30)
    assert _config(other)["iceServers"][0]["username"] != server["username"]  # another session


def test_without_turn_settings_the_list_stays_explicit_and_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIVECHAT_TURN_URLS", "LIVECHAT_TURN_SECRET", "LIVECHAT_ICE_TRANSPORT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    assert _config(AppTest.from_function(_page, default_timeout=30)) == {"iceServers": []}
