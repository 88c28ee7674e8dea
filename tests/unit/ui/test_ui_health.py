"""livechat.ui.health: the emulator probe, against real local servers on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from livechat.emulator.tls import generate_tls_material, server_ssl_context
from livechat.ui.health import ProbeError, ProbeResult, health_sentence, probe_endpoint


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


def _serve(context: ssl.SSLContext | None) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    scheme = "https" if context is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


@pytest.fixture
def http_url() -> Iterator[str]:
    yield from _serve(None)


@pytest.fixture
def tls_material(tmp_path: Path):
    return generate_tls_material(tmp_path / "server")


@pytest.fixture
def https_url(tls_material) -> Iterator[str]:
    yield from _serve(server_ssl_context(tls_material))


def test_any_http_answer_is_healthy_and_the_sentence_has_no_status(http_url: str) -> None:
    result = probe_endpoint(http_url, None)
    where = http_url.split("://", 1)[1]
    assert result.ok and result.status == 404 and result.where == where and not result.tls
    # A 404 at the root is the normal answer of a Live endpoint: the page must not show it.
    assert health_sentence("the offline emulator", result) == (
        f"the offline emulator answers on {where}: voice sessions can connect.")


def test_https_verified_with_the_ca_file_is_healthy(https_url: str, tls_material) -> None:
    result = probe_endpoint(https_url, str(tls_material.ca_file))
    assert result.ok and result.tls
    assert "HTTP" not in health_sentence("the offline emulator", result).replace("HTTPS", "")
    assert result.detail.endswith("over HTTPS, with a certificate that verifies against its CA file")


def test_an_unhealthy_sentence_says_what_failed_and_what_it_means() -> None:
    result = ProbeResult(False, "127.0.0.1:9 did not answer (ConnectionRefusedError: refused).", where="127.0.0.1:9")
    assert health_sentence("the offline emulator", result) == (
        "the offline emulator failed the check: 127.0.0.1:9 did not answer (ConnectionRefusedError: refused). "
        "Voice sessions cannot connect until this is fixed.")


def test_https_with_another_ca_is_not_healthy(https_url: str, tmp_path: Path) -> None:
    other = generate_tls_material(tmp_path / "other")
    result = probe_endpoint(https_url, str(other.ca_file))
    assert not result.ok
    assert "certificate" in result.detail


def test_a_closed_port_is_not_healthy() -> None:
    with socket.socket() as sock:  # reserve a port, then close it so nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = probe_endpoint(f"http://127.0.0.1:{port}", None, timeout_s=1.0)
    assert not result.ok
    assert f"127.0.0.1:{port} did not answer" in result.detail


def test_a_url_without_scheme_is_refused_naming_it() -> None:
    with pytest.raises(ProbeError, match="'127.0.0.1:1'"):
        probe_endpoint("127.0.0.1:1", None)
