"""The tools over a table set: joins in run_sql, table.column, charts of a query result."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from livechat.tools.charts import ChartSpec, build_chart
from livechat.tools.toolbox import ToolBox, function_declarations, live_tools

ORDERS = 3_000


def _tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(18)
    customers = pd.DataFrame({
        "customer_id": np.arange(1, 201),
        "Region": pd.Series(rng.choice(["North", "South", "East", "West"], 200), dtype="str"),
    })
    orders = pd.DataFrame({
        "order_id": np.arange(1, ORDERS + 1),
        "customer_id": rng.integers(1, 201, ORDERS),
        "amount": rng.random(ORDERS).round(2) * 100,
        "day": pd.date_range("2024-01-01", periods=ORDERS, freq="3h"),
    })
    returns = pd.DataFrame({
        "order_id": rng.choice(orders["order_id"], 400, replace=False),
        "reason": pd.Series(rng.choice(["damaged", "late", "wrong size"], 400), dtype="str"),
    })
    return {"orders": orders, "customers": customers, "returns": returns}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return _tables()


@pytest.fixture(scope="module")
def box(tables: dict[str, pd.DataFrame]) -> Iterator[ToolBox]:
    with ToolBox(tables) as toolbox:
        yield toolbox


def test_a_join_question_gets_the_answer_pandas_computes(box: ToolBox, tables) -> None:
    # "Which region had the most returns per order?"
    result = box.execute("run_sql", {"query": """
        SELECT c."Region" AS region, count(r.order_id) * 1.0 / count(*) AS returns_per_order
        FROM orders o JOIN customers c USING (customer_id)
        LEFT JOIN returns r ON r.order_id = o.order_id
        GROUP BY 1 ORDER BY 2 DESC, 1"""})
    assert "error" not in result, result
    merged = tables["orders"].merge(tables["customers"], on="customer_id")
    merged["returned"] = merged["order_id"].isin(tables["returns"]["order_id"])
    expected = merged.groupby("Region")["returned"].mean().reset_index()
    expected = expected.sort_values(["returned", "Region"], ascending=[False, True])
    assert [row[0] for row in result["rows"]] == expected["Region"].tolist()
    assert [row[1] for row in result["rows"]] == pytest.approx(expected["returned"].tolist())


def test_data_is_the_first_table(box: ToolBox, tables) -> None:
    result = box.execute("run_sql", {"query": "SELECT count(*), sum(amount) FROM data"})
    assert result["rows"] == [[ORDERS, pytest.approx(tables["orders"]["amount"].sum())]]


def test_an_unknown_table_error_lists_the_tables(box: ToolBox) -> None:
    error = box.execute("run_sql", {"query": "SELECT * FROM refunds"})["error"]
    assert "`orders`, `customers`, `returns`" in error
    assert "`data` is orders" in error


def test_describe_column_takes_table_dot_column(box: ToolBox, tables) -> None:
    result = box.execute("describe_column", {"column": "customers.Region"})
    assert result["table"] == "customers" and result["column"] == "Region"
    counts = tables["customers"]["Region"].value_counts()
    assert result["top_values"][0] == {"value": counts.index[0], "count": int(counts.iloc[0])}
    assert box.execute("describe_column", {"column": "orders.amount"})["sum"] == pytest.approx(
        tables["orders"]["amount"].sum())
    # a column only one table has needs no table; a shared one does
    assert box.execute("describe_column", {"column": "reason"})["table"] == "returns"
    error = box.execute("describe_column", {"column": "order_id"})["error"]
    assert "several tables (orders, returns)" in error and "orders.order_id" in error
    assert "not found" in box.execute("describe_column", {"column": "refunds.reason"})["error"]
    assert box.execute("describe_column", {"column": "data.amount"})["table"] == "orders"


def test_show_chart_draws_a_query_result(box: ToolBox, tables) -> None:
    query = ('SELECT c."Region" AS region, sum(o.amount) AS total FROM orders o '
             "JOIN customers c USING (customer_id) GROUP BY 1")
    result = box.execute("show_chart", {"kind": "bar", "x": "region", "y": "total", "query": query})
    assert "error" not in result, result
    assert result["chart"]["query"] == query
    merged = tables["orders"].merge(tables["customers"], on="customer_id")
    totals = merged.groupby("Region")["amount"].sum().sort_values(ascending=False)
    assert result["preview"]["rows"][0] == [totals.index[0], pytest.approx(totals.iloc[0])]
    # the page redraws it from the spec the transcript keeps
    spec = ChartSpec.from_dict(json.loads(json.dumps(result["chart"])))
    chart = build_chart(box.chart_frame(spec), spec).to_dict()
    assert chart["mark"]["type"] == "bar"


def test_show_chart_of_a_query_keeps_dates_on_a_time_axis(box: ToolBox) -> None:
    query = "SELECT date_trunc('month', day) AS month, count(*) AS n FROM orders GROUP BY 1 ORDER BY 1"
    result = box.execute("show_chart", {"kind": "line", "x": "month", "y": "n", "query": query})
    assert "error" not in result, result
    spec = ChartSpec.from_dict(result["chart"])
    chart = build_chart(box.chart_frame(spec), spec).to_dict()
    assert chart["encoding"]["x"]["type"] == "temporal"


def test_show_chart_of_one_table_of_the_set(box: ToolBox) -> None:
    result = box.execute("show_chart", {"kind": "bar", "x": "reason", "table": "returns"})
    assert result["chart"]["table"] == "returns"
    assert result["points"] == 3
    assert "Tables: orders, customers, returns" in box.execute(
        "show_chart", {"kind": "bar", "x": "reason", "table": "refunds"})["error"]


def test_show_chart_query_errors_are_actionable(box: ToolBox) -> None:
    too_many = box.execute("show_chart", {"kind": "scatter", "x": "a", "y": "b",
                                          "query": "SELECT range AS a, range AS b FROM range(6000)"})
    assert "at most 5,000" in too_many["error"]
    refused = box.execute("show_chart", {"kind": "bar", "x": "a", "query": "DELETE FROM orders"})
    assert refused["error"].startswith("The chart query failed: Only one SELECT")
    assert "must be text" in box.execute("show_chart", {"kind": "bar", "x": "a", "query": 3})["error"]


def test_declarations_list_every_table_and_are_deterministic(tables) -> None:
    run_sql_decl, describe_decl, chart_decl = function_declarations(tables)
    for declaration in (run_sql_decl, describe_decl, chart_decl):
        assert "The tables are orders, customers, returns; orders is also named data" in declaration.description
    assert '"Region" VARCHAR' in run_sql_decl.description
    assert "table.column" in describe_decl.parameters.properties["column"].description
    assert chart_decl.parameters.properties["table"].enum == ["orders", "customers", "returns"]
    assert "query" in chart_decl.parameters.properties
    first = [d.model_dump(mode="json", exclude_none=True) for d in live_tools(tables)[0].function_declarations]
    again = [d.model_dump(mode="json", exclude_none=True)
             for d in live_tools({k: v.copy() for k, v in tables.items()})[0].function_declarations]
    assert first == again


def test_declarations_of_a_wide_set_stay_short() -> None:
    wide = {f"t{i}": pd.DataFrame({f"column number {j}": [j] for j in range(300)}) for i in range(20)}
    for declaration in function_declarations(wide):
        assert len(declaration.description) < 5_000
        assert "t19" in declaration.description


def test_a_table_left_out_of_the_set_is_not_in_sql(tables) -> None:
    chosen = {name: df for name, df in tables.items() if name != "returns"}
    with ToolBox(chosen) as box:
        assert box.table_names == ("orders", "customers")
        error = box.execute("run_sql", {"query": "SELECT count(*) FROM returns"})["error"]
        assert "Table returns not found" in error
        assert box.execute("run_sql", {"query": "SELECT count(*) FROM customers"})["rows"] == [[200]]


def test_a_single_table_toolbox_charts_a_query_and_reads_data_dot_column(tables) -> None:
    with ToolBox(tables["orders"]) as box:
        assert box.table_names == ("data",)
        result = box.execute("show_chart", {"kind": "bar", "x": "c", "y": "n",
                                            "query": "SELECT customer_id % 3 AS c, count(*) AS n FROM data GROUP BY 1"})
        assert "error" not in result, result
        assert "table" not in result["chart"]
        assert sum(row[1] for row in result["preview"]["rows"]) == ORDERS
        assert box.execute("describe_column", {"column": "data.amount"})["column"] == "amount"


def test_table_names_must_be_sql_identifiers(tables) -> None:
    from livechat.tools.sql_sandbox import SqlTableNameError

    for bad in ({"Orders 2024": tables["orders"]}, {"x; drop": tables["orders"]}, {}):
        with pytest.raises(SqlTableNameError):
            ToolBox(bad)
