"""Debian's PostgreSQL 15 for the store's tests and bench: a private server per run.

``PostgresServer`` runs ``initdb`` into a temporary directory and starts ``postgres`` on
a free 127.0.0.1 port, with its unix socket in that directory too (never the system's
/var/run/postgresql), trust authentication for local connections only, and fsync off
(a throwaway cluster). ``initdb`` and ``postgres`` refuse to run as root, so as root
they run as the ``postgres`` user (``runuser``) and the directory is handed to it.
``new_database()`` gives each test a database of its own. ``stop()`` shuts it down fast.

Threads: the test's main thread.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
_START_TIMEOUT_S = 30.0


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


def postgres_unavailable_reason() -> str | None:
    """Why no private PostgreSQL can run here, or None."""
    if not (PG_BIN / "postgres").exists():
        return f"the store tests need Debian's postgresql at {PG_BIN} (apt-get install postgresql)"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root needs runuser (util-linux) to start PostgreSQL as the postgres user"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One throwaway PostgreSQL cluster on 127.0.0.1 (see the module docstring)."""

    def __init__(self) -> None:
        reason = postgres_unavailable_reason()
        if reason:
            raise PostgresUnavailable(reason)
        self.dir = Path(tempfile.mkdtemp(prefix="livechat-pg-"))
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._as_user: list[str] = []
        # The server itself runs as postgres (Popen's user/group), not under runuser:
        # runuser does not pass SIGINT on, so stop() waited out its bound and left the
        # server running.
        self._popen_user: dict[str, int] = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
            self._popen_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def start(self) -> PostgresServer:
        data = self.dir / "data"
        subprocess.run([*self._as_user, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, capture_output=True, timeout=120)
        log = open(self.dir / "postgres.log", "wb")
        self._process = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, **self._popen_user)
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PostgresUnavailable(f"postgres exited: {self.log_tail()}")
            if subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                              check=False).returncode == 0:
                return self
            time.sleep(0.2)
        self.stop()
        raise PostgresUnavailable(f"postgres did not accept connections within {_START_TIMEOUT_S:.0f} s")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.dir / "postgres.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            # Fast shutdown (SIGINT): running transactions are rolled back, the server exits.
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        shutil.rmtree(self.dir, ignore_errors=True)
