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
from google.genai import types

from livechat.tools.charts import (
    AGGREGATES,
    CHART_KINDS,
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

TOOL_NAMES: tuple[str, ...] = ("run_sql", "describe_column", "show_chart")

MAX_DECLARED_COLUMNS = 60  # the declarations ride in every token; keep them short
MAX_COLUMN_TEXT = 2_500
MAX_RESULT_BYTES = 8_192
TOP_VALUES = 10
PREVIEW_POINTS = 20
_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DATA_ALIAS = "data"
CHART_CACHE_ENTRIES = 32  # query results kept so the Talk page can redraw their charts

# What a ToolBox and the declarations take: one DataFrame, or SQL name -> DataFrame.
TableSource = pd.DataFrame | Mapping[str, pd.DataFrame]

# How each tool's call behaves on models with asynchronous calls (3.8: NON_BLOCKING is the
# default there, BLOCKING still accepted per declaration; models that only run calls
# synchronously get the declarations without it, see livechat/live/tokens.py).
TOOL_BEHAVIOR: dict[str, types.Behavior] = {
    # A query takes up to 5 s (the sandbox's cap): non-blocking, so the model can say
    # "let me check" and keep listening while it runs, instead of going silent.
    "run_sql": types.Behavior.NON_BLOCKING,
    # Statistics of one column come from pandas in milliseconds, and they are the whole
    # answer: waiting is the better experience (no "let me check" longer than the wait).
    "describe_column": types.Behavior.BLOCKING,
    # The chart is drawn in the dashboard: the conversation need not wait for it.
    "show_chart": types.Behavior.NON_BLOCKING,
}


# --------------------------------------------------------------------------- declarations


def _columns_text(df: pd.DataFrame, max_columns: int = MAX_DECLARED_COLUMNS,
                  max_text: int = MAX_COLUMN_TEXT) -> str:
    names = sql_column_names(df)
    parts: list[str] = []
    used = 0
    for position, name in enumerate(names):
        entry = f'"{name}" {sql_type_name(df.iloc[:, position])}'
        if position >= max_columns or used + len(entry) > max_text:
            parts.append(f"… and {len(names) - position} more (see the data summary)")
            break
        parts.append(entry)
        used += len(entry) + 2
    return ", ".join(parts)


def _tables_text(tables: Mapping[str, pd.DataFrame]) -> str:
    names = list(tables)
    share = max(100, MAX_COLUMN_TEXT // len(names))
    per_table = max(8, MAX_DECLARED_COLUMNS // len(names))
    described = "; ".join(
        f"{name} ({len(df):,} rows): {_columns_text(df, per_table, share)}"
        for name, df in tables.items())
    return (f"The tables are {', '.join(names)}; {names[0]} is also named data. "
            f"Columns: {described}.")


def function_declarations(df: TableSource | None = None) -> list[types.FunctionDeclaration]:
    """The three tool declarations; with ``df``, descriptions name its columns and types.

    ``df`` may be a table set (SQL name -> DataFrame): the descriptions then list every
    table by name, ``describe_column`` takes ``table.column`` and ``show_chart`` a table.
    Deterministic for a given input (the declarations are locked into the token).
    Every OBJECT schema has properties: the service rejects empty ones at mint time.
    """
    if isinstance(df, Mapping):
        return _set_declarations(dict(df))
    if df is not None:
        table = (f"The table is named data ({len(df):,} rows, {df.shape[1]} columns). "
                 f"Columns: {_columns_text(df)}.")
    else:
        table = "The table is named data."
    run_sql_decl = types.FunctionDeclaration(
        name="run_sql",
        behavior=TOOL_BEHAVIOR["run_sql"],
        description=(
            "Run one read-only DuckDB SQL query (SELECT or WITH ... SELECT) over the uploaded "
            f"table and get exact answers. {table} Put double quotes around column names with "
            "spaces, capitals or symbols. Aggregate in SQL (GROUP BY, count, sum, avg, "
            "date_trunc, strftime, window functions): at most 50 rows come back and the query "
            "is stopped after 5 seconds. No files, settings or other tables."),
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={"query": types.Schema(
                type=types.Type.STRING,
                description="One SELECT statement over the table data, e.g. "
                            'SELECT "Region", sum("Sales") AS sales FROM data GROUP BY 1 '
                            "ORDER BY 2 DESC LIMIT 10")},
            required=["query"],
        ),
    )
    describe_decl = types.FunctionDeclaration(
        name="describe_column",
        behavior=TOOL_BEHAVIOR["describe_column"],
        description=(
            "Exact statistics for one column of the uploaded table: count, nulls, distinct "
            "values; min, max, mean, standard deviation and quantiles for numbers; most "
            f"frequent values for text; the date range for dates. {table}"),
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={"column": types.Schema(
                type=types.Type.STRING, description="The column name exactly as listed.")},
            required=["column"],
        ),
    )
    chart_decl = types.FunctionDeclaration(
        name="show_chart",
        behavior=TOOL_BEHAVIOR["show_chart"],
        description=(
            "Draw a chart of the uploaded table in the dashboard, beside the conversation. "
            "bar: aggregate y per x value (top 50). line: y over x (dates or numbers). "
            "scatter: y against x, one point per row. histogram: distribution of x. "
            f"{table}"),
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={
                "kind": types.Schema(type=types.Type.STRING, format="enum", enum=list(CHART_KINDS),
                                     description="Chart type."),
                "x": types.Schema(type=types.Type.STRING,
                                  description="Column on the horizontal axis (the one binned "
                                              "for a histogram)."),
                "y": types.Schema(type=types.Type.STRING,
                                  description="Column to plot or aggregate. Leave out for a "
                                              "histogram or to count rows."),
                "aggregate": types.Schema(
                    type=types.Type.STRING, format="enum", enum=list(AGGREGATES),
                    description="How y is combined per x value. Default: sum for bar, mean "
                                "for line, none for scatter, count without y."),
                "title": types.Schema(type=types.Type.STRING, description="Short chart title."),
                "query": _CHART_QUERY_SCHEMA,
            },
            required=["kind", "x"],
        ),
    )
    return [run_sql_decl, describe_decl, chart_decl]


