"""The DuckDB side of the SQL sandbox: runs in its own process, one per dataset.

``livechat.tools.sql_sandbox`` starts this module as a child process (``main``) and talks to it
over stdin/stdout with ``livechat.tools.sql_wire`` frames:

1. a ``load`` frame (limits, time zone, the table names, and for tables kept in a
   shared Arrow file its path), followed on the same pipe by one Arrow IPC stream per
   table *without* a file, in that order. A table with a file is memory-mapped (opened
   before the lock-down, so queries still cannot open files) and scanned in place: the
   app maps the same file, so the page cache holds the table once for both processes.
   A streamed table is copied into an in-memory DuckDB table. Each gets its name (one
   table: ``data``; a set of tables: their SQL names, the first also as the view
   ``data``); then the worker locks the database down and answers ``ready``;
2. then one ``query`` frame at a time, each answered by a result or an error.

Why a separate process (measured, see ``bench/bench_tools.py`` and the security test):
DuckDB checks ``interrupt()`` only between vectors and its ``memory_limit`` covers only
the buffer manager. Run in the server process (memory_limit 1 GB, interrupt at 5 s),
``length(repeat('x', 4000000000))`` peaked at 8 GB RSS and returned after 30 s;
``lpad('x', 2000000000, 'y')`` peaked at 4 GB and took 24 s. Here the process has an
address-space limit (``RLIMIT_AS``), so the first fails at once with an out-of-memory
error and the second is interrupted or killed at the deadline (see bench_tools.py).

Lock-down, in order: no replacement scans (DuckDB would otherwise read any pandas
DataFrame in scope by name), no external access (files, network, extensions, secrets),
no extension autoload/autoinstall, no temporary directory (nothing spills to disk),
memory and thread limits, then the configuration is locked. Each query must parse to
exactly one SELECT statement (DuckDB's own parser decides: ``extract_statements``) whose
parse tree (``json_serialize_sql``) holds only read-only query nodes, since DuckDB 2
accepts ``WITH t AS (DELETE ... RETURNING *) SELECT ...`` as a SELECT; it runs in a
transaction that is rolled back, and is interrupted at its deadline by a watchdog
thread. The process also gets no core dumps and a zero file-size limit.

Threads (in the worker process): the main thread reads frames and runs queries; one
watchdog thread calls ``interrupt()`` when a query passes its deadline.
"""

from __future__ import annotations

import difflib
import gc
import json
import logging
import os
import re
import resource
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, BinaryIO

import duckdb
import pyarrow as pa

from livechat.data.arrow_files import open_table_folder
from livechat.procstat import address_space_bytes
from livechat.tools.sql_wire import (
    FrameError,
    compact_json,
    json_safe,
    read_frame,
    write_frame,
)

__all__ = ["QueryEngine", "main", "refusal_for", "shape_result"]

logger = logging.getLogger(__name__)  # no handler in the worker: warnings reach stderr

TABLE_NAME = "data"
# Table names the sandbox may send: what livechat.data.sql_names makes (never quoted).
TABLE_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Result caps a single request may ask for (show_chart draws from a query result).
CHART_MAX_ROWS = 5_000
CHART_MAX_BYTES = 768 * 1024  # under sql_wire.MAX_FRAME_BYTES with room for the frame
_SCAN_BATCH_ROWS = 122_880  # DuckDB's row group: the unit its parallel scans hand out
_SOURCE_NAME = "__livechat_arrow_source"  # registered only while copying, then dropped

# Only SELECT (WITH ... SELECT, VALUES, FROM-first, PIVOT parse as SELECT too).
_ALLOWED = frozenset({duckdb.StatementType.SELECT})
# Query nodes that only read (json_serialize_sql "type" values ending in _NODE).
_READ_ONLY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})

_MISSING_COLUMN = re.compile(r'Referenced column "(?P<name>[^"]+)" not found')
_MISSING_TABLE = re.compile(r'Table with name (?P<name>.+?) does not exist')


