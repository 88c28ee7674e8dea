"""Local fakes of Cloudflare's and Twilio's TURN credential endpoints, for streamlit-webrtc's helpers.

The providers cannot be reached from the tests, and the helpers are used unchanged: they
build their request for ``https://rtc.live.cloudflare.com/...`` (urllib) or
``https://api.twilio.com/...`` (the twilio package, over requests). Both HTTP stacks
honour the standard proxy and trust variables, so the fake is an HTTPS proxy on
127.0.0.1 that *answers* the two endpoints itself:

- ``HTTPS_PROXY`` / ``https_proxy`` = ``http://127.0.0.1:<port>``: each client opens a
  ``CONNECT <host>:443`` tunnel to the fake (which never connects anywhere; any other
  host gets 403) and the client does not resolve the provider's name itself;
- inside the tunnel the fake speaks TLS with a certificate for both names, signed by a
  throw-away CA (``livechat.emulator.tls``); ``SSL_CERT_FILE`` (urllib's default context)
  and ``REQUESTS_CA_BUNDLE`` (requests) make the clients trust that CA only.

``environment()`` returns these variables; ``urllib.request.install_opener(None)`` must
follow a change of them in a process that has used ``urlopen`` (it caches its proxies).
Every tunnel and request is recorded (``connects``, ``requests``; plain-HTTP proxy
requests too, refused), so a test can also prove that nothing was looked up.
"""

from __future__ import annotations

import base64
import contextlib
import json
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from livechat.emulator.tls import generate_tls_material, server_ssl_context

CLOUDFLARE_HOST = "rtc.live.cloudflare.com"
TWILIO_HOST = "api.twilio.com"
HOSTS = (CLOUDFLARE_HOST, TWILIO_HOST)
LOCAL = "127.0.0.1,localhost,::1"
# Where the minted servers say the relay is: never contacted by unit and app tests.
RELAY_URLS = ("turn:turn.fake.test:3478?transport=udp", "turns:turn.fake.test:5349?transport=tcp")


