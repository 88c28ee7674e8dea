"""The tools the Live model may call, and how a call is answered.

Three tools, declared for the token's constraints (``live_tools``) and answered by a
``ToolBox`` that holds one dataset: a DataFrame (the table ``data``) or a table set (a
mapping of SQL name to DataFrame, the first also reachable as ``data``):

- ``run_sql(query)``: one read-only DuckDB SELECT over the table(s)
  (``livechat.tools.sql_sandbox``: a locked-down worker process, time-, memory- and size-capped);
- ``describe_column(column)``: exact statistics for one column (``table.column`` in a
  set), computed in pandas;
- ``show_chart(kind, x, y, aggregate, title, table, query)``: a validated ``ChartSpec``
  (``livechat.tools.charts``) that the Talk page renders beside the transcript; its points
  come from a table, or from the result of a read-only ``query`` (``ToolBox.chart_frame``).

Every result is a small JSON-ready dict; every failure is ``{"error": "..."}`` with a
message the model can act on (what rule, which value, what to do instead).

Threads: the Live session calls ``ToolBox.execute`` from its tool-pool threads, possibly
several at once; the Streamlit script thread builds and closes the ToolBox. ``execute``
is thread-safe (SQL queries on one dataset run one at a time inside the sandbox;
describe and chart only read the DataFrame).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import pandas as pd

from livechat.tools.charts import (
    MAX_POINTS,
    ChartSpec,
    ChartSpecError,
    chart_data,
)
from livechat.tools.sql_sandbox import (
    SqlError,
    SqlLimits,
    SqlSandbox,
    SqlTableNameError,
    sql_column_names,
)
from livechat.tools.declarations import (
    DATA_ALIAS,
    TOOL_BEHAVIOR,
    TOOL_NAMES,
    TableSource,
    function_declarations,
    live_tools,
    response_scheduling,
)
from livechat.tools.sql_worker import CHART_MAX_BYTES
from livechat.tools.sql_wire import compact_json, json_safe
from livechat.tools.columns import ColumnNotFoundError, column_kind, resolve_column, sql_type_name

__all__ = [
    "TOOL_BEHAVIOR",
    "TOOL_NAMES",
    "ToolBox",
    "describe_column",
    "function_declarations",
    "live_tools",
    "response_scheduling",
    "run_sql",
    "show_chart",
]

logger = logging.getLogger(__name__)

MAX_RESULT_BYTES = 8_192
TOP_VALUES = 10
PREVIEW_POINTS = 20
_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
CHART_CACHE_ENTRIES = 32  # query results kept so the Talk page can redraw their charts

# --------------------------------------------------------------------------- the tools


def run_sql(df: pd.DataFrame, query: str, *, limits: SqlLimits = SqlLimits()) -> dict[str, Any]:
    """Run one query over ``df`` in a fresh sandbox; returns a result or {"error": ...}.

    Starts and stops a worker process per call: fine for one-off use and tests. The
    Live session uses a ``ToolBox``, which keeps its worker for the dataset's lifetime.
    """
    with SqlSandbox(df, limits=limits) as sandbox:
        return _run_sql(sandbox, query)


def _run_sql(sandbox: SqlSandbox, query: Any) -> dict[str, Any]:
    if not isinstance(query, str) or not query.strip():
        return {"error": "run_sql needs a query: one SELECT statement over the table data."}
    try:
        return sandbox.query(query)
    except SqlError as exc:
        return {"error": str(exc)}


def describe_column(df: pd.DataFrame, name: str) -> dict[str, Any]:
    """Exact statistics for column ``name`` of ``df``, or {"error": ...} listing close names."""
    try:
        label = resolve_column(df, name)
    except ColumnNotFoundError as exc:
        return {"error": str(exc)}
    except TypeError as exc:
        return {"error": f"describe_column needs a column name: {exc}"}
    series = df[label]
    if isinstance(series, pd.DataFrame):  # duplicated label: describe the first
        series = series.iloc[:, 0]
    kind = column_kind(series)
    present = series.dropna()
    result: dict[str, Any] = {
        "column": str(label),
        "kind": kind,
        "sql_type": sql_type_name(series),
        "rows": int(len(series)),
        "count": int(len(present)),
        "nulls": int(len(series) - len(present)),
        "distinct": int(present.nunique()),
    }
    if kind == "numeric" and len(present):
        values = present.astype("float64")
        result.update({
            "min": json_safe(present.min()),
            "max": json_safe(present.max()),
            "mean": json_safe(values.mean()),
            "std": json_safe(values.std()),  # sample standard deviation (n - 1)
            "sum": json_safe(present.sum()),
            "quantiles": {f"p{round(q * 100):02d}": json_safe(values.quantile(q)) for q in _QUANTILES},
        })
    elif kind == "datetime" and len(present):
        low, high = present.min(), present.max()
        result.update({"min": json_safe(low), "max": json_safe(high),
                       "range_days": round((high - low).total_seconds() / 86400.0, 3)})
    elif kind == "timedelta" and len(present):
        result.update({"min": str(present.min()), "max": str(present.max()),
                       "mean": str(present.mean())})
    if kind in ("text", "boolean") and len(present):
        # Count the values themselves (booleans stay booleans); mixed object columns
        # fall back to their text form so that 1 and "1" do not fail the sort.
        try:
            counts = present.value_counts(sort=True).head(TOP_VALUES)
        except TypeError:
            counts = present.astype("string").value_counts(sort=True).head(TOP_VALUES)
        result["top_values"] = [{"value": json_safe(value, max_chars=100), "count": int(count)}
                                for value, count in counts.items()]
        if kind == "text":
            lengths = present.astype("string").str.len()
            result["min_length"] = int(lengths.min())
            result["max_length"] = int(lengths.max())
    return result


def show_chart(df: pd.DataFrame, kind: str, x: str, y: str | None = None,
               aggregate: str | None = None, title: str | None = None, *,
               table: str | None = None, query: str | None = None) -> dict[str, Any]:
    """Validate a chart request against ``df``; return the spec to draw, or {"error": ...}.

    ``{"chart": ChartSpec.to_dict(), "points": n, "preview": {...}, "note": ...}``; the
    preview gives the model the first aggregated points so it can talk about the chart.
    ``table``/``query`` say where ``df`` came from and are kept in the spec for redrawing.
    """
    for field_name, value in (("kind", kind), ("x", x), ("y", y), ("aggregate", aggregate),
                              ("title", title)):
        if value is not None and not isinstance(value, str):
            return {"error": f"show_chart {field_name} must be text, got {type(value).__name__}."}
    try:
        data = chart_data(df, ChartSpec(kind=kind, x=x, y=y, aggregate=aggregate, title=title,
                                        table=table, query=query))
    except ChartSpecError as exc:
        return {"error": str(exc)}
    head = data.frame.head(PREVIEW_POINTS)
    result: dict[str, Any] = {
        "chart": data.spec.to_dict(),
        "points": int(len(data.frame)),
        "preview": {"columns": [data.x_title, data.y_title],
                    "rows": [[json_safe(a, max_chars=80), json_safe(b)]
                             for a, b in zip(head["x"].tolist(), head["y"].tolist(), strict=True)]},
        "displayed": "The chart is shown to the analyst beside the conversation.",
    }
    if data.note:
        result["note"] = f"The chart shows {data.note}."
    return result


# --------------------------------------------------------------------------- the toolbox


class ToolBox:
    """Answers tool calls for one dataset. Thread-safe; see the module docstring.

    ``source`` is a DataFrame (the table ``data``) or a table set: a mapping of SQL name
    (``livechat.data.sql_names``) to DataFrame, in order, the first also named ``data``.
    Construction converts the data and starts the SQL worker once (about a second per
    million rows); if that fails the failure is logged and retried on the first
    ``run_sql``. ``close`` stops the worker; the ToolBox is also a context manager.
    """

    def __init__(self, source: TableSource, *, limits: SqlLimits = SqlLimits()) -> None:
        if isinstance(source, Mapping):
            tables = dict(source)
            if not tables:
                raise SqlTableNameError("a table set needs at least one table")
            if not all(isinstance(v, pd.DataFrame) for v in tables.values()):
                raise TypeError("ToolBox needs a mapping of table name to DataFrame")
            self._tables: dict[str, pd.DataFrame] = tables
            self._is_set = True
        elif isinstance(source, pd.DataFrame):
            self._tables = {DATA_ALIAS: source}
            self._is_set = False
        else:
            raise TypeError(f"ToolBox needs a pandas DataFrame, got {type(source).__name__}")
        self._df = next(iter(self._tables.values()))
        self._limits = limits
        self._chart_lock = threading.Lock()
        self._chart_frames: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._sandbox = SqlSandbox(self._tables if self._is_set else self._df, limits=limits)
        try:
            self._sandbox.start()
        except SqlError as exc:
            logger.warning("SQL tool not ready yet (will retry on first query): %s", exc)

    @property
    def sql_worker_pid(self) -> int | None:
        """The SQL worker's process id, or None (diagnostics and tests)."""
        return self._sandbox.worker_pid

    def execute(self, name: str, args: dict[str, Any] | None) -> dict[str, Any]:
        """Answer one tool call (any thread). Never raises: failures are {"error": ...}."""
        try:
            result = self._dispatch(name, dict(args or {}))
        except Exception as exc:  # a bug must not kill the conversation
            logger.exception("tool %s failed", name)
            return {"error": f"The tool {name} failed unexpectedly ({type(exc).__name__}). "
                             "Try a different request."}
        return _fit(result, MAX_RESULT_BYTES)

    @property
    def table_names(self) -> tuple[str, ...]:
        """The SQL names of the tables (``("data",)`` for a single DataFrame)."""
        return tuple(self._tables)

    def _dispatch(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if name == "run_sql":
            return _run_sql(self._sandbox, _arg(args, "query", "sql"))
        if name == "describe_column":
            return self._describe(_arg(args, "column", "name"))
        if name == "show_chart":
            return self._show_chart(args)
        return {"error": f'Unknown tool "{name}". Tools: {", ".join(TOOL_NAMES)}.'}

    def _describe(self, name: Any) -> dict[str, Any]:
        if not self._is_set:
            if isinstance(name, str) and name.lower().startswith(DATA_ALIAS + ".") and name not in self._df.columns:
                name = name[len(DATA_ALIAS) + 1:]  # "data.qty" means qty of the one table
            return describe_column(self._df, name)
        if not isinstance(name, str) or not name.strip():
            return {"error": "describe_column needs a column: table.column, e.g. "
                             f"{self.table_names[0]}.{self._first_column()}."}
        found = self._split_table_column(name)
        if isinstance(found, str):
            return {"error": found}
        table, column = found
        result = describe_column(self._tables[table], column)
        return result if "error" in result else {"table": table, **result}

    def _first_column(self) -> str:
        columns = sql_column_names(self._df)
        return columns[0] if columns else "column"

    def _split_table_column(self, name: str) -> tuple[str, str] | str:
        """(table, column) for ``table.column`` or a column only one table has; else why not."""
        head, dot, rest = name.partition(".")
        if dot:
            table = self._table_name(head.strip().strip('"'))
            if table is not None:
                return table, rest.strip().strip('"')
        holders = [t for t, df in self._tables.items() if _has_column(df, name)]
        if len(holders) == 1:
            return holders[0], name
        listed = ", ".join(self.table_names)
        if holders:
            return (f'Column "{name}" is in several tables ({", ".join(holders)}); write '
                    f"table.column, e.g. {holders[0]}.{name}.")
        return (f'Column "{name}" not found. Write table.column with one of the tables '
                f"{listed}, e.g. {self.table_names[0]}.{self._first_column()}.")

    def _table_name(self, name: str) -> str | None:
        wanted = name.lower()
        if wanted == DATA_ALIAS:
            return self.table_names[0]
        return next((t for t in self._tables if t.lower() == wanted), None)

    def _show_chart(self, args: dict[str, Any]) -> dict[str, Any]:
        table, query = _arg(args, "table"), _arg(args, "query")
        for field_name, value in (("table", table), ("query", query)):
            if value is not None and not isinstance(value, str):
                return {"error": f"show_chart {field_name} must be text, got {type(value).__name__}."}
        query = query.strip() if query and query.strip() else None
        table = table.strip() if table and table.strip() else None
        try:
            frame = self._source_frame(table, query)
        except ChartSpecError as exc:
            return {"error": str(exc)}
        if query is None and table is not None:
            table = self._table_name(table)  # the exact name, kept in the spec for redrawing
        return show_chart(frame, _arg(args, "kind"), _arg(args, "x"), _arg(args, "y"),
                          _arg(args, "aggregate"), _arg(args, "title"),
                          table=table if self._is_set else None, query=query)

    def chart_frame(self, spec: ChartSpec) -> pd.DataFrame:
        """The rows ``spec`` draws from: its query's result, its table, or the first table.

        Any thread (the Talk page redraws charts from here). A query result is kept (the
        last CHART_CACHE_ENTRIES) so a redraw does not run it again. Raises
        ``ChartSpecError`` with a message for the model when the source is unusable.
        """
        return self._source_frame(spec.table, spec.query)

    def _source_frame(self, table: str | None, query: str | None) -> pd.DataFrame:
        if query:
            return self._query_frame(query)
        if table:
            name = self._table_name(table)
            if name is None:
                raise ChartSpecError(f'Table "{table}" not found. Tables: '
                                     f'{", ".join(self.table_names)}.')
            return self._tables[name]
        return self._df

    def _query_frame(self, query: str) -> pd.DataFrame:
        with self._chart_lock:
            cached = self._chart_frames.get(query)
            if cached is not None:
                self._chart_frames.move_to_end(query)
                return cached
        try:
            result = self._sandbox.query(query, max_rows=MAX_POINTS, max_bytes=CHART_MAX_BYTES)
        except SqlError as exc:
            raise ChartSpecError(f"The chart query failed: {exc}") from None
        if result["truncated"]:
            raise ChartSpecError(
                f"The chart query returns {result['row_count']:,} rows; a chart takes at most "
                f"{MAX_POINTS:,}. Aggregate more (GROUP BY) or add LIMIT.")
        frame = _result_frame(result["columns"], result["rows"])
        with self._chart_lock:
            self._chart_frames[query] = frame
            while len(self._chart_frames) > CHART_CACHE_ENTRIES:
                self._chart_frames.popitem(last=False)
        return frame

    def close(self) -> None:
        """Stop the SQL worker (any thread; idempotent)."""
        self._sandbox.close()

    def __enter__(self) -> ToolBox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _has_column(df: pd.DataFrame, name: str) -> bool:
    try:
        resolve_column(df, name)
    except (ColumnNotFoundError, TypeError):
        return False
    return True


_ISO_TIME = (r"^\d{4}-\d{2}-\d{2}"
             r"(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def _result_frame(columns: list[str], rows: list[list[Any]]) -> pd.DataFrame:
    """A query result as a DataFrame: unique column names, ISO date texts back as dates.

    The worker sends dates and times as ISO text (JSON has no date type); a chart needs
    them as dates again to draw a time axis.
    """
    names: list[str] = []
    for name in columns:
        unique, suffix = name, 2
        while unique in names:
            unique, suffix = f"{name}_{suffix}", suffix + 1
        names.append(unique)
    frame = pd.DataFrame(rows, columns=names)
    for name in names:
        present = frame[name].dropna()
        if not len(present) or not all(isinstance(v, str) for v in present):
            continue
        texts = present.astype("str")
        if not texts.str.match(_ISO_TIME).all():
            continue
        zoned = bool(texts.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$").any())
        try:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601", utc=zoned)
        except (ValueError, TypeError):
            continue
    return frame


def _arg(args: dict[str, Any], key: str, alias: str | None = None) -> Any:
    value = args.get(key)
    if value is None and alias is not None:
        value = args.get(alias)
    return value


def _fit(result: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """Make sure a result is JSON-ready and small; shorten lists if it is not."""
    safe = json_safe(result)
    if len(compact_json(safe).encode("utf-8")) <= max_bytes:
        return safe
    for key in ("preview", "top_values"):
        block = safe.get(key)
        rows = block.get("rows") if isinstance(block, dict) else block
        while isinstance(rows, list) and rows and len(compact_json(safe).encode("utf-8")) > max_bytes:
            rows.pop()
    if len(compact_json(safe).encode("utf-8")) <= max_bytes:
        return safe
    return {"error": f"The result was larger than {max_bytes} bytes. Ask for less."}
