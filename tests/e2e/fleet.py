"""``deploy/serve`` for the browser tests: the operator's own script, N replicas behind HAProxy.

Started as a subprocess (its own process group) with the emulator's settings in the
environment; ``replicas.json`` in its run directory says which replica has which pid.

Threads: the test's main thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.app_server import REPO_ROOT, free_port
from tests.e2e.errors import HarnessError

SERVE = REPO_ROOT / "deploy" / "serve"
_START_TIMEOUT_S = 180.0


def replica_env(emulator, api_key: str, **extra: str) -> dict[str, str]:
    """The replicas' environment: this one without Gemini, Streamlit or relay settings,
    plus the emulator's (and ``extra``)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("GEMINI_", "GOOGLE_", "STREAMLIT_", "LIVECHAT_TURN", "LIVECHAT_ICE"))}
    env.update({"GEMINI_API_KEY": api_key, "GEMINI_BASE_URL": emulator.base_url,
                "GEMINI_CA_FILE": emulator.ca_file, "PYTHONUNBUFFERED": "1", **extra})
    return env


def fleet_unavailable_reason() -> str | None:
    """Why deploy/serve cannot run here, or None."""
    if shutil.which("haproxy") is None:
        return "the replica tests need Debian's haproxy (apt-get install haproxy)"
    return None


class Fleet:
    """``deploy/serve --replicas N`` on 127.0.0.1 and a free port; ``stop()`` is idempotent."""

    def __init__(self, run_dir: Path, env: dict[str, str], *, replicas: int = 2) -> None:
        self.run_dir = run_dir
        self.port = free_port()
        self._env = env
        self._replicas = replicas
        self._proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "serve.log"

    def start(self) -> "Fleet":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        command = [sys.executable, str(SERVE), "--replicas", str(self._replicas), "--port", str(self.port),
                   "--base-port", str(free_port()), "--run-dir", str(self.run_dir)]
        self._proc = subprocess.Popen(command, cwd=REPO_ROOT, env=self._env, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if (self.run_dir / "replicas.json").exists():
                return self
            time.sleep(0.2)  # readiness poll
        tail = self.log_tail()
        self.stop()
        raise HarnessError(f"deploy/serve did not come up within {_START_TIMEOUT_S:.0f} s:\n{tail}")

    def state(self) -> dict:
        return json.loads((self.run_dir / "replicas.json").read_text())

    def replica_pid(self, replica_id: str) -> int:
        for replica in self.state()["replicas"]:
            if replica["id"] == replica_id:
                return int(replica["pid"])
        raise HarnessError(f"no replica {replica_id!r} in {self.state()}")

    def kill(self, replica_id: str) -> None:
        """SIGKILL one replica (a crash, not a clean stop)."""
        os.kill(self.replica_pid(replica_id), signal.SIGKILL)

    def log_text(self) -> str:
        """Every replica's and HAProxy's whole log, concatenated."""
        parts = []
        for path in sorted(self.run_dir.glob("*.log")):
            with contextlib.suppress(OSError):
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def log_tail(self, lines: int = 60) -> str:
        parts = []
        for path in sorted(self.run_dir.glob("*.log")):
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self) -> int | None:
        """SIGTERM deploy/serve (it stops its replicas and HAProxy); its exit status."""
        proc, self._proc = self._proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    code = proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    code = proc.wait(timeout=10)
            else:
                code = proc.returncode
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind
        if self._log is not None:
            self._log.close()
            self._log = None
        return code
