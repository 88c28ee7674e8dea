"""The access gate without a browser: sign-in asked, allowed, refused, closed; a visitor's key;
what Settings says about who can reach the app (issue 28).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

from livechat.access import LOCAL_ANALYST
from livechat.access.reach import KEY_WARNING
from livechat.data.sample import SAMPLE_NAME
from livechat.ui import slots
from tests.app.apptest_support import element_texts, new_app

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "c" * 32,
        "client_id": "livechat", "client_secret": "s" * 16,
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
TEAM = {"allowed_domains": ["example.com"], "admins": ["boss@example.com"]}
FAKE_KEY = "AIza" + "Vis1torKeyForAppTests0123456789abcd"[:35]


def _app(access: dict | None = None, *, auth: bool = True, user: dict | None = None) -> AppTest:
    at = new_app()
    if auth:
        at.secrets["auth"] = AUTH
    if access is not None:
        at.secrets["access"] = access
    if user is not None:
        at.user = user
    return at.run()


def _signed(email: str, verified: bool = True) -> dict:
    return {"is_logged_in": True, "email": email, "email_verified": verified, "name": email.split("@")[0]}


def _shows_no_data(at: AppTest) -> None:
    texts = element_texts(at)
    assert SAMPLE_NAME not in texts and "Conversations" not in texts and "Dataset" not in texts
    assert not at.exception


def test_with_auth_a_signed_out_person_is_asked_to_sign_in_and_sees_nothing_else() -> None:
    at = _app(TEAM, user={"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    _shows_no_data(at)
    assert slots.ANALYST.get(at.session_state) is None


def test_an_allowed_analyst_gets_the_app_as_themselves() -> None:
    at = _app(TEAM, user=_signed("ana@example.com"))
    assert not at.exception
    assert any("Signed in as **ana**" in c.value for c in at.sidebar.caption)
    assert "Sign out" in [b.label for b in at.sidebar.button]
    analyst = slots.ANALYST.get(at.session_state)
    assert analyst is not None and analyst.id == "ana@example.com" and not analyst.is_admin
    assert SAMPLE_NAME in element_texts(at)


@pytest.mark.parametrize("user", [_signed("eve@other.org"), _signed("ana@example.com", verified=False)])
def test_someone_outside_the_rules_is_refused_politely_and_sees_no_data(user: dict) -> None:
    at = _app(TEAM, user=user)
    assert [w.value for w in at.warning][0].startswith("Sorry, this account cannot use this app.")
    assert [b.label for b in at.button] == ["Sign out"]
    _shows_no_data(at)


def test_require_sign_in_without_auth_closes_the_app() -> None:
    at = _app({"require_sign_in": True}, auth=False)
    assert "requires sign-in" in at.error[0].value or "require sign-in" in at.error[0].value
    _shows_no_data(at)


def test_unusable_access_settings_close_the_app_naming_no_detail() -> None:
    at = _app({"key_policy": "everyone"}, auth=False)
    assert at.error[0].value.startswith("This app is not set up correctly")
    assert "key_policy" not in at.error[0].value
    _shows_no_data(at)


def test_without_auth_the_app_is_single_user_and_settings_says_who_can_reach_it() -> None:
    with patch_config_options({"server.address": "127.0.0.1"}):
        at = _app(auth=False)
        assert slots.ANALYST.get(at.session_state) == LOCAL_ANALYST
        at.switch_page("pages/settings.py").run()
        assert not at.exception
        assert "Who can use it" in [h.value for h in at.header]
        assert any(m.value.startswith("Single user") for m in at.markdown)
    # Streamlit's default address is every interface: said, but no key warning offline.
    at.switch_page("pages/settings.py").run()
    assert any("listens on every network interface" in m.value for m in at.markdown)
    assert not any(w.value.startswith(KEY_WARNING) for w in at.warning)


def _settings_with_server_key(address: str) -> AppTest:
    """Settings of an app with a server key and a (never contacted) endpoint, at ``address``."""
    with patch_config_options({"server.address": address}):
        at = new_app()
        at.secrets["GEMINI_API_KEY"] = FAKE_KEY
        at.secrets["GEMINI_BASE_URL"] = "https://127.0.0.1:9"
        at.run()
        return at.switch_page("pages/settings.py").run()


def _warned(at: AppTest) -> bool:
    return any(w.value.startswith(KEY_WARNING) for w in at.warning)


def test_a_proxy_address_counts_over_the_replicas_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _warned(_settings_with_server_key("127.0.0.1"))
    monkeypatch.setenv("LIVECHAT_LISTEN_ADDRESS", "0.0.0.0")
    assert _warned(_settings_with_server_key("127.0.0.1"))


def test_a_server_key_open_to_the_network_is_warned_about_on_settings_and_talk() -> None:
    at = _settings_with_server_key("0.0.0.0")
    assert _warned(at)
    with patch_config_options({"server.address": "0.0.0.0"}):
        at.switch_page("pages/talk.py").run()
    assert _warned(at)


def test_public_with_visitors_keys_asks_for_a_key_first_and_keeps_it_off_the_page() -> None:
    at = new_app()
    at.secrets["GEMINI_BASE_URL"] = "https://127.0.0.1:9"
    at.secrets["GEMINI_API_KEY"] = "owner-key-" + "o" * 30
    at.secrets["access"] = {"key_policy": "visitor"}
    at.run()
    _shows_no_data(at)
    field = at.text_input(key=slots.VISITOR_KEY_WIDGET.key)
    field.input("too-short")
    at.button[0].click().run()  # the form's submit button
    assert at.error and "does not look like a Gemini API key" in at.error[0].value
    at.text_input(key=slots.VISITOR_KEY_WIDGET.key).input(FAKE_KEY)
    at.button[0].click().run()
    assert not at.exception
    analyst = slots.ANALYST.get(at.session_state)
    assert analyst is not None and analyst.id.startswith("visitor-")
    assert SAMPLE_NAME in element_texts(at)
    assert FAKE_KEY not in element_texts(at)
    assert "Forget my key" in [b.label for b in at.sidebar.button]
