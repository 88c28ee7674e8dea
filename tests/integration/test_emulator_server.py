"""The server itself: TLS, introspection, lifecycle, and the command line."""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509

from livechat.emulator import EmulatorOptions, EmulatorOptionsError, EmulatorServer
from tests.integration.emulator_support import text_turn

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")
REPO = Path(__file__).resolve().parents[2]


def get_json(server: EmulatorServer, path: str) -> tuple[dict, str]:
    context = ssl.create_default_context(cafile=server.ca_file)
    with urllib.request.urlopen(server.base_url + path, context=context, timeout=10) as response:
        raw = response.read().decode()
    return json.loads(raw), raw


def test_tls_certificate_verifies_against_the_ca_only(emulator):
    port = int(emulator.base_url.rsplit(":", 1)[1])
    for hostname in ("127.0.0.1", "localhost"):
        context = ssl.create_default_context(cafile=emulator.ca_file)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=hostname) as tls:
                der = tls.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)][0] == "127.0.0.1"
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 8
    # The system trust store does not know the emulator's CA: verification is real.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")


def test_sessions_endpoint_matches_sessions_and_hides_the_key(emulator_factory):
    server = emulator_factory(api_key="sekrit-key-123")
    text_turn(server, "sekrit-key-123", "hello", config={"system_instruction": "SI"})
    server.wait_for(lambda s: s and s[0]["ended"] is not None)

    body, raw = get_json(server, "/emulator/sessions")

    assert body["sessions"] == server.sessions()
    assert "sekrit-key-123" not in raw
    record = body["sessions"][0]
    for key in ("id", "endpoint", "auth", "token", "client_setup", "effective_setup", "audio_in_seconds",
                "audio_in_rate", "turns", "tool_calls", "ended", "audio_in_envelope", "audio_out_seconds",
                "interruptions", "resumed_from", "go_away_sent"):
        assert key in record
    assert (record["endpoint"], record["auth"], record["token"]) == ("api_key", "api_key", None)
    tokens, raw_tokens = get_json(server, "/emulator/tokens")
    assert tokens == {"tokens": []} and "sekrit" not in raw_tokens


def test_leading_double_slash_and_other_versions(emulator):
    import asyncio

    import websockets

    async def setup_complete(path: str) -> dict:
        uri = emulator.base_url.replace("https://", "wss://") + path
        context = ssl.create_default_context(cafile=emulator.ca_file)
        async with websockets.connect(uri, ssl=context, additional_headers={"x-goog-api-key": "test-key"}) as ws:
            await ws.send(json.dumps({"setup": {"model": "models/gemini-3.1-flash-live-preview"}}))
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    for version in ("v1alpha", "v1beta", "v1"):
        path = f"//ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"
        assert asyncio.run(setup_complete(path)) == {"setupComplete": {}}

    with pytest.raises(websockets.InvalidStatus) as info:
        asyncio.run(setup_complete("/ws/google.ai.generativelanguage.v2.GenerativeService.BidiGenerateContent"))
    assert info.value.response.status_code == 404


def test_wait_for_times_out_with_the_last_snapshot(emulator):
    with pytest.raises(TimeoutError) as info:
        emulator.wait_for(lambda sessions: len(sessions) > 0, timeout=0.2)
    assert info.value.sessions == []


def test_set_options_validates_and_applies(emulator):
    with pytest.raises(EmulatorOptionsError, match="no field"):
        emulator.set_options(not_an_option=True)
    with pytest.raises(EmulatorOptionsError, match="close_code"):
        emulator.set_options(close_code=1005)
    assert emulator.set_options(require_api_key=False).require_api_key is False
    assert text_turn(emulator, "any-key-at-all", "hi").turn_complete


def test_start_is_idempotent_stop_leaves_no_thread_and_removes_files(tmp_path):
    before = {t.ident for t in threading.enumerate()}
    server = EmulatorServer("k", options=EmulatorOptions(realtime=False))
    assert server.start() is server.start()
    ca_file = Path(server.ca_file)
    assert ca_file.exists()
    text_turn(server, "k", "hello")  # uses the synthesis executor too
    server.stop()
    server.stop()  # idempotent
    leftovers = [t.name for t in threading.enumerate() if t.ident not in before]
    assert leftovers == []
    assert not ca_file.exists()

    with EmulatorServer("k", cert_dir=tmp_path) as kept:
        assert Path(kept.ca_file) == tmp_path / "ca.pem"
    assert (tmp_path / "ca.pem").exists()  # a caller's cert_dir is the caller's


