"""Read-only SQL over one DataFrame or a set of them, isolated in a DuckDB worker process.

``SqlSandbox`` owns one child process (``livechat.tools.sql_worker``) per dataset. A
DataFrame kept in a shared Arrow file (``livechat.data.table_file``) is memory-mapped by
the worker from that file (one copy in memory for app and worker); any other is
converted to Arrow and streamed to the worker, which copies it into an in-memory DuckDB table (one DataFrame: ``data``; a set: one table per SQL name, the first
also as the view ``data``) and locks the database down (see the worker's docstring). Each ``query`` is one small request/response over pipes, so the
fast path costs well under a millisecond on top of DuckDB itself.

Isolation, and why it is a process (measured; numbers in ``livechat.tools.sql_worker``):
DuckDB's ``interrupt()`` is only checked between vectors and ``memory_limit`` does not
cover every allocation, so a single scalar call can take gigabytes and tens of seconds
in whatever process runs it. The worker has an address-space limit (``RLIMIT_AS``:
its size after loading plus ``SqlLimits.address_space_mb``), interrupts its own query at
``timeout_s``, and is killed by the sandbox if it has not answered ``kill_grace_s`` later.
A killed or crashed worker is started again on the next query; the server never waits
on it for longer than the deadline. The worker gets an empty environment (no API key to
read even if a function could), no core dumps or file writes, and a lower CPU priority
than the server (``WORKER_NICE``), so a heavy query never starves page runs or audio.

Threads: ``query`` may be called from any thread (Live session tool pool, Streamlit
script thread); queries on one sandbox run one at a time under a lock. ``close`` may
be called from any thread, also while a query runs (that query then fails).
"""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from livechat.data.arrow_table import sql_column_names, to_arrow
from livechat.data.table_file import mapped_file
from livechat.tools.sql_wire import FrameError, FrameTimeout, read_frame, write_frame
from livechat.tools.sql_worker import TABLE_NAME_RE

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SqlError",
    "SqlLimits",
    "SqlLimitsError",
    "SqlMemoryError",
    "SqlRefusedError",
    "SqlSandbox",
    "SqlTableNameError",
    "SqlTimeoutError",
    "SqlWorkerError",
    "WORKER_NICE",
    "sql_column_names",
    "to_arrow",
]

logger = logging.getLogger(__name__)

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding livechat/
# -I: ignore PYTHON* variables and the user site; the path to this checkout is passed in.
# No NumPy: the worker only maps Arrow files and hands DuckDB Arrow tables, and pyarrow
# imports NumPy whenever it can, which costs each worker 6 MB of its own (issue 29).
# Niced below the server first thing, so every thread (pyarrow's, DuckDB's) inherits it:
# a query keeping DuckDB's threads busy for its 5 s must not starve the server's page runs
# and audio pacing on a small host (on 2 cores it once held a typed question back until
# the query had ended).
WORKER_NICE = 10
_WORKER_BOOT = (f"import os, sys; os.nice({WORKER_NICE}); sys.modules['numpy'] = None; "
                "sys.path.insert(0, sys.argv[1]); from livechat.tools.sql_worker import main; sys.exit(main())")
# The worker sees only this environment: no API keys, no proxies, UTC, few malloc arenas
# (each glibc arena reserves 64 MB of address space, which RLIMIT_AS counts).
_WORKER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC", "MALLOC_ARENA_MAX": "2"}


class SqlLimitsError(ValueError):
    """A ``SqlLimits`` field is out of range."""


class SqlTableNameError(ValueError):
    """A table set's names cannot be SQL table names (the worker never quotes them)."""


class SqlError(Exception):
    """A query was refused or did not finish. ``str()`` is written for the model and analyst."""


class SqlRefusedError(SqlError):
    """The query is not one read-only SELECT (or is malformed); it never ran."""


class SqlTimeoutError(SqlError):
    """The query ran past ``SqlLimits.timeout_s`` and was stopped."""


class SqlMemoryError(SqlError):
    """The query needed more memory than the worker may use and was stopped."""


class SqlWorkerError(SqlError):
    """The worker process could not start, or died; the next query starts a new one."""