_CHART_QUERY_SCHEMA = types.Schema(
    type=types.Type.STRING,
    description="Optional: one read-only SELECT (as for run_sql) whose result is charted; x and "
                "y then name columns of its result. Aggregate in the query: at most 5000 rows.")


def _set_declarations(tables: dict[str, pd.DataFrame]) -> list[types.FunctionDeclaration]:
    """Declarations for a table set (see ``function_declarations``)."""
    if not tables:
        raise ValueError("a table set needs at least one table")
    names = list(tables)
    first = names[0]
    first_columns = sql_column_names(tables[first])
    example_column = f"{first}.{first_columns[0]}" if first_columns else f"{first}.column"
    text = _tables_text(tables)
    # The column list rides once (in run_sql): the declarations are in every token.
    short = f"The tables are {', '.join(names)}; {first} is also named data; columns as listed for run_sql."
    run_sql_decl = types.FunctionDeclaration(
        name="run_sql",
        behavior=TOOL_BEHAVIOR["run_sql"],
        description=(
            "Run one read-only DuckDB SQL query (SELECT or WITH ... SELECT) over the uploaded "
            f"tables and get exact answers; JOIN tables on their shared key columns. {text} "
            "Put double quotes around column names with spaces, capitals or symbols. Aggregate "
            "in SQL (GROUP BY, count, sum, avg, date_trunc, strftime, window functions): at most "
            "50 rows come back and the query is stopped after 5 seconds. No files or settings."),
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={"query": types.Schema(
                type=types.Type.STRING,
                description=f"One SELECT statement over the tables {', '.join(names)}, e.g. "
                            f"SELECT count(*) AS n FROM {first}")},
            required=["query"],
        ),
    )
    describe_decl = types.FunctionDeclaration(
        name="describe_column",
        behavior=TOOL_BEHAVIOR["describe_column"],
        description=(
            "Exact statistics for one column of one table: count, nulls, distinct values; min, "
            "max, mean, standard deviation and quantiles for numbers; most frequent values for "
            f"text; the date range for dates. {short}"),
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={"column": types.Schema(
                type=types.Type.STRING,
                description=f"table.column, exactly as listed, e.g. {example_column}.")},
            required=["column"],
        ),
    )
    chart_decl = types.FunctionDeclaration(
        name="show_chart",
        behavior=TOOL_BEHAVIOR["show_chart"],
        description=(
            "Draw a chart in the dashboard, beside the conversation, from one table (table) or "
            "from the result of a read-only SQL query (query, e.g. a join). "
            "bar: aggregate y per x value (top 50). line: y over x (dates or numbers). "
            "scatter: y against x, one point per row. histogram: distribution of x. "
            f"{short}"),
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={
                "kind": types.Schema(type=types.Type.STRING, format="enum", enum=list(CHART_KINDS),
                                     description="Chart type."),
                "x": types.Schema(type=types.Type.STRING,
                                  description="Column on the horizontal axis (the one binned "
                                              "for a histogram)."),
                "y": types.Schema(type=types.Type.STRING,
                                  description="Column to plot or aggregate. Leave out for a "
                                              "histogram or to count rows."),
                "aggregate": types.Schema(
                    type=types.Type.STRING, format="enum", enum=list(AGGREGATES),
                    description="How y is combined per x value. Default: sum for bar, mean "
                                "for line, none for scatter, count without y."),
                "title": types.Schema(type=types.Type.STRING, description="Short chart title."),
                "table": types.Schema(type=types.Type.STRING, format="enum", enum=names,
                                      description=f"The table x and y belong to (default {first})."),
                "query": _CHART_QUERY_SCHEMA,
            },
            required=["kind", "x"],
        ),
    )
    return [run_sql_decl, describe_decl, chart_decl]


def live_tools(df: TableSource | None = None) -> list[types.Tool]:
    """``[Tool(function_declarations=...)]`` for ``LiveConnectConfig.tools``."""
    return [types.Tool(function_declarations=function_declarations(df))]


def response_scheduling(name: str, result: dict[str, Any]) -> types.FunctionResponseScheduling:
    """When the model should use a non-blocking call's result (3.8 ``FunctionResponse.scheduling``).

    ``WHEN_IDLE`` for query results: the model finishes the sentence it is saying ("let me
    check…") and then answers; ``INTERRUPT`` would cut that sentence off mid-word. A chart
    that was drawn is ``SILENT``: the analyst sees it, and the model already said it is
    drawing it; a chart that failed is ``WHEN_IDLE`` so the model can say why.
    """
    if name == "show_chart" and "error" not in result:
        return types.FunctionResponseScheduling.SILENT
    return types.FunctionResponseScheduling.WHEN_IDLE


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