def refusal_for(con: duckdb.DuckDBPyConnection, sql: str, max_chars: int) -> str | None:
    """Return why ``sql`` may not run (a message for the model), or None if it may.

    DuckDB's parser splits and classifies the text, so comments, string literals with
    semicolons and odd whitespace are handled exactly as execution would handle them.
    """
    if len(sql) > max_chars:
        return f"The query must be at most {max_chars} characters, got {len(sql)}."
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        return f"SQL syntax error: {_first_line(exc)}"
    if not statements:
        return "The query is empty. Send one SELECT statement over the table `data`."
    if len(statements) > 1:
        return (f"Only one SELECT or WITH statement is allowed; got {len(statements)} "
                "statements. Send them one at a time.")
    kind = statements[0].type
    if kind == duckdb.StatementType.MULTI:
        return ("PIVOT without a fixed list of values runs several statements, which is not "
                "allowed. List the values (PIVOT data ON col IN ('a', 'b') USING sum(x)) or use "
                "GROUP BY with sum(x) FILTER (WHERE ...).")
    if kind not in _ALLOWED:
        name = getattr(kind, "name", str(kind))
        article = "an" if name[:1] in "AEIOU" else "a"
        return (f"Only one SELECT or WITH statement is allowed; got {article} {name} statement. "
                "The table `data` is read-only.")
    return _refusal_inside(con, sql)


def _refusal_inside(con: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    """Refuse a SELECT that carries a write inside it.

    DuckDB classifies ``WITH t AS (DELETE FROM data RETURNING *) SELECT * FROM t`` (and
    INSERT/UPDATE/COPY in a CTE) as a SELECT statement. Its own serialised parse tree
    names every query node, so only the read-only node types are let through.
    """
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except (duckdb.Error, TypeError, ValueError, RecursionError) as exc:
        return f"The query could not be checked: {_first_line(exc)}"
    if tree.get("error"):
        message = str(tree.get("error_message", "unknown"))[:300]
        if tree.get("error_type") == "parser":
            return f"SQL syntax error: {message}"
        return f"This form of query is not supported ({message}). Write it as a plain SELECT."
    for node_type in _query_node_types(tree):
        if node_type not in _READ_ONLY_NODES:
            action = node_type.removesuffix("_NODE").removesuffix("_QUERY").replace("_", " ")
            return (f"Only reading is allowed: the query contains a {action} inside it. "
                    "The table `data` is read-only.")
    return None


def _query_node_types(tree: Any) -> list[str]:
    found: list[str] = []
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            kind = item.get("type")
            if isinstance(kind, str) and kind.endswith("_NODE"):
                found.append(kind)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def shape_result(columns: list[str], rows: list[list[Any]], total_rows: int,
                 max_rows: int, max_bytes: int) -> dict[str, Any]:
    """Build the compact, JSON-safe result, dropping rows until it fits ``max_bytes``.

    ``rows`` may hold more than ``max_rows`` rows (the extra one tells us the result
    went on); ``total_rows`` is the full row count of the result.
    """
    safe_rows = [[json_safe(v) for v in row] for row in rows[:max_rows]]
    result: dict[str, Any] = {
        "columns": [str(c) for c in columns],
        "rows": safe_rows,
        "row_count": total_rows,
        "truncated": total_rows > len(safe_rows),
    }
    if _size(result) <= max_bytes:
        return result
    # Binary search for the most rows that fit; reserve room for elapsed_ms added later.
    low, high = 0, len(safe_rows)
    while low < high:
        mid = (low + high + 1) // 2
        result["rows"] = safe_rows[:mid]
        if _size(result) <= max_bytes:
            low = mid
        else:
            high = mid - 1
    result["rows"] = safe_rows[:low]
    result["truncated"] = True
    if _size(result) > max_bytes:
        return {"error": (f"The result has {len(columns)} columns and does not fit in "
                          f"{max_bytes} bytes even without rows. Select fewer columns.")}
    return result


_ELAPSED_RESERVE = len(',"elapsed_ms":123456.7')


def _size(result: dict[str, Any]) -> int:
    return len(compact_json(result).encode("utf-8")) + _ELAPSED_RESERVE


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [""])[0][:300]