@dataclass(frozen=True)
class SqlLimits:
    """Caps for one dataset's SQL sandbox. Defaults follow issue 9."""

    timeout_s: float = 5.0  # the worker interrupts the query here
    kill_grace_s: float = 2.0  # ... and the sandbox kills the worker if no answer by then
    max_rows: int = 50
    max_bytes: int = 8192  # compact JSON of the whole result
    memory_mb: int = 1024  # DuckDB memory_limit for query work, on top of the table itself
    address_space_mb: int = 1536  # RLIMIT_AS headroom over the worker's size after loading
    threads: int = 2
    max_query_chars: int = 10_000
    start_timeout_s: float = 120.0  # spawn + load; a 200 MB upload takes a few seconds

    def __post_init__(self) -> None:
        for name in ("timeout_s", "kill_grace_s", "start_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise SqlLimitsError(f"{name} must be a positive number of seconds, got {value!r}")
        for name, low in (("max_rows", 1), ("max_bytes", 256), ("memory_mb", 16),
                          ("address_space_mb", 64), ("threads", 1), ("max_query_chars", 16)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise SqlLimitsError(f"{name} must be an integer >= {low}, got {value!r}")


def _table_timezone(df: pd.DataFrame) -> str | None:
    """The zone DuckDB should use for date_trunc/strftime: the data's, if it has one."""
    zones = {str(tz) for tz in (getattr(dtype, "tz", None) for dtype in df.dtypes) if tz is not None}
    return zones.pop() if len(zones) == 1 else None


def _set_timezone(frames: list[pd.DataFrame]) -> str | None:
    """One zone for a set of tables: the zone they all agree on, else None (UTC)."""
    zones = {_table_timezone(df) for df in frames} - {None}
    return zones.pop() if len(zones) == 1 else None


class _Worker:
    """One child process and its pipes (used under the sandbox's locks)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _WORKER_BOOT, _PACKAGE_ROOT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
            env=_WORKER_ENV, close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._stdin = self.proc.stdin
        self._stdout_fd = self.proc.stdout.fileno()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def load(self, tables: list[pa.Table], hello: dict[str, Any], deadline: float) -> dict[str, Any]:
        write_frame(self._stdin, hello)
        try:
            for table in tables:  # one stream per table without a file, in hello["tables"] order
                with pa.ipc.new_stream(self._stdin, table.schema) as writer:
                    writer.write_table(table, max_chunksize=64 * 1024)
            self._stdin.flush()
        except (BrokenPipeError, OSError, pa.ArrowException) as exc:
            raise FrameError(f"worker stopped reading the table: {exc}") from exc
        return read_frame(self._stdout_fd, deadline=deadline)

    def ask(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        write_frame(self._stdin, request)
        return read_frame(self._stdout_fd, deadline=deadline)

    def kill(self) -> None:
        """Kill and reap the process; safe to call twice, from any thread."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            logger.warning("SQL worker %d did not exit within 5 s of SIGKILL", self.proc.pid)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


class _Slot:
    """Holds the current worker so a finalizer can kill it without holding the sandbox."""

    def __init__(self) -> None:
        self.worker: _Worker | None = None


def _kill_slot(slot: _Slot) -> None:
    worker, slot.worker = slot.worker, None
    if worker is not None:
        worker.kill()


class SqlSandbox:
    """Read-only SQL over one DataFrame (table ``data``), or a mapping of SQL name to
    DataFrame (those tables, the first also as ``data``), in a locked-down worker process.

    ``__init__`` does no I/O; ``start`` (or the first ``query``) spawns the worker and
    loads the data. Thread-safe; see the module docstring.
    """

    def __init__(self, source: pd.DataFrame | Mapping[str, pd.DataFrame], *,
                 limits: SqlLimits = SqlLimits()) -> None:
        if isinstance(source, Mapping):
            if not source:
                raise SqlTableNameError("a table set needs at least one table")
            bad = [name for name in source if not isinstance(name, str) or not TABLE_NAME_RE.fullmatch(name)]
            if bad:
                raise SqlTableNameError(
                    "table names must be lowercase SQL identifiers ([a-z_][a-z0-9_]*, at most 63 "
                    f"characters; see livechat.data.sql_names), got {bad!r}")
            self._tables = dict(source)
        else:
            self._tables = {"data": source}
        self._df = next(iter(self._tables.values()))
        self._limits = limits
        self._query_lock = threading.Lock()  # one query (or start) at a time
        self._state_lock = threading.Lock()  # guards _slot.worker and _closed
        self._slot = _Slot()
        self._closed = False
        self._ids = itertools.count(1)
        self.columns: list[str] = sql_column_names(self._df)  # of `data` (the first table)
        self.tables: tuple[str, ...] = tuple(self._tables)
        self._finalizer = weakref.finalize(self, _kill_slot, self._slot)

    @property
    def limits(self) -> SqlLimits:
        return self._limits

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id, or None if none is running (for diagnostics and tests)."""
        worker = self._slot.worker
        return worker.pid if worker is not None else None

    def start(self) -> None:
        """Spawn the worker and load the data now (any thread). Raises ``SqlWorkerError``."""
        if not self._query_lock.acquire(timeout=self._lock_wait()):
            raise SqlError("Another query on this table is still running; try again shortly.")
        try:
            self._ensure_worker()
        finally:
            self._query_lock.release()

    def query(self, sql: str, *, max_rows: int | None = None,
              max_bytes: int | None = None) -> dict[str, Any]:
        """Run one read-only SELECT (any thread). Raises a ``SqlError`` subclass.

        Returns ``{"columns", "rows", "row_count", "truncated", "elapsed_ms"}``, JSON-safe.
        ``max_rows``/``max_bytes`` raise the result caps for this query only (chart data;
        the worker never goes past its own chart ceiling).
        """
        if not isinstance(sql, str):
            raise SqlRefusedError(f"The query must be text, got {type(sql).__name__}.")
        limit = self._limits.max_query_chars
        if len(sql) > limit:  # checked here too so huge strings never cross the pipe
            raise SqlRefusedError(f"The query must be at most {limit} characters, got {len(sql)}.")
        if not self._query_lock.acquire(timeout=self._lock_wait()):
            raise SqlError("Another query on this table is still running; try again shortly.")
        try:
            worker = self._ensure_worker()
            started = time.monotonic()
            request_id = next(self._ids)
            deadline = started + self._limits.timeout_s + self._limits.kill_grace_s
            try:
                request: dict[str, Any] = {"op": "query", "id": request_id, "sql": sql}
                if max_rows is not None:
                    request["max_rows"] = int(max_rows)
                if max_bytes is not None:
                    request["max_bytes"] = int(max_bytes)
                reply = worker.ask(request, deadline)
            except FrameTimeout:
                logger.warning("SQL worker %d missed its deadline; killing it", worker.pid)
                self._drop(worker)
                raise SqlTimeoutError(
                    f"Query exceeded {self._limits.timeout_s:g} s and was stopped. "
                    "Filter or aggregate more, or add LIMIT.") from None
            except FrameError as exc:
                logger.warning("SQL worker %d died during a query: %s", worker.pid, exc)
                self._drop(worker)
                raise SqlWorkerError(self._died_message()) from None
            elapsed_ms = round((time.monotonic() - started) * 1000.0, 1)
        finally:
            self._query_lock.release()
        if reply.get("id") != request_id:
            self._drop(worker)
            raise SqlWorkerError(self._died_message())
        if "error" in reply:
            kind = reply.get("kind")
            error_class = {"refused": SqlRefusedError, "timeout": SqlTimeoutError,
                           "memory": SqlMemoryError}.get(str(kind), SqlError)
            raise error_class(str(reply["error"]))
        reply.pop("id", None)
        reply.pop("kind", None)
        reply["elapsed_ms"] = elapsed_ms
        return reply

    def close(self) -> None:
        """Stop the worker (any thread; idempotent). A running query fails at once."""
        with self._state_lock:
            self._closed = True
        _kill_slot(self._slot)

    def __enter__(self) -> SqlSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals (called with _query_lock held) --

    def _lock_wait(self) -> float:
        # One query ahead of us can take at most its deadline; wait for that, not forever.
        return self._limits.timeout_s + self._limits.kill_grace_s + 1.0

    def _died_message(self) -> str:
        return ("The query stopped the SQL engine (it probably needed more memory than the "
                f"{self._limits.address_space_mb} MB allowed). It has been reset; aggregate or "
                "filter more, or add LIMIT.")

    def _drop(self, worker: _Worker) -> None:
        with self._state_lock:
            if self._slot.worker is worker:
                self._slot.worker = None
        worker.kill()

    def _ensure_worker(self) -> _Worker:
        with self._state_lock:
            if self._closed:
                raise SqlWorkerError("The SQL tool for this table has been closed.")
            worker = self._slot.worker
        if worker is not None and worker.proc.poll() is None:
            return worker
        if worker is not None:
            self._drop(worker)
        started = time.monotonic()
        # A table kept in a shared file (livechat.data.table_file) is mapped by the worker
        # itself; only the others are converted and streamed.
        files = {name: str(path.resolve()) for name, df in self._tables.items()
                 if (path := mapped_file(df)) is not None}
        tables = [to_arrow(df) for name, df in self._tables.items() if name not in files]
        hello = {"op": "load", "limits": asdict(self._limits), "tables": list(self._tables),
                 "files": files, "timezone": _set_timezone(list(self._tables.values()))}
        try:
            worker = _Worker()
        except OSError as exc:
            raise SqlWorkerError(f"The SQL engine could not be started: {exc}") from exc
        try:
            reply = worker.load(tables, hello, started + self._limits.start_timeout_s)
        except FrameError as exc:
            worker.kill()
            logger.warning("SQL worker failed to load the table: %s", exc)
            raise SqlWorkerError("The SQL engine stopped while loading the table.") from None
        if "ready" not in reply:
            worker.kill()
            raise SqlWorkerError(str(reply.get("error", "The SQL engine could not load the table.")))
        with self._state_lock:
            if self._closed:
                worker.kill()
                raise SqlWorkerError("The SQL tool for this table has been closed.")
            self._slot.worker = worker
        info = reply["ready"]
        logger.info("SQL worker %d ready: %d rows, memory_limit %d MB, address space %d MB, %.2f s",
                    worker.pid, info.get("rows", -1), info.get("memory_limit_mb", -1),
                    info.get("address_space_mb", -1), time.monotonic() - started)
        return worker
