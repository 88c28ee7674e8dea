"""Tool declarations, run_sql results, describe_column, show_chart and ToolBox dispatch.

Queries run through the real sandbox (a DuckDB worker process); expected answers are
computed independently with pandas.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from google.genai import types

from livechat.tools.charts import AGGREGATES, CHART_KINDS, ChartSpec, build_chart
from livechat.tools.sql_sandbox import (
    SqlLimits,
    SqlLimitsError,
    SqlSandbox,
    SqlTimeoutError,
    sql_column_names,
    to_arrow,
)
from livechat.tools.sql_wire import FrameTimeout, json_safe, read_frame, write_frame
from livechat.tools.toolbox import (
    TOOL_NAMES,
    ToolBox,
    describe_column,
    function_declarations,
    live_tools,
    run_sql,
    show_chart,
)

ROWS = 2_000


def _sales() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    regions = np.array(["North", "South", "East", "West"])
    return pd.DataFrame({
        "Region": pd.Series(regions[rng.integers(0, 4, ROWS)], dtype="str"),
        "Unit Price": np.round(rng.random(ROWS) * 100, 2),
        "qty": pd.array(rng.integers(1, 10, ROWS), dtype="Int64"),
        "segment": pd.Categorical(rng.choice(["retail", "online; web"], ROWS)),
        "ordered_at": pd.date_range("2024-01-01", periods=ROWS, freq="6h", tz="Europe/Paris"),
        "day": pd.date_range("2024-01-01", periods=ROWS, freq="D"),
        "returned": pd.array(rng.choice([True, False], ROWS), dtype="boolean"),
    })


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return _sales()


@pytest.fixture(scope="module")
def box(sales: pd.DataFrame) -> Iterator[ToolBox]:
    with ToolBox(sales) as toolbox:
        yield toolbox


def _rows(result: dict[str, Any]) -> list[list[Any]]:
    assert "error" not in result, result["error"]
    return result["rows"]


# --------------------------------------------------------------------------- declarations


def _object_schemas(schema: types.Schema | None) -> Iterator[types.Schema]:
    if schema is None:
        return
    if schema.type == types.Type.OBJECT:
        yield schema
    for child in (schema.properties or {}).values():
        yield from _object_schemas(child)
    yield from _object_schemas(schema.items)


def test_declarations_name_the_three_tools_and_have_no_empty_object_schema(sales: pd.DataFrame) -> None:
    for df in (None, sales):
        declarations = function_declarations(df)
        assert tuple(d.name for d in declarations) == TOOL_NAMES
        for declaration in declarations:
            objects = list(_object_schemas(declaration.parameters))
            assert objects, declaration.name
            assert all(schema.properties for schema in objects), declaration.name


def test_declarations_describe_the_table_and_constrain_kind_and_aggregate(sales: pd.DataFrame) -> None:
    run_sql_decl, describe_decl, chart_decl = function_declarations(sales)
    assert "named data" in run_sql_decl.description
    assert '"Unit Price" DOUBLE' in run_sql_decl.description
    assert '"ordered_at" TIMESTAMPTZ' in run_sql_decl.description
    assert '"qty" BIGINT' in run_sql_decl.description
    assert '"returned" BOOLEAN' in describe_decl.description
    assert run_sql_decl.parameters.required == ["query"]
    assert describe_decl.parameters.required == ["column"]
    properties = chart_decl.parameters.properties
    assert properties["kind"].enum == list(CHART_KINDS)
    assert properties["aggregate"].enum == list(AGGREGATES)
    assert set(chart_decl.parameters.required) == {"kind", "x"}


def test_declarations_are_deterministic_and_serialise(sales: pd.DataFrame) -> None:
    first = [d.model_dump(mode="json", exclude_none=True) for d in function_declarations(sales)]
    second = [d.model_dump(mode="json", exclude_none=True) for d in function_declarations(sales.copy())]
    assert first == second
    config = types.LiveConnectConfig(tools=live_tools(sales))
    dumped = json.loads(config.model_dump_json(exclude_none=True))
    assert [d["name"] for d in dumped["tools"][0]["function_declarations"]] == list(TOOL_NAMES)


def test_declarations_cap_a_wide_table() -> None:
    wide = pd.DataFrame({f"column number {i}": [i] for i in range(400)})
    description = function_declarations(wide)[0].description
    assert "column number 0" in description
    assert "column number 399" not in description
    assert "more (see the data summary)" in description
    assert len(description) < 3_500


# --------------------------------------------------------------------------- run_sql


def test_group_by_with_quoted_names_matches_pandas(box: ToolBox, sales: pd.DataFrame) -> None:
    result = box.execute("run_sql", {"query": 'SELECT "Region", round(sum("Unit Price" * qty), 2) AS revenue '
                                              'FROM data GROUP BY "Region" ORDER BY revenue DESC LIMIT 3'})
    expected = ((sales["Unit Price"] * sales["qty"].astype("float64")).groupby(sales["Region"]).sum()
                .round(2).sort_values(ascending=False).head(3))
    assert _rows(result) == [[region, pytest.approx(value)] for region, value in expected.items()]
    assert result["columns"] == ["Region", "revenue"]
    assert result["row_count"] == 3 and result["truncated"] is False
    assert isinstance(result["elapsed_ms"], float)


LEGITIMATE = [
    pytest.param("SELECT count(*) FROM data WHERE segment = 'online; web'", "semicolon-literal"),
    pytest.param("WITH r AS (SELECT \"Region\" AS region, qty FROM data) "
                 "SELECT count(*) FROM r WHERE region = 'North'", "cte"),
    pytest.param("SELECT max(running) FROM (SELECT sum(qty) OVER (ORDER BY ordered_at) AS running FROM data)",
                 "window"),
    pytest.param("SELECT count(DISTINCT date_trunc('month', ordered_at)) FROM data", "date_trunc"),
    pytest.param("SELECT strftime(day, '%Y-%m') AS m FROM data ORDER BY day LIMIT 1", "strftime"),
    pytest.param("SELECT count(*) FROM data WHERE \"Region\" ILIKE 'n%'", "ilike"),
    pytest.param("SELECT \"Region\", count(*) AS n FROM data GROUP BY 1 ORDER BY 1 LIMIT 2", "group-order-limit"),
    pytest.param("SELECT sum(\"Unit Price\") FROM data WHERE returned", "quoted-space-name"),
    pytest.param("SELECT * FROM (PIVOT data ON segment IN ('retail') USING count(*) GROUP BY \"Region\") "
                 "ORDER BY 1", "pivot-fixed-values"),
]


def _expected(case: str, df: pd.DataFrame) -> list[list[Any]]:
    months = df["ordered_at"].dt.tz_localize(None).dt.to_period("M").nunique()
    by_region = df.groupby("Region").size().sort_index()
    return {
        "semicolon-literal": [[int((df["segment"] == "online; web").sum())]],
        "cte": [[int((df["Region"] == "North").sum())]],
        "window": [[int(df["qty"].sum())]],
        "date_trunc": [[int(months)]],
        "strftime": [["2024-01"]],
        "ilike": [[int(df["Region"].str.lower().str.startswith("n").sum())]],
        "group-order-limit": [[region, int(n)] for region, n in by_region.head(2).items()],
        "quoted-space-name": [[pytest.approx(float(df.loc[df["returned"].fillna(False), "Unit Price"].sum()))]],
        "pivot-fixed-values": [[region, int(((df["Region"] == region) & (df["segment"] == "retail")).sum())]
                               for region in by_region.index],
    }[case]


@pytest.mark.parametrize(("query", "case"), LEGITIMATE)
def test_legitimate_queries_work(box: ToolBox, sales: pd.DataFrame, query: str, case: str) -> None:
    assert _rows(box.execute("run_sql", {"query": query})) == _expected(case, sales)


def test_date_functions_use_the_data_time_zone(box: ToolBox) -> None:
    # 2024-01-01 00:00 in Paris is 2023-12-31 in UTC; the analyst means Paris.
    rows = _rows(box.execute("run_sql", {"query": "SELECT strftime(min(ordered_at), '%Y-%m-%d %H:%M') FROM data"}))
    assert rows == [["2024-01-01 00:00"]]


def test_results_are_capped_at_50_rows_and_8_kb(box: ToolBox) -> None:
    result = box.execute("run_sql", {"query": "SELECT * FROM data"})
    assert len(result["rows"]) == 50 and result["truncated"] is True
    assert result["row_count"] == ROWS
    wide = box.execute("run_sql", {"query": "SELECT repeat('x', 400) AS a, repeat('y', 400) AS b FROM data"})
    assert wide["truncated"] is True and 0 < len(wide["rows"]) < 50
    assert len(json.dumps(wide, separators=(",", ":")).encode()) <= 8192
    assert wide["row_count"] == ROWS


def test_long_cells_are_shortened(box: ToolBox) -> None:
    rows = _rows(box.execute("run_sql", {"query": "SELECT repeat('z', 5000) AS long"}))
    assert rows[0][0].startswith("zzz") and rows[0][0].endswith("…") and len(rows[0][0]) < 600


def test_values_are_json_safe(box: ToolBox) -> None:
    result = box.execute("run_sql", {"query": (
        "SELECT DATE '2024-02-29' AS d, TIMESTAMP '2024-01-02 03:04:05' AS ts, 'nan'::DOUBLE AS nan, "
        "'inf'::DOUBLE AS inf, 1.25::DECIMAL(10, 2) AS dec, 'abc'::BLOB AS blob, INTERVAL 3 DAY AS iv, "
        "[1, 2] AS list, {'k': 1.5} AS struct, 12345678901234567890::HUGEINT AS huge, NULL AS nothing")})
    row = _rows(result)[0]
    json.dumps(result, allow_nan=False)  # raises if anything is not JSON
    values = dict(zip(result["columns"], row, strict=True))
    assert values["d"] == "2024-02-29"
    assert values["ts"] == "2024-01-02T03:04:05"
    assert values["nan"] is None and values["inf"] is None
    assert values["dec"] == 1.25
    assert values["blob"] == "<binary, 3 bytes>"
    assert values["iv"] == "3 days, 0:00:00"
    assert values["list"] == [1, 2] and values["struct"] == {"k": 1.5}
    assert values["huge"] == pytest.approx(1.2345678901234567e19)
    assert values["nothing"] is None


def test_unknown_column_error_lists_the_columns(box: ToolBox) -> None:
    error = box.execute("run_sql", {"query": "SELECT sum(quantity) FROM data"})["error"]
    assert error.startswith('Column "quantity" not found.')
    assert "Region, Unit Price, qty, segment" in error


def test_syntax_errors_and_empty_queries_say_what_is_wrong(box: ToolBox) -> None:
    assert box.execute("run_sql", {"query": "SELEC 1"})["error"].startswith("SQL syntax error")
    assert "empty" in box.execute("run_sql", {"query": " ; "})["error"]
    assert "needs a query" in box.execute("run_sql", {"query": "  "})["error"]
    assert "needs a query" in box.execute("run_sql", {})["error"]
    assert "PIVOT without a fixed list" in box.execute(
        "run_sql", {"query": "PIVOT data ON segment USING count(*)"})["error"]


def test_overlong_queries_are_refused_before_they_reach_duckdb(box: ToolBox) -> None:
    error = box.execute("run_sql", {"query": "SELECT 1" + " " * 20_000})["error"]
    assert "at most 10000 characters" in error


def test_many_dtypes_register_and_round_trip() -> None:
    df = pd.DataFrame({
        "text": pd.Series(["a", None, "c"], dtype="str"),
        "category": pd.Categorical(["x", "y", None]),
        "aware": pd.to_datetime(["2024-03-01 12:00", None, "2024-03-02 00:00"]).tz_localize("America/New_York"),
        "naive": pd.to_datetime(["2024-03-01", "2024-03-02", None]),
        "int": pd.array([1, None, 3], dtype="Int64"),
        "flag": pd.array([True, None, False], dtype="boolean"),
        "float": [1.5, np.nan, 2.5],
        "mixed": pd.Series([1, "two", None], dtype=object),
        "when": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)],
        "money": [decimal.Decimal("1.10"), None, decimal.Decimal("2.20")],
        3: ["non-string", "column", "label"],
    })
    original = df.copy(deep=True)
    types_result = run_sql(df, "SELECT column_name, column_type FROM (DESCRIBE data)")
    assert dict(_rows(types_result)) == {
        "text": "VARCHAR", "category": "VARCHAR", "aware": "TIMESTAMP WITH TIME ZONE",
        "naive": "TIMESTAMP", "int": "BIGINT", "flag": "BOOLEAN", "float": "DOUBLE",
        "mixed": "VARCHAR", "when": "DATE", "money": "DECIMAL(3,2)", "3": "VARCHAR",
    }
    counts = run_sql(df, "SELECT count(text), count(category), count(aware), count(int), count(flag), "
                         "count(float), count(mixed), sum(int), strftime(min(aware), '%H:%M') FROM data")
    assert _rows(counts) == [[2, 2, 2, 2, 2, 2, 2, 4, "12:00"]]
    pd.testing.assert_frame_equal(df, original)


def test_column_names_are_made_unique_for_sql() -> None:
    df = pd.DataFrame([[1, 2, 3, 4]], columns=["a", "A", "", "a"])
    assert sql_column_names(df) == ["a", "A_2", "column_3", "a_3"]
    assert to_arrow(df).column_names == ["a", "A_2", "column_3", "a_3"]


# --------------------------------------------------------------------------- sandbox lifecycle


def test_limits_are_validated() -> None:
    with pytest.raises(SqlLimitsError, match="timeout_s must be a positive number"):
        SqlLimits(timeout_s=0)
    with pytest.raises(SqlLimitsError, match="max_rows must be an integer >= 1, got 0"):
        SqlLimits(max_rows=0)


def test_a_frozen_worker_is_killed_at_the_deadline_and_replaced(sales: pd.DataFrame) -> None:
    limits = SqlLimits(timeout_s=0.5, kill_grace_s=0.5)
    with SqlSandbox(sales, limits=limits) as sandbox:
        sandbox.start()
        frozen = sandbox.worker_pid
        assert frozen is not None
        os.kill(frozen, signal.SIGSTOP)  # the worker cannot even interrupt itself now
        with pytest.raises(SqlTimeoutError, match="exceeded 0.5 s and was stopped"):
            sandbox.query("SELECT 1")
        assert sandbox.worker_pid is None  # killed and reaped
        assert sandbox.query("SELECT 41 + 1")["rows"] == [[42]]
        assert sandbox.worker_pid not in (None, frozen)


def test_closed_toolbox_answers_with_an_error(sales: pd.DataFrame) -> None:
    toolbox = ToolBox(sales.head(10))
    pid = toolbox.sql_worker_pid
    toolbox.close()
    toolbox.close()  # idempotent
    assert toolbox.sql_worker_pid is None
    assert "closed" in toolbox.execute("run_sql", {"query": "SELECT 1"})["error"]
    assert pid is not None and not os.path.exists(f"/proc/{pid}")  # killed and reaped
    # describe and charts do not need the worker
    assert toolbox.execute("describe_column", {"column": "qty"})["count"] == 10


def test_concurrent_calls_from_several_threads_all_get_their_own_answer(box: ToolBox) -> None:
    results: dict[int, dict[str, Any]] = {}
    failures: list[BaseException] = []

    def ask(n: int) -> None:
        try:
            results[n] = box.execute("run_sql", {"query": f"SELECT {n} AS n, count(*) FROM data"})
        except BaseException as exc:  # noqa: BLE001 (re-raised on the test thread)
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=(n,), name=f"tool-{n}") for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert not failures
    assert {n: r["rows"] for n, r in results.items()} == {n: [[n, ROWS]] for n in range(12)}


# --------------------------------------------------------------------------- describe_column


def test_describe_numeric_column_is_exact(sales: pd.DataFrame) -> None:
    stats = describe_column(sales, "Unit Price")
    prices = sales["Unit Price"]
    assert stats["kind"] == "numeric" and stats["count"] == ROWS and stats["nulls"] == 0
    assert stats["distinct"] == prices.nunique()
    assert stats["min"] == prices.min() and stats["max"] == prices.max()
    assert stats["mean"] == pytest.approx(prices.mean(), rel=1e-12)
    assert stats["std"] == pytest.approx(prices.std(ddof=1), rel=1e-12)
    assert stats["quantiles"]["p50"] == pytest.approx(float(np.quantile(prices, 0.5)))
    assert stats["quantiles"]["p05"] == pytest.approx(float(np.quantile(prices, 0.05)))


def test_describe_counts_nulls_and_top_values() -> None:
    df = pd.DataFrame({"city": pd.Series(["Oslo", "Oslo", None, "Rome", "Oslo", "Rome", "Nice"], dtype="str")})
    stats = describe_column(df, "city")
    assert stats["count"] == 6 and stats["nulls"] == 1 and stats["distinct"] == 3
    assert stats["top_values"][:2] == [{"value": "Oslo", "count": 3}, {"value": "Rome", "count": 2}]
    assert stats["min_length"] == 4 and stats["max_length"] == 4


def test_describe_datetime_gives_the_range(sales: pd.DataFrame) -> None:
    stats = describe_column(sales, "ordered_at")
    assert stats["min"] == "2024-01-01T00:00:00+01:00"
    assert stats["range_days"] == pytest.approx((ROWS - 1) * 0.25)


def test_describe_forgives_case_and_suggests_close_names(sales: pd.DataFrame) -> None:
    assert describe_column(sales, "region")["column"] == "Region"
    error = describe_column(sales, "unit prise")["error"]
    assert error.startswith('Column "unit prise" not found. Did you mean \'Unit Price\'?')


# --------------------------------------------------------------------------- show_chart


def test_show_chart_returns_a_spec_the_page_can_draw(sales: pd.DataFrame) -> None:
    result = show_chart(sales, "bar", "region", "Unit Price", "mean", None)
    assert result["chart"] == {"kind": "bar", "x": "Region", "y": "Unit Price", "aggregate": "mean",
                               "title": "Mean of Unit Price by Region"}
    assert result["points"] == 4
    means = sales.groupby("Region")["Unit Price"].mean().sort_values(ascending=False)
    assert result["preview"]["rows"][0] == [means.index[0], pytest.approx(means.iloc[0])]
    chart = build_chart(sales, ChartSpec.from_dict(result["chart"])).to_dict()
    assert chart["mark"]["type"] == "bar"


def test_show_chart_errors_are_actionable(sales: pd.DataFrame) -> None:
    assert "needs a numeric y" in show_chart(sales, "bar", "Region", "segment", "sum")["error"]
    assert "Did you mean 'qty'" in show_chart(sales, "line", "day", "qtty")["error"]
    assert "Chart kind must be one of" in show_chart(sales, "pie", "Region")["error"]
    assert "must be text" in show_chart(sales, "bar", 3)["error"]  # type: ignore[arg-type]


def test_toolbox_dispatches_every_tool_and_never_raises(box: ToolBox) -> None:
    assert box.execute("describe_column", {"column": "qty"})["kind"] == "numeric"
    assert box.execute("describe_column", {"name": "qty"})["kind"] == "numeric"  # alias
    assert box.execute("show_chart", {"kind": "histogram", "x": "Unit Price"})["chart"]["kind"] == "histogram"
    assert box.execute("run_sql", {"sql": "SELECT 1"})["rows"] == [[1]]  # alias
    assert "Unknown tool" in box.execute("drop_everything", {})["error"]
    assert "error" in box.execute("describe_column", None)
    assert "error" in box.execute("show_chart", {"kind": ["bar"], "x": "Region"})
    for result in (box.execute("describe_column", {"column": "segment"}),
                   box.execute("show_chart", {"kind": "line", "x": "day", "y": "qty"})):
        json.dumps(result, allow_nan=False)
        assert len(json.dumps(result, separators=(",", ":")).encode()) <= 8192


# --------------------------------------------------------------------------- wire helpers


def test_json_safe_handles_pandas_and_numpy_scalars() -> None:
    assert json_safe(pd.NA) is None and json_safe(pd.NaT) is None and json_safe(np.float64("nan")) is None
    assert json_safe(np.int64(7)) == 7 and json_safe(np.bool_(True)) is True
    assert json_safe(pd.Timestamp("2024-01-01", tz="UTC")) == "2024-01-01T00:00:00+00:00"
    assert json_safe({"a": [decimal.Decimal("2.5"), b"\x00\x01"]}) == {"a": [2.5, "<binary, 2 bytes>"]}


def test_read_frame_gives_up_at_the_deadline() -> None:
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(os.dup(write_fd), "wb") as writer:
            write_frame(writer, {"hello": 1})
        assert read_frame(read_fd, deadline=time.monotonic() + 5) == {"hello": 1}
        with pytest.raises(FrameTimeout):
            read_frame(read_fd, deadline=time.monotonic() + 0.05)
    finally:
        os.close(read_fd)
        os.close(write_fd)