def test_port_in_use_is_a_clear_error(emulator):
    port = int(emulator.base_url.rsplit(":", 1)[1])
    from livechat.emulator import EmulatorStartError
    with pytest.raises(EmulatorStartError, match=f"127.0.0.1:{port}"):
        EmulatorServer("k", port=port).start()


def test_command_line_serves_until_sigterm(tmp_path):
    env = dict(os.environ, EMULATOR_API_KEY="cli-key", PYTHONPATH=str(REPO))
    process = subprocess.Popen([sys.executable, "-m", "livechat.emulator", "--port", "0", "--cert-dir", str(tmp_path),
                                "--close-after-messages", "7"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True)
    reader.start()
    try:
        url = lines.get(timeout=30).strip()
        assert url.startswith("https://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        ca = tmp_path / "ca.pem"
        assert ca.exists()
        body = _mint_with_curl(url, ca, "cli-key")
        assert body["name"].startswith("auth_tokens/")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(timeout=5)
            process.stdout.close()
            process.stderr.close()
    assert code == 0


def _mint_with_curl(url: str, ca: Path, key: str) -> dict:
    if shutil.which("curl"):
        result = subprocess.run(["curl", "-sS", "--cacert", str(ca), "-H", f"x-goog-api-key: {key}", "-d", "{}",
                                 f"{url}/v1alpha/auth_tokens"], capture_output=True, text=True, timeout=20, check=True)
        return json.loads(result.stdout)
    request = urllib.request.Request(f"{url}/v1alpha/auth_tokens", data=b"{}", method="POST",
                                     headers={"x-goog-api-key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(ca)), timeout=20) as response:
        return json.loads(response.read())


def test_command_line_needs_a_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EMULATOR_API_KEY"}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-m", "livechat.emulator", "--port", "0"], capture_output=True,
                            text=True, env=env, cwd=REPO, timeout=30)
    assert result.returncode == 2 and "EMULATOR_API_KEY" in result.stderr


def test_logs_never_carry_the_key_or_a_token(emulator, caplog):
    import asyncio

    import websockets

    from tests.integration.emulator_support import live_uri, mint

    token = mint(emulator)
    caplog.set_level(logging.DEBUG)

    async def connect(query: str) -> None:
        context = ssl.create_default_context(cafile=emulator.ca_file)
        async with websockets.connect(live_uri(emulator, "BidiGenerateContentConstrained" if "access" in query
                                               else "BidiGenerateContent", query=query), ssl=context) as ws:
            await ws.send(json.dumps({"setup": {"model": "models/gemini-2.5-flash-native-audio-latest"}}))
            await asyncio.wait_for(ws.recv(), 10)

    asyncio.run(connect("?key=test-key"))
    asyncio.run(connect(f"?access_token={token}"))
    emulator.wait_for(lambda s: len(s) == 2 and all(r["ended"] for r in s))
    server_lines = "\n".join(r.getMessage() for r in caplog.records
                              if r.name.startswith(("uvicorn", "livechat.emulator")))
    # The server did log both requests (the access-log wording differs with the HTTP
    # protocol implementation uvicorn picked, so count the paths, not the verbs)...
    assert server_lines.count("/ws/google.ai.generativelanguage.") >= 2
    assert "test-key" not in server_lines and token.split("/")[1] not in server_lines  # ...without secrets


def test_wait_for_treats_lookup_errors_as_not_yet(emulator):
    results: queue.Queue = queue.Queue()
    # Started before any session exists: s[0] raises IndexError until the first one appears.
    waiter = threading.Thread(target=lambda: results.put(emulator.wait_for(
        lambda s: s[0]["ended"] is not None and s[0]["turns"], timeout=20)))
    waiter.start()
    text_turn(emulator, "test-key", "hi")
    waiter.join(timeout=25)
    assert results.get_nowait()[0]["turns"][0]["input"] == "hi"
