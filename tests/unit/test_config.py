"""Service configuration: resolution order, blanks, validation, and the clients it builds."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from livechat import redact
from livechat.config import (
    API_VERSION,
    DEFAULT_MODEL,
    ConfigError,
    ServiceConfig,
    default_ssl_context,
    make_client,
    make_ssl_context,
    resolve_service_config,
)


class _NoSecretsFile(dict):
    """Behaves like st.secrets without a secrets.toml: every read raises FileNotFoundError."""

    def get(self, key, default=None):  # type: ignore[override]
        raise FileNotFoundError("No secrets files found")


def test_secrets_win_over_environment() -> None:
    config = resolve_service_config(
        {"GEMINI_API_KEY": "key-from-secrets", "GEMINI_MODEL": "model-from-secrets"},
        {"GEMINI_API_KEY": "key-from-env", "GEMINI_MODEL": "model-from-env",
         "GEMINI_BASE_URL": "https://127.0.0.1:9999"},
    )
    assert config.api_key == "key-from-secrets"
    assert config.model == "model-from-secrets"
    # Names absent from secrets still come from the environment.
    assert config.base_url == "https://127.0.0.1:9999"


def test_blank_secret_falls_back_to_environment_and_blank_everywhere_is_unset() -> None:
    config = resolve_service_config(
        {"GEMINI_API_KEY": "   ", "GEMINI_BASE_URL": ""},
        {"GEMINI_API_KEY": "env-key-123", "GEMINI_BASE_URL": "  ", "GEMINI_MODEL": ""},
    )
    assert config.api_key == "env-key-123"
    assert config.base_url is None
    assert config.model == DEFAULT_MODEL


def test_nothing_configured_is_offline() -> None:
    config = resolve_service_config({}, {})
    assert config.offline
    assert config.api_key is None and config.base_url is None
    assert not resolve_service_config({}, {"GEMINI_API_KEY": "abcdef-key"}).offline
    assert not resolve_service_config({}, {"GEMINI_BASE_URL": "https://proxy.example"}).offline


def test_missing_secrets_file_reads_as_empty() -> None:
    config = resolve_service_config(_NoSecretsFile(), {"GEMINI_API_KEY": "env-only-key"})
    assert config.api_key == "env-only-key"


def test_values_are_stripped() -> None:
    config = resolve_service_config({"GEMINI_BASE_URL": "  https://h:1  "}, {})
    assert config.base_url == "https://h:1"


def test_repr_never_shows_the_key() -> None:
    config = ServiceConfig(api_key="super-secret-key-value", base_url=None)
    assert "super-secret-key-value" not in repr(config)
    assert "super-secret-key-value" not in str(config)
    assert config.has_api_key


def test_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match="GEMINI_CA_FILE must name a readable PEM file"):
        resolve_service_config({"GEMINI_CA_FILE": str(missing)}, {})


def test_ca_file_that_is_not_pem_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    config = resolve_service_config({"GEMINI_CA_FILE": str(bogus)}, {})
    with pytest.raises(ConfigError, match="PEM certificate bundle"):
        make_ssl_context(config)


def test_base_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GEMINI_BASE_URL must start with http"):
        resolve_service_config({"GEMINI_BASE_URL": "127.0.0.1:8000"}, {})


def test_resolved_key_is_registered_for_redaction() -> None:
    resolve_service_config({"GEMINI_API_KEY": "resolved-key-for-redaction"}, {})
    assert redact.redact_text("x resolved-key-for-redaction y") == "x *** y"


def test_make_client_pins_v1alpha_base_url_and_keepalive() -> None:
    config = ServiceConfig(api_key="k-123456", base_url="https://127.0.0.1:1",
                           ping_interval_s=0.5, ping_timeout_s=7.0, close_timeout_s=0.25)
    client = make_client(config, api_key="k-123456")
    try:
        api = client._api_client
        assert api._http_options.api_version == API_VERSION
        assert api._http_options.base_url.rstrip("/") == "https://127.0.0.1:1"
        # What websockets.connect() will receive: our keepalive survives the SDK's filter.
        ws_args = api._websocket_ssl_ctx
        assert ws_args["ping_interval"] == 0.5
        assert ws_args["ping_timeout"] == 7.0
        assert ws_args["close_timeout"] == 0.25
        assert isinstance(ws_args["ssl"], ssl.SSLContext)
    finally:
        client.close()


def test_make_client_uses_the_given_ssl_context_everywhere() -> None:
    ctx = ssl.create_default_context()
    config = ServiceConfig(api_key=None, base_url="https://127.0.0.1:1")
    client = make_client(config, api_key="auth_tokens/abc", ssl_context=ctx)
    try:
        assert client._api_client._websocket_ssl_ctx["ssl"] is ctx
    finally:
        client.close()


def test_make_client_refuses_an_empty_key() -> None:
    with pytest.raises(ConfigError, match="needs an API key or a token name"):
        make_client(ServiceConfig(api_key=None), api_key="")


@pytest.mark.parametrize("field,value", [("ping_interval_s", 0), ("ping_timeout_s", -1.0),
                                         ("close_timeout_s", 0), ("http_timeout_s", -2)])
def test_non_positive_timeouts_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        ServiceConfig(api_key=None, **{field: value})


def test_without_a_ca_file_every_client_shares_one_verifying_public_ca_context() -> None:
    config = resolve_service_config({"GEMINI_API_KEY": "k"}, {})
    ctx = make_ssl_context(config)
    assert ctx is default_ssl_context() is make_ssl_context(config)
    assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0
    # The SDK is handed that context for REST and the websocket, so it builds none of its own.
    client = make_client(config, api_key="k")
    options = client._api_client._http_options
    assert options.client_args["verify"] is ctx
    assert options.async_client_args["verify"] is ctx and options.async_client_args["ssl"] is ctx
