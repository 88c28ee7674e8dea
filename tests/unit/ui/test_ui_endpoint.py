"""livechat.ui.endpoint: the endpoint described by mode and host, never by secret."""

from __future__ import annotations

import pytest

from livechat.config import ServiceConfig
from livechat.ui.endpoint import GEMINI_LABEL, OFFLINE_LABEL, endpoint_host, endpoint_label


def test_no_key_and_no_base_url_is_the_offline_emulator() -> None:
    assert endpoint_label(ServiceConfig(api_key=None)) == OFFLINE_LABEL


def test_a_key_alone_is_the_gemini_api() -> None:
    assert endpoint_label(ServiceConfig(api_key="k" * 39)) == GEMINI_LABEL


def test_the_public_gemini_host_is_the_gemini_api_not_a_custom_endpoint() -> None:
    config = ServiceConfig(api_key="k" * 39, base_url="https://generativelanguage.googleapis.com/")
    assert endpoint_label(config) == GEMINI_LABEL


def test_another_base_url_is_a_custom_endpoint_named_by_host_and_port() -> None:
    config = ServiceConfig(api_key=None, base_url="https://proxy.example.test:8443/v1")
    assert endpoint_label(config) == "Custom endpoint (proxy.example.test:8443)"


def test_credentials_in_the_url_never_reach_the_label() -> None:
    config = ServiceConfig(api_key="k" * 39, base_url="https://alice:s3cr3t-pass@proxy.example.test/")
    label = endpoint_label(config)
    assert label == "Custom endpoint (proxy.example.test)"
    assert "s3cr3t" not in label and "alice" not in label


@pytest.mark.parametrize(
    ("url", "host"),
    [
        (None, None),
        ("", None),
        ("https://127.0.0.1:9443", "127.0.0.1:9443"),
        ("http://[::1]:8080/x", "[::1]:8080"),
        ("https://example.test:notaport/", "example.test"),
    ],
)
def test_endpoint_host(url: str | None, host: str | None) -> None:
    assert endpoint_host(url) == host