class _Watchdog:
    """Interrupts the running query at its deadline (own daemon thread, worker process)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self.fired = False
        self._thread = threading.Thread(target=self._run, name="sql-watchdog", daemon=True)
        self._thread.start()

    def arm(self, seconds: float) -> None:
        """Start the clock for one query (main thread)."""
        with self._cond:
            self._deadline = time.monotonic() + seconds
            self.fired = False
            self._cond.notify()

    def disarm(self) -> None:
        """Stop the clock (main thread)."""
        with self._cond:
            self._deadline = None
            self._cond.notify()

    def _run(self) -> None:
        # The process exits when its stdin closes; a daemon thread needs no stop event.
        with self._cond:
            while True:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self._deadline = None
                self.fired = True
                self._con.interrupt()


class QueryEngine:
    """One locked-down in-memory DuckDB database holding the table ``data`` (or a set).

    Built from Arrow record-batch streams, one per table name in ``tables`` (default: the
    single table ``data``); with several tables and none named ``data``, ``data`` is a
    view of the first. ``batches`` is one reader, or a callable giving the next table's
    reader (the worker reads the streams one after another off its stdin). Used from the
    worker's main thread only.
    """

    def __init__(self, batches: pa.RecordBatchReader | Callable[[], pa.RecordBatchReader],
                 limits: dict[str, Any], timezone: str | None = None,
                 tables: Sequence[str] = (TABLE_NAME,), files: Mapping[str, str] | None = None) -> None:
        names = [str(t) for t in tables] or [TABLE_NAME]
        if any(not TABLE_NAME_RE.fullmatch(name) for name in names) or len(set(names)) != len(names):
            raise ValueError(f"table names must be unique lowercase identifiers, got {names!r}")
        self._limits = limits
        self.tables = names
        # Shared files are mapped here, before DuckDB exists: the database itself never
        # opens a file (external access stays off), it scans these Arrow tables in place.
        self._mapped = {name: _in_batches(open_table_folder(path, dictionaries=True))
                        for name, path in (files or {}).items() if name in names}
        self._con = duckdb.connect(":memory:", config={
            "python_enable_replacements": False,
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "allow_community_extensions": False,
            "temp_directory": "",  # no spilling: nothing is written to disk
            "threads": int(limits["threads"]),
        })
        con = self._con
        for name in names:
            if name in self._mapped:
                con.register(name, self._mapped[name])  # a view over the mapped buffers
                continue
            reader = batches() if callable(batches) else batches
            con.register(_SOURCE_NAME, reader)
            try:
                con.execute(f'CREATE TABLE {name} AS SELECT * FROM "{_SOURCE_NAME}"')
            finally:
                con.unregister(_SOURCE_NAME)
        if TABLE_NAME not in names:
            # The first table stays reachable as `data`, so single-table habits keep working.
            con.execute(f"CREATE VIEW {TABLE_NAME} AS SELECT * FROM {names[0]}")
        self.columns = [str(d[0]) for d in con.execute(f"SELECT * FROM {TABLE_NAME} LIMIT 0").description]
        self.table_columns = {
            name: [str(d[0]) for d in con.execute(f"SELECT * FROM {name} LIMIT 0").description]
            for name in names}
        self.row_count = int(con.execute(f"SELECT count(*) FROM {TABLE_NAME}").fetchone()[0])
        table_bytes = int(con.execute(
            "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchone()[0])
        # memory_limit covers the table's own blocks too, so the query budget goes on top.
        self.memory_limit_mb = table_bytes // 2**20 + int(limits["memory_mb"])
        con.execute(f"SET memory_limit = '{self.memory_limit_mb}MB'")
        if timezone:
            try:
                con.execute("SET TimeZone = ?", [timezone])
            except duckdb.Error:
                con.execute("SET TimeZone = 'UTC'")  # e.g. a fixed offset DuckDB cannot name
        con.execute("SET lock_configuration = true")
        self._watchdog = _Watchdog(con)

    def run(self, sql: str, *, max_rows: int | None = None, max_bytes: int | None = None) -> dict[str, Any]:
        """Validate and run one query; return a result or {"error": ...}.

        ``max_rows``/``max_bytes`` raise the result caps for one query (chart data),
        never above ``CHART_MAX_ROWS``/``CHART_MAX_BYTES``.
        """
        refusal = refusal_for(self._con, sql, int(self._limits["max_query_chars"]))
        if refusal is not None:
            return {"error": refusal, "kind": "refused"}
        max_rows = _cap(max_rows, int(self._limits["max_rows"]), CHART_MAX_ROWS)
        max_bytes = _cap(max_bytes, int(self._limits["max_bytes"]), CHART_MAX_BYTES)
        con = self._con
        self._watchdog.arm(float(self._limits["timeout_s"]))
        try:
            con.begin()  # rolled back below: even a slip past the allowlist changes nothing
            try:
                con.execute(sql)
                columns = [str(d[0]) for d in con.description or []]
                rows = [list(r) for r in con.fetchmany(max_rows + 1)]
                total = len(rows)
                if total > max_rows:
                    total = max_rows + 1 + self._count_rest()
            finally:
                self._watchdog.disarm()
                self._rollback()
        except duckdb.InterruptException:
            return {"error": self._timeout_message(), "kind": "timeout"}
        except duckdb.OutOfMemoryException:
            return {"error": self.memory_message(), "kind": "memory"}
        except MemoryError:
            return {"error": self.memory_message(), "kind": "memory"}
        except duckdb.Error as exc:
            if self._watchdog.fired:
                return {"error": self._timeout_message(), "kind": "timeout"}
            return {"error": self._explain(exc), "kind": "sql"}
        return shape_result(columns, rows, total, max_rows, max_bytes)

    def _rollback(self) -> None:
        # A rollback that fails (say, the watchdog fired just as the query finished) must
        # neither hide the query's own error nor leave a transaction open for the next one.
        for _ in range(2):
            try:
                self._con.rollback()
                return
            except duckdb.TransactionException:
                return  # no transaction is open any more
            except duckdb.Error as exc:
                logger.warning("sql worker: rollback failed, retrying: %s", _first_line(exc))

    def _count_rest(self) -> int:
        # The result is already materialised; count what is left without making Python rows.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Arrow output on a DB-API result makes a copy"
            reader = self._con.to_arrow_reader(100_000)
            return sum(batch.num_rows for batch in reader)

    def _timeout_message(self) -> str:
        return (f"Query exceeded {self._limits['timeout_s']:g} s and was stopped. "
                "Filter or aggregate more, or add LIMIT.")

    def memory_message(self) -> str:
        return (f"Query needed more than the {self._limits['memory_mb']} MB of working memory "
                "it may use and was stopped. Aggregate or filter more, or add LIMIT.")

    def _explain(self, exc: duckdb.Error) -> str:
        """Turn a DuckDB error into a message the model can act on."""
        text = str(exc)
        missing = _MISSING_COLUMN.search(text)
        if missing:
            return _column_not_found(missing.group("name"), self.columns)
        table = _MISSING_TABLE.search(text)
        if table and isinstance(exc, duckdb.CatalogException):
            if self.tables == [TABLE_NAME]:
                return (f"Table {table.group('name')} not found. The only table is `data`; "
                        "files, URLs and other tables cannot be read.")
            return (f"Table {table.group('name')} not found. The tables are {self._listed()}; "
                    "files and URLs cannot be read.")
        if isinstance(exc, duckdb.PermissionException):
            return ("Reading files, the network, extensions or settings is not allowed. "
                    f"Query only {self._only()}.")
        if isinstance(exc, duckdb.InvalidInputException) and "locked" in text:
            return f"Settings cannot be changed. Query only {self._only()}."
        return _first_line(exc)  # DuckDB's first line already names the kind ("Binder Error: ...")


    def _listed(self) -> str:
        alias = "" if TABLE_NAME in self.tables else f" (`data` is {self.tables[0]})"
        return ", ".join(f"`{t}`" for t in self.tables) + alias

    def _only(self) -> str:
        return "the table `data`" if self.tables == [TABLE_NAME] else f"the tables {self._listed()}"


def _in_batches(table: pa.Table) -> pa.Table:
    """``table`` cut into record batches of DuckDB's row-group size (zero-copy slices of
    the mapped columns), so DuckDB scans it on all its threads, not one batch on one."""
    return pa.Table.from_batches(table.to_batches(max_chunksize=_SCAN_BATCH_ROWS), schema=table.schema)


def _cap(requested: int | None, default: int, ceiling: int) -> int:
    if requested is None or isinstance(requested, bool) or not isinstance(requested, int):
        return default
    return max(1, min(requested, max(default, ceiling)))


def _column_not_found(name: str, columns: list[str], shown: int = 40) -> str:
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
    listed = ", ".join(columns[:shown]) + (f", … ({len(columns)} in all)" if len(columns) > shown else "")
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (f'Column "{name}" not found.{hint} Columns: {listed}. '
            'Quote names with spaces or capitals in double quotes.')


def _harden_process() -> None:
    # Nothing this process does should ever land on disk: no core dumps, no file growth.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _limit_address_space(headroom_mb: int) -> int:
    """Cap virtual memory at the current size plus ``headroom_mb``; return the cap in MB."""
    gc.collect()
    cap = address_space_bytes() + headroom_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return cap // 2**20


def main(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Worker entry point: serve frames until stdin closes. Returns the exit status."""
    _harden_process()
    inp = stdin or sys.stdin.buffer
    if stdout is None:
        # Keep the protocol on a private copy of fd 1; stray prints go to stderr instead.
        out: BinaryIO = os.fdopen(os.dup(1), "wb", buffering=0)
        os.dup2(2, 1)
    else:
        out = stdout
    try:
        hello = read_frame(inp)
    except FrameError:
        return 0
    limits = hello.get("limits") or {}
    try:
        engine = QueryEngine(lambda: pa.ipc.open_stream(inp), limits, hello.get("timezone"),
                             tables=hello.get("tables") or (TABLE_NAME,), files=hello.get("files"))
        cap_mb = _limit_address_space(int(limits["address_space_mb"]))
    except Exception as exc:  # anything here means the data cannot be served at all
        write_frame(out, {"error": f"The table could not be prepared for SQL: {_first_line(exc)}"})
        return 1
    write_frame(out, {"ready": {"columns": engine.columns, "rows": engine.row_count,
                                "tables": engine.table_columns,
                                "memory_limit_mb": engine.memory_limit_mb,
                                "address_space_mb": cap_mb}})
    while True:
        try:
            request = read_frame(inp)
        except FrameError:
            return 0  # the sandbox closed the pipe (or died): nothing left to serve
        request_id = request.get("id")
        try:
            reply = engine.run(str(request.get("sql", "")), max_rows=request.get("max_rows"),
                               max_bytes=request.get("max_bytes"))
        except MemoryError:
            reply = {"error": engine.memory_message(), "kind": "memory"}
        except Exception as exc:  # keep serving; the sandbox turns this into an error result
            reply = {"error": f"Internal error while running the query: {_first_line(exc)}",
                     "kind": "internal"}
        reply["id"] = request_id
        try:
            write_frame(out, reply)
        except FrameError:
            return 0
        except (TypeError, ValueError) as exc:  # a value json_safe missed
            write_frame(out, {"id": request_id, "kind": "internal",
                              "error": f"The result could not be encoded: {exc}"})


if __name__ == "__main__":
    sys.exit(main())