# The secrets streamlit-webrtc reads; tests start without them.
PAIR_NAMES = ("CLOUDFLARE_TURN_KEY_ID", "CLOUDFLARE_TURN_KEY_API_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
# Valid credentials of the fakes (long enough for log redaction).
CLOUDFLARE_PAIR = ("cf-key-id-0123456789", "cf-api-token-secret-0123456789")
TWILIO_PAIR = ("AC0123456789abcdef", "twilio-auth-token-secret-0123")


@contextlib.contextmanager
def faked_providers(workdir: Path, monkeypatch: Any) -> Iterator["FakeTurnServices"]:
    """Started fakes with this process's HTTPS sent through them (``monkeypatch`` undoes
    the environment) and none of the four secrets set; stopped afterwards."""
    for name in PAIR_NAMES:
        monkeypatch.delenv(name, raising=False)
    with FakeTurnServices(workdir, cloudflare=CLOUDFLARE_PAIR, twilio=TWILIO_PAIR) as fake:
        for name, value in fake.environment().items():
            monkeypatch.setenv(name, value)
        urllib.request.install_opener(None)  # urlopen caches the proxies it read
        try:
            yield fake
        finally:
            urllib.request.install_opener(None)


@dataclass(frozen=True)
class Recorded:
    host: str
    method: str
    path: str
    authorization: str
    body: bytes


class FakeTurnServices:
    """The fake (see the module docstring). ``mode``: ``"ok"``, ``"refuse"`` (401) or ``"error"`` (503).

    Valid credentials are ``cloudflare`` = (key id, API token) and ``twilio`` = (account
    SID, auth token); others are refused. Each successful mint gets a new username.
    """

    def __init__(self, workdir: Path, *, cloudflare: tuple[str, str], twilio: tuple[str, str],
                 relay_urls: tuple[str, ...] = RELAY_URLS, with_stun: bool = True) -> None:
        material = generate_tls_material(workdir / "fake-turn-tls", hosts=HOSTS)
        self.ca_file = str(material.ca_file)
        self._tls = server_ssl_context(material)
        self.cloudflare = cloudflare
        self.twilio = twilio
        self.relay_urls = relay_urls
        self.with_stun = with_stun  # off for a browser test: a STUN server it cannot reach costs seconds
        self.mode = "ok"
        self.requests: list[Recorded] = []
        self.connects: list[str] = []
        self._mints = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environment(self) -> dict[str, str]:
        """The variables that send both helpers' HTTPS through the fake, trusting its CA."""
        return {"HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
                "HTTP_PROXY": self.proxy_url, "http_proxy": self.proxy_url,
                "SSL_CERT_FILE": self.ca_file, "REQUESTS_CA_BUNDLE": self.ca_file,
                # Local traffic (the Live emulator, the app's own health probe) stays direct.
                "NO_PROXY": LOCAL, "no_proxy": LOCAL}

    def start(self) -> "FakeTurnServices":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-turn-services",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeTurnServices":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ answers

    def _next_credentials(self, prefix: str) -> tuple[str, str]:
        with self._lock:
            self._mints += 1
            return f"{prefix}-user-{self._mints}", f"{prefix}-credential-{self._mints}"

    def answer(self, record: Recorded) -> tuple[int, dict[str, Any]]:
        """The status and JSON body the provider would send for ``record``."""
        with self._lock:
            self.requests.append(record)
        if self.mode == "error":
            return 503, {"error": "service unavailable"}
        if record.host == CLOUDFLARE_HOST:
            key_id, token = self.cloudflare
            expected = f"/v1/turn/keys/{key_id}/credentials/generate-ice-servers"
            if (self.mode == "refuse" or record.method != "POST" or record.path != expected
                    or record.authorization != f"Bearer {token}"):
                return 401, {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}
            username, credential = self._next_credentials("cf")
            stun = [{"urls": ["stun:stun.cloudflare.com:3478"]}] if self.with_stun else []
            return 201, {"iceServers": [
                *stun, {"urls": list(self.relay_urls), "username": username, "credential": credential},
            ]}
        sid, token = self.twilio
        basic = base64.b64encode(f"{sid}:{token}".encode()).decode()
        if (self.mode == "refuse" or record.method != "POST"
                or record.path != f"/2010-04-01/Accounts/{sid}/Tokens.json"
                or record.authorization != f"Basic {basic}"):
            return 401, {"code": 20003, "message": "Authenticate", "status": 401,
                         "more_info": "https://www.twilio.com/docs/errors/20003"}
        username, credential = self._next_credentials("tw")
        servers = ([{"url": "stun:global.stun.twilio.com:3478", "urls": "stun:global.stun.twilio.com:3478"}]
                   if self.with_stun else [])
        servers += [{"url": url, "urls": url, "username": username, "credential": credential}
                    for url in self.relay_urls]
        return 201, {"account_sid": sid, "ttl": "3600", "username": username, "password": credential,
                     "ice_servers": servers, "date_created": "Sun, 06 Dec 2026 00:00:00 +0000",
                     "date_updated": "Sun, 06 Dec 2026 00:00:00 +0000"}


def _endpoint_handler(fake: FakeTurnServices, host: str) -> type[BaseHTTPRequestHandler]:
    class Endpoint(BaseHTTPRequestHandler):
        """Requests inside one CONNECT tunnel, after the TLS handshake."""

        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = fake.answer(Recorded(host, self.command, self.path.split("?")[0],
                                                   self.headers.get("Authorization", ""), body))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        do_POST = do_GET = _answer

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    return Endpoint


def _proxy_handler(fake: FakeTurnServices) -> type[BaseHTTPRequestHandler]:
    class Proxy(BaseHTTPRequestHandler):
        """Accepts ``CONNECT`` for the two providers and answers inside; forwards nothing."""

        protocol_version = "HTTP/1.1"

        def do_CONNECT(self) -> None:
            host = self.path.rsplit(":", 1)[0]
            fake.connects.append(self.path)
            if host not in HOSTS:
                self.send_error(403, "this fake only answers the TURN credential endpoints")
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            try:
                tls = fake._tls.wrap_socket(self.connection, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                tls.settimeout(10)
                _endpoint_handler(fake, host)(tls, self.client_address, self.server)
            except (ssl.SSLError, OSError):
                pass
            finally:
                tls.close()

        def _refuse(self) -> None:  # a plain-HTTP proxy request: recorded, never forwarded
            fake.connects.append(f"{self.command} {self.path}")
            self.send_error(403, "this fake forwards nothing")

        do_GET = do_POST = do_HEAD = _refuse

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Proxy
