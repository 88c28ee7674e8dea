"""The app under test: ``streamlit run app.py`` on 127.0.0.1 and a free port, logging to a file.

Started from the repository root with the emulator's base URL, CA file and key in the
environment, stopped with its whole process group (the app's SQL worker included).

Threads: the test's (or benchmark's) main thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

from livechat.emulator import EmulatorServer
from livechat.procstat import tree_pids
from tests.e2e.errors import HarnessError

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
_HEALTH_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 10.0

# Logged by streamlit-webrtc (DEBUG) when it resets a context it thinks went stale: the
# race the compat shim removes. The app is launched with that logger at DEBUG to see it.
STALE_RESET_MESSAGE = "not rendered for"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (Streamlit cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """``streamlit run app.py`` on 127.0.0.1:PORT, cwd = repo root, output to ``log_path``.

    The process is the same CLI as ``streamlit run``, started through ``python -c`` only to
    raise one logger (``streamlit_webrtc.component``) to DEBUG, so the stale-context reset
    (``STALE_RESET_MESSAGE``) shows up in the log when it happens.
    """

    def __init__(self, *, log_path: Path, env: dict[str, str], port: int | None = None,
                 repo_root: Path = REPO_ROOT) -> None:
        self.log_path = log_path
        self._env = env
        self._port = port
        self._repo_root = repo_root
        self._proc: subprocess.Popen | None = None
        self._log_file = None

    @classmethod
    def for_emulator(cls, emulator: EmulatorServer, api_key: str, *, log_path: Path,
                     extra_env: dict[str, str] | None = None) -> "AppServer":
        """An app configured for ``emulator`` the way the tests need it."""
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("GEMINI_", "GOOGLE_", "STREAMLIT_"))}
        env.update({
            "GEMINI_API_KEY": api_key, "GEMINI_BASE_URL": emulator.base_url,
            "GEMINI_CA_FILE": emulator.ca_file, "LIVECHAT_AUDIO_PROCESSING": "off",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra_env or {})
        return cls(log_path=log_path, env=env)

    @property
    def port(self) -> int:
        if self._port is None:
            raise HarnessError("AppServer.port needs start() first")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise HarnessError("AppServer.pid needs start() first")
        return self._proc.pid

    def start(self, timeout: float = _HEALTH_TIMEOUT_S) -> "AppServer":
        """Start the server and wait for ``/_stcore/health``; raise ``HarnessError`` with the log tail."""
        for attempt in range(3):  # a free port can be taken between free_port() and bind
            port = self._port if (self._port is not None and attempt == 0) else free_port()
            self._port = port
            self._launch(port)
            if self._wait_healthy(timeout):
                return self
            in_use = "already in use" in self.log_text()
            self.stop()
            if not in_use:
                break
        raise HarnessError(f"the app did not become healthy at {self.url} within {timeout:.0f} s; "
                           f"log tail:\n{self.log_tail()}")

    def _launch(self, port: int) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")
        bootstrap = ("import logging, runpy; "
                     "logging.getLogger('streamlit_webrtc.component').setLevel(logging.DEBUG); "
                     "logging.getLogger('streamlit_webrtc.shutdown').setLevel(logging.DEBUG); "
                     "logging.getLogger('aioice.ice').setLevel(logging.INFO); "
                     "runpy.run_module('streamlit', run_name='__main__', alter_sys=True)")
        command = [sys.executable, "-c", bootstrap, "run", "app.py",
                   "--server.address", "127.0.0.1", "--server.port", str(port),
                   "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        # Own process group: stop() ends the app and any worker it spawned (SQL sandbox).
        self._proc = subprocess.Popen(command, cwd=self._repo_root, env=self._env, stdout=self._log_file,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_healthy(self, timeout: float) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)  # polling interval of a readiness probe, not a timing assumption
        return False

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = _STOP_TIMEOUT_S) -> int | None:
        """SIGTERM the app's process group, wait (bounded), SIGKILL if needed; return the exit code."""
        proc, self._proc = self._proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    code = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    logger.warning("app pid %d did not exit within %.0f s of SIGTERM; killing it", proc.pid, timeout)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    code = proc.wait(timeout=5)
            else:
                code = proc.returncode
            # Workers the app left behind in its group (they should be gone already).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return code

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def sql_worker_pids(self) -> list[int]:
        """The app's SQL worker processes (``livechat.tools.sql_worker``), read from ``/proc``."""
        pids = []
        for pid in tree_pids(self.pid)[1:]:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if b"livechat.tools.sql_worker" in cmdline.read():
                        pids.append(pid)
            except OSError:
                continue  # gone since the scan
        return pids

    @contextlib.contextmanager
    def sql_workers_held(self) -> Iterator[list[int]]:
        """Freeze the app's SQL workers (SIGSTOP) for the block, then let them go on (SIGCONT).

        A query held this way is pending for as long as the test needs, whatever the
        machine's load, up to the sandbox's own deadline (``SqlLimits``: 5 s + 2 s), after
        which the app kills the worker and answers with the cap's error as it would for any
        query that ran too long. Yields the held pids."""
        pids = self.sql_worker_pids()
        if not pids:
            raise HarnessError("the app has no SQL worker to hold")
        held = []
        try:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
                    held.append(pid)
            yield held
        finally:
            for pid in held:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def threads_and_fds(self) -> tuple[int, int]:
        """(thread count, open file descriptors) of the app process, from /proc."""
        return len(os.listdir(f"/proc/{self.pid}/task")), len(os.listdir(f"/proc/{self.pid}/fd"))
