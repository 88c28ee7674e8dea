"""The tools' declarations, locked into the token: names, parameters, behaviour, scheduling.

What the model is told it may call (``function_declarations`` / ``live_tools``), for one
table or a table set, and when a non-blocking call's answer should be used
(``response_scheduling``). Answering the calls is ``livechat.tools.toolbox.ToolBox``.
Pure; any thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from google.genai import types

from livechat.summary.definitions_section import TRUSTED_TOOL
from livechat.tools.charts import AGGREGATES, CHART_KINDS
from livechat.tools.columns import sql_type_name
from livechat.tools.sql_sandbox import sql_column_names

__all__ = [
    "DATA_ALIAS",
    "TOOL_BEHAVIOR",
    "TOOL_NAMES",
    "TableSource",
    "function_declarations",
    "trusted_query_declaration",
    "live_tools",
    "response_scheduling",
]

TOOL_NAMES: tuple[str, ...] = ("run_sql", "describe_column", "show_chart")
MAX_DECLARED_COLUMNS = 60  # the declarations ride in every token; keep them short
MAX_COLUMN_TEXT = 2_500
DATA_ALIAS = "data"

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
    # A trusted query is a run_sql whose SQL the analyst wrote: it behaves like one.
    TRUSTED_TOOL: types.Behavior.NON_BLOCKING,
}
MAX_TRUSTED_DECLARED = 50


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
    run_sql_decl = _one_text_parameter(
        "run_sql", "query",
        description=(
            "Run one read-only DuckDB SQL query (SELECT or WITH ... SELECT) over the uploaded "
            f"table and get exact answers. {table} Put double quotes around column names with "
            "spaces, capitals or symbols. Aggregate in SQL (GROUP BY, count, sum, avg, "
            "date_trunc, strftime, window functions): at most 50 rows come back and the query "
            "is stopped after 5 seconds. No files, settings or other tables."),
        parameter=("One SELECT statement over the table data, e.g. "
            'SELECT "Region", sum("Sales") AS sales FROM data GROUP BY 1 '
            "ORDER BY 2 DESC LIMIT 10"),
    )
    describe_decl = _one_text_parameter(
        "describe_column", "column",
        description=(
            "Exact statistics for one column of the uploaded table: count, nulls, distinct "
            "values; min, max, mean, standard deviation and quantiles for numbers; most "
            f"frequent values for text; the date range for dates. {table}"),
        parameter="The column name exactly as listed.",
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
                **_chart_axes(),
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
    run_sql_decl = _one_text_parameter(
        "run_sql", "query",
        description=(
            "Run one read-only DuckDB SQL query (SELECT or WITH ... SELECT) over the uploaded "
            f"tables and get exact answers; JOIN tables on their shared key columns. {text} "
            "Put double quotes around column names with spaces, capitals or symbols. Aggregate "
            "in SQL (GROUP BY, count, sum, avg, date_trunc, strftime, window functions): at most "
            "50 rows come back and the query is stopped after 5 seconds. No files or settings."),
        parameter=(f"One SELECT statement over the tables {', '.join(names)}, e.g. "
            f"SELECT count(*) AS n FROM {first}"),
    )
    describe_decl = _one_text_parameter(
        "describe_column", "column",
        description=(
            "Exact statistics for one column of one table: count, nulls, distinct values; min, "
            "max, mean, standard deviation and quantiles for numbers; most frequent values for "
            f"text; the date range for dates. {short}"),
        parameter=f"table.column, exactly as listed, e.g. {example_column}.",
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
                **_chart_axes(),
                "table": types.Schema(type=types.Type.STRING, format="enum", enum=names,
                                      description=f"The table x and y belong to (default {first})."),
                "query": _CHART_QUERY_SCHEMA,
            },
            required=["kind", "x"],
        ),
    )
    return [run_sql_decl, describe_decl, chart_decl]


def _one_text_parameter(name: str, parameter_name: str, *, description: str,
                        parameter: str) -> types.FunctionDeclaration:
    """A declaration whose one required parameter is a string (run_sql, describe_column)."""
    return types.FunctionDeclaration(
        name=name,
        behavior=TOOL_BEHAVIOR[name],
        description=description,
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={parameter_name: types.Schema(type=types.Type.STRING, description=parameter)},
            required=[parameter_name],
        ),
    )


def _chart_axes() -> dict[str, types.Schema]:
    """show_chart's parameters that do not depend on how many tables there are."""
    return {
        "kind": types.Schema(type=types.Type.STRING, format="enum", enum=list(CHART_KINDS),
                             description="Chart type."),
        "x": types.Schema(type=types.Type.STRING,
                          description="Column on the horizontal axis (the one binned for a histogram)."),
        "y": types.Schema(type=types.Type.STRING,
                          description="Column to plot or aggregate. Leave out for a histogram or to count rows."),
        "aggregate": types.Schema(
            type=types.Type.STRING, format="enum", enum=list(AGGREGATES),
            description="How y is combined per x value. Default: sum for bar, mean "
                        "for line, none for scatter, count without y."),
        "title": types.Schema(type=types.Type.STRING, description="Short chart title."),
    }


def trusted_query_declaration(questions: list[str] | tuple[str, ...]) -> types.FunctionDeclaration:
    """``run_trusted_query(name)``: ``name`` is one of ``questions`` (an enum, so the model
    can only pick a listed one). Declared only when there are some (``live_tools``)."""
    if not questions:
        raise ValueError("run_trusted_query needs at least one trusted question")
    names = list(dict.fromkeys(questions))[:MAX_TRUSTED_DECLARED]
    return types.FunctionDeclaration(
        name=TRUSTED_TOOL,
        behavior=TOOL_BEHAVIOR[TRUSTED_TOOL],
        description=(
            "Run a query the analyst's team trusts for one of their questions, and get its exact "
            "answer (same limits as run_sql: at most 50 rows, 5 seconds). Prefer it over run_sql "
            "when the analyst asks one of these questions; say the answer comes from a trusted query."),
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={"name": types.Schema(type=types.Type.STRING, format="enum", enum=names,
                                             description="The trusted question, exactly as listed.")},
            required=["name"],
        ),
    )


def live_tools(df: TableSource | None = None, *, trusted: list[str] | tuple[str, ...] = ()) -> list[types.Tool]:
    """``[Tool(function_declarations=...)]`` for ``LiveConnectConfig.tools``; with
    ``trusted`` questions, ``run_trusted_query`` is declared too."""
    declarations = function_declarations(df)
    if trusted:
        declarations.append(trusted_query_declaration(trusted))
    return [types.Tool(function_declarations=declarations)]


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
