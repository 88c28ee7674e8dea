"""The log redaction filter masks API keys and token names wherever they appear."""

from __future__ import annotations

import io
import logging

import pytest

from livechat import redact
from livechat.redact import RedactingFilter, install_redaction, redact_text

GOOGLE_STYLE_KEY = "AIza" + "Fake0" * 7  # the shape of a Google API key (39 chars)
TOKEN = "auth_tokens/" + "ab12" * 16


@pytest.fixture()
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    install_redaction([handler])
    logger = logging.getLogger("tests.redact.child")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_token_names_and_google_keys_are_masked_in_args(captured) -> None:
    logger, stream = captured
    logger.info("> Authorization: Token %s (key %s)", TOKEN, GOOGLE_STYLE_KEY)
    out = stream.getvalue()
    assert TOKEN not in out and GOOGLE_STYLE_KEY not in out
    assert "auth_tokens/***" in out
    assert "Authorization: Token" in out  # the rest of the message survives


def test_registered_secret_is_masked_even_in_the_format_string(captured) -> None:
    logger, stream = captured
    redact.register_secret("my-plain-key-1234")
    logger.warning("key=my-plain-key-1234 and again %s", "my-plain-key-1234")
    out = stream.getvalue()
    assert "my-plain-key-1234" not in out
    assert out.count("***") == 2


def test_tracebacks_are_masked(captured) -> None:
    logger, stream = captured
    try:
        raise RuntimeError(f"request failed for {TOKEN}")
    except RuntimeError:
        logger.exception("boom")
    out = stream.getvalue()
    assert "RuntimeError" in out and "boom" in out
    assert TOKEN not in out


def test_short_values_are_not_registered() -> None:
    redact.register_secret("abc")
    assert redact_text("abc abcdef") == "abc abcdef"


def test_longest_secret_is_masked_whole() -> None:
    assert redact_text("k=outer-secret-inner", extra=["outer-secret-inner", "secret"]) == "k=***"


def test_install_is_idempotent_per_handler() -> None:
    handler = logging.StreamHandler(io.StringIO())
    first = install_redaction([handler])
    second = install_redaction([handler])
    assert first is second
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1


def test_a_bad_format_string_keeps_the_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %d", ("not a number",), None)
    assert RedactingFilter().filter(record) is True
    assert "value %d" in record.getMessage()


def test_managed_turn_secrets_are_masked_once_read(captured) -> None:
    from livechat.managed_turn import resolve_managed_turn

    pairs = {"CLOUDFLARE_TURN_KEY_ID": "cf-key-id-redact-01", "CLOUDFLARE_TURN_KEY_API_TOKEN": "cf-token-redact-0123",
             "TWILIO_ACCOUNT_SID": "AC0redact0sid0123", "TWILIO_AUTH_TOKEN": "tw-token-redact-0123"}
    assert resolve_managed_turn(pairs, {}).service.name == "Cloudflare"  # Twilio's pair unused, still masked
    logger, stream = captured
    try:
        raise RuntimeError(f"HTTP 401 for /Accounts/{pairs['TWILIO_ACCOUNT_SID']}/Tokens.json")
    except RuntimeError:
        logger.exception("mint failed with %s", pairs["CLOUDFLARE_TURN_KEY_API_TOKEN"])
    logger.warning("%s %s", pairs["CLOUDFLARE_TURN_KEY_ID"], pairs["TWILIO_AUTH_TOKEN"])
    out = stream.getvalue()
    assert "mint failed" in out and "Tokens.json" in out
    assert not [name for name, value in pairs.items() if value in out]
