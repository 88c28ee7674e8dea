"""Debian's coturn for the relay tests: started by the test, inside the private namespace.

Bound to one of the namespace's veth addresses (10.77.0.2, never the host's network), a
port free for both UDP and TCP, a relay port range of its own, and the TURN REST API
scheme (``use-auth-secret``) with a secret made up per run. Its log (``--verbose``)
records every allocation, so a test can also see from the server's side that media was
relayed.

Threads: the test's main thread.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.e2e.errors import HarnessError

TURNSERVER = "/usr/bin/turnserver"
NAMESPACE_ADDRESS = "10.77.0.2"  # scripts/isolated-net's second veth address
_START_TIMEOUT_S = 15.0


def turn_unavailable_reason() -> str | None:
    """Why coturn cannot run here, or None."""
    if not os.access(TURNSERVER, os.X_OK):
        return f"the relay tests need Debian's coturn at {TURNSERVER} (apt-get install coturn)"
    return None


def _free_udp_and_tcp_port(address: str) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((address, 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind((address, port))
            except OSError:
                continue
            return port
    raise HarnessError(f"no port free for both UDP and TCP on {address}")


class TurnServer:
    """``turnserver`` with a per-run static auth secret; ``stop()`` is idempotent."""

    def __init__(self, log_path: Path, *, address: str = NAMESPACE_ADDRESS) -> None:
        self.address = address
        self.secret = "turn-secret-" + secrets.token_urlsafe(24)
        self.realm = "livechat.test"
        self.log_path = log_path
        self.port = 0
        self._proc: subprocess.Popen | None = None
        self._log = None

    def url(self, transport: str) -> str:
        """``turn:<address>:<port>?transport=udp|tcp``."""
        return f"turn:{self.address}:{self.port}?transport={transport}"

    def start(self) -> "TurnServer":
        self.port = _free_udp_and_tcp_port(self.address)
        low = random.randrange(50000, 60000, 100)  # a relay range of its own per run
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        command = [
            shutil.which("turnserver") or TURNSERVER, "-n",
            f"--listening-ip={self.address}", f"--listening-port={self.port}",
            f"--relay-ip={self.address}", f"--min-port={low}", f"--max-port={low + 99}",
            "--use-auth-secret", f"--static-auth-secret={self.secret}", f"--realm={self.realm}",
            # The app's aiortc peer listens on the namespace addresses; loopback peers too,
            # in case a candidate there is chosen (coturn refuses them by default).
            "--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-cli", "--verbose",
            "--log-file=stdout", "--simple-log", "--no-software-attribute",
            f"--pidfile={self.log_path.with_suffix('.pid')}",
        ]
        self._proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection((self.address, self.port), timeout=1):
                return self
            time.sleep(0.1)  # readiness poll
        log = self.log_text()[-3000:]
        self.stop()
        raise HarnessError(f"turnserver did not listen on {self.address}:{self.port}; log:\n{log}")

    def allocations(self) -> int:
        """How many relay allocations the server logged as created (its verbose log)."""
        return self.log_text().count("ALLOCATE processed, success")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
