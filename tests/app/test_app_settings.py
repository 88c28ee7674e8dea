"""Configuration as the app shows it: the endpoint mode in the sidebar, the built-in
emulator when nothing is configured (started for real, reached with the real SDK), the
Settings & diagnostics page, secrets kept off the page, and .streamlit/config.toml.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from livechat.config import make_client
from livechat.data.load import MAX_UPLOAD_MB
from livechat.emulator import EmulatorServer, EmulatorStartError
from livechat.live.tokens import LiveSettings, TokenError, mint_live_token
from livechat.ui import runtime
from tests.app.apptest_support import REPO, element_texts, new_app

# Shaped like a Google API key, so a leak would also be caught by log redaction patterns.
FAKE_KEY = "AIza" + "Q7fakeKeyForAppTests0123456789abcd"[:35]


def _sidebar_markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.sidebar.markdown]


def _settings(at: AppTest) -> AppTest:
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    return at


def _visible_everywhere(at: AppTest) -> str:
    """Element text of the Data and Settings pages, plus session state and query params."""
    texts = [element_texts(at)]
    _settings(at)
    texts.append(element_texts(at))
    texts.append(repr(at.session_state.to_dict()))
    texts.append(repr(at.query_params))
    return "\n".join(texts)


def _mint(config, api_key: str) -> str:
    client = make_client(config, api_key=api_key)
    try:
        return mint_live_token(client, LiveSettings(model=config.model, system_instruction="Say hello."))
    finally:
        client.close()


def test_without_a_key_the_sidebar_says_offline_emulator_and_the_emulator_answers() -> None:
    at = new_app().run()
    assert not at.exception
    assert "**Offline emulator**" in _sidebar_markdown(at)
    urls = runtime.running_emulator_urls()
    assert len(urls) == 1 and urls[0].startswith("https://127.0.0.1:")
    effective = runtime.offline_emulator()
    assert effective.base_url == urls[0]
    # The real SDK reaches it with the app's per-process key, and the emulator checks keys.
    assert _mint(effective, effective.api_key).startswith("auth_tokens/")
    with pytest.raises(TokenError):
        _mint(effective, "not-the-app-key-0000")


def test_the_emulator_key_never_reaches_the_page_state_or_url() -> None:
    at = new_app().run()
    key = runtime.offline_emulator().api_key
    assert key and len(key) >= 32
    assert key not in _visible_everywhere(at)


def test_the_settings_page_describes_the_offline_setup_and_its_health() -> None:
    at = _settings(new_app().run())
    effective = runtime.offline_emulator()
    lines = [m.value for m in at.markdown]
    assert "**Endpoint mode:** Offline emulator" in lines
    assert f"**Model:** `{effective.model}`" in lines
    assert "**API key:** not set" in lines
    assert f"**Emulator base URL:** `{effective.base_url}`" in lines
    host_port = effective.base_url.split("://", 1)[1]
    # What was checked and what it means; no raw HTTP status that reads like a failure.
    assert [s.value for s in at.success] == [
        f"Health: the offline emulator answers on {host_port} over HTTPS, with a certificate that verifies "
        "against its CA file: voice sessions can connect."]
    # The versions table (an admin's Usage section may show a table before it).
    (table,) = [d.value for d in at.dataframe if "package" in d.value.columns]
    versions = table.set_index("package")["version"].to_dict()
    for package in ("streamlit", "streamlit-webrtc", "google-genai", "av", "duckdb"):
        assert versions[package] == metadata.version(package)


def test_with_an_api_key_in_the_environment_it_says_gemini_api_and_starts_no_emulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime.stop_offline_emulator()
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)
    at = new_app().run()
    assert not at.exception
    assert "**Gemini API**" in _sidebar_markdown(at)
    visible = _visible_everywhere(at)
    assert FAKE_KEY not in visible
    assert "**API key:** set" in [m.value for m in at.markdown]
    assert "Emulator base URL" not in visible
    assert "does not contact the service" in at.info[0].value
    assert runtime.running_emulator_urls() == ()


def test_with_an_api_key_in_secrets_it_says_gemini_api(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.stop_offline_emulator()
    at = new_app()
    at.secrets["GEMINI_API_KEY"] = FAKE_KEY
    at.run()
    assert not at.exception
    assert "**Gemini API**" in _sidebar_markdown(at)
    assert FAKE_KEY not in _visible_everywhere(at)
    assert runtime.running_emulator_urls() == ()


def test_a_custom_base_url_is_named_by_host_without_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.stop_offline_emulator()
    monkeypatch.setenv("GEMINI_BASE_URL", "https://analyst:pa55word-x@proxy.example.test:8443")
    at = new_app().run()
    assert not at.exception
    assert "**Custom endpoint (proxy.example.test:8443)**" in _sidebar_markdown(at)
    assert "pa55word-x" not in _visible_everywhere(at)
    assert runtime.running_emulator_urls() == ()


def test_an_unusable_configuration_is_explained_and_the_data_page_still_works(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "missing-ca.pem"
    monkeypatch.setenv("GEMINI_CA_FILE", str(missing))
    at = new_app().run()
    assert not at.exception
    assert len(at.sidebar.error) == 1 and "GEMINI_CA_FILE" in at.sidebar.error[0].value
    assert at.main.header[0].value  # the dataset is still shown
    at = _settings(at)
    assert any("GEMINI_CA_FILE" in e.value for e in at.main.error)


def test_ice_servers_are_counted_and_their_credentials_never_shown() -> None:
    at = new_app()
    at.secrets["ice_servers"] = [
        {"urls": ["stun:stun.example.test:3478"]},
        {"urls": ["turn:turn.example.test:3478"], "username": "turn-user", "credential": "turn-s3cret"},
    ]
    at.run()
    at = _settings(at)
    assert "**ICE servers:** 2 configured" in [m.value for m in at.markdown]
    visible = element_texts(at)
    assert "turn-s3cret" not in visible and "turn-user" not in visible


def test_config_toml_keeps_the_app_private_headless_and_at_the_loaders_upload_limit() -> None:
    with open(REPO / ".streamlit" / "config.toml", "rb") as handle:
        config = tomllib.load(handle)
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["headless"] is True
    # Streamlit refuses bigger uploads before the loader sees them; the widget passes the
    # same limit (max_upload_size) and the loader enforces it on every other path.
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB


def test_the_uploader_enforces_the_loaders_upload_limit() -> None:
    at = new_app().run()
    uploader = at.file_uploader[0]
    assert uploader.proto.max_upload_size_mb == MAX_UPLOAD_MB


def test_an_emulator_that_cannot_start_is_reported_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.stop_offline_emulator()

    class _UnstartableEmulator(EmulatorServer):
        def start(self) -> EmulatorServer:
            raise EmulatorStartError("cannot listen on 127.0.0.1:0 (test)")

    monkeypatch.setattr(runtime, "EmulatorServer", _UnstartableEmulator)
    at = new_app().run()
    assert not at.exception
    assert any("offline emulator did not start" in e.value for e in at.sidebar.error)
    assert at.main.header[0].value  # the Data page still works
    at = _settings(at)
    assert any("offline emulator did not start" in e.value for e in at.main.error)
    assert runtime.running_emulator_urls() == ()


@pytest.mark.parametrize("model, status, warning, note", [
    (None, "Status: GA (the default)", None, None),
    ("gemini-3.1-flash-live-preview", "Status: legacy preview", None, "legacy preview since 3.8"),
    ("gemini-2.5-flash-native-audio-preview-12-2025", "Status: preview", None, "is a preview model"),
    ("gemini-9.9-live", "Status: not in our table", "is not in this app's table", None),
])
def test_the_settings_page_shows_the_models_status_and_rules(
        monkeypatch: pytest.MonkeyPatch, model: str | None, status: str, warning: str | None,
        note: str | None) -> None:
    if model is not None:
        monkeypatch.setenv("GEMINI_MODEL", model)
    at = _settings(new_app().run())
    text = "\n".join(m.value for m in at.markdown)
    assert f"**Model:** `{model or 'gemini-3.8-live'}`" in text
    assert status in text and "Tool calls:" in text
    assert not warning or any(warning in w.value for w in at.warning)
    assert not note or any(note in i.value for i in at.info)
