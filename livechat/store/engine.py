"""The store's SQLAlchemy engine, built the way Streamlit's ``SQLConnection`` builds one.

SQLite (the default): the data directory is created on first use, and every new
connection turns on foreign keys (off by default in SQLite, and ``ON DELETE CASCADE``
depends on them), waits up to ``BUSY_TIMEOUT_MS`` for another writer instead of failing
at once, and uses WAL so page reads never wait for the background writer. The
in-process database (retention 0) is one connection shared by every thread.

PostgreSQL: a connection that cannot be made within ``CONNECT_TIMEOUT_S`` fails (the app
then runs in memory and says so), and pooled connections are checked before use so a
restarted database does not fail the next write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

__all__ = ["BUSY_TIMEOUT_MS", "CONNECT_TIMEOUT_S", "make_engine"]

BUSY_TIMEOUT_MS = 5_000
CONNECT_TIMEOUT_S = 5


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings above (creates an SQLite file's folder)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        else:
            engine = create_engine(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(wal=bool(database) and database != ":memory:"))
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(*, wal: bool):  # -> a "connect" event listener
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")  # WAL's usual pairing: durable at checkpoints
        finally:
            cursor.close()

    return on_connect
