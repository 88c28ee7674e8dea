"""ChartSpec validation, pre-aggregation and the Altair charts built from it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from livechat.tools.charts import (
    MAX_BARS,
    MAX_BINS,
    MAX_POINTS,
    ChartSpec,
    ChartSpecError,
    build_chart,
    chart_data,
    validate_spec,
)

N = 20_000


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "region": pd.Series(rng.choice(["north", "south", "east", "west"], N), dtype="str"),
        "segment": pd.Categorical(rng.choice(["a", "b", "c"], N)),
        "when": pd.date_range("2024-03-30", periods=N, freq="min", tz="Europe/Paris"),
        "day": pd.date_range("2020-01-01", periods=N, freq="D").to_series(index=range(N)),
        "qty": pd.array(rng.integers(0, 100, N), dtype="Int64"),
        "flag": pd.array(rng.choice([True, False], N), dtype="boolean"),
        "price.usd [net]": rng.random(N) * 100,
        "id": np.arange(N),
        "name": pd.Series([f"customer {i}" for i in range(N)], dtype="str"),
    })


def _values(chart: Any) -> list[dict[str, Any]]:
    spec = chart.to_dict()
    datasets = spec["datasets"]
    assert len(datasets) == 1
    return next(iter(datasets.values()))


def test_spec_round_trips_through_json() -> None:
    spec = ChartSpec(kind="line", x="day", y="qty", aggregate="sum", title="Units")
    assert ChartSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "bar"}, "needs kind and x"),
    ({"kind": "bar", "x": "a", "colour": "red"}, "unknown chart spec keys: colour"),
    ({"kind": "bar", "x": 3}, "x must be text, got int"),
    (["bar"], "must be a mapping"),
])
def test_from_dict_rejects_bad_shapes(data: Any, message: str) -> None:
    with pytest.raises(ChartSpecError, match=message):
        ChartSpec.from_dict(data)


def test_validation_fills_defaults_and_exact_names(df: pd.DataFrame) -> None:
    assert validate_spec(df, ChartSpec("BAR", "REGION", "qty")) == ChartSpec(
        "bar", "region", "qty", "sum", "Sum of qty by region")
    assert validate_spec(df, ChartSpec("line", "day", "qty")).aggregate == "mean"
    assert validate_spec(df, ChartSpec("scatter", "id", "qty")).aggregate == "none"
    assert validate_spec(df, ChartSpec("bar", "region")).aggregate == "count"
    assert validate_spec(df, ChartSpec("histogram", "qty")).title == "Distribution of qty"
    assert len(validate_spec(df, ChartSpec("bar", "region", title="t" * 500)).title) == 120


@pytest.mark.parametrize(("spec", "message"), [
    (ChartSpec("pie", "region"), "Chart kind must be one of bar, line, scatter, histogram"),
    (ChartSpec("bar", "region", "qty", "median"), "Aggregate must be one of sum, mean, count"),
    (ChartSpec("bar", "regoin", "qty"), "Did you mean 'region'"),
    (ChartSpec("bar", "region", "name", "sum"), 'needs a numeric y, but "name" holds text'),
    (ChartSpec("line", "day", "segment", "max"), "needs a numeric or date y"),
    (ChartSpec("histogram", "qty", "id"), "A histogram takes only x"),
    (ChartSpec("histogram", "qty", aggregate="sum"), "aggregate must be count"),
    (ChartSpec("scatter", "qty"), "needs both x and y"),
    (ChartSpec("line", "day", aggregate="mean"), "needs a y column"),
    (ChartSpec("bar", ""), "needs an x column"),
])
def test_invalid_specs_explain_what_to_change(df: pd.DataFrame, spec: ChartSpec, message: str) -> None:
    with pytest.raises(ChartSpecError, match=message):
        validate_spec(df, spec)


def test_bar_sums_per_category_most_first(df: pd.DataFrame) -> None:
    data = chart_data(df, ChartSpec("bar", "region", "price.usd [net]"))
    expected = df.groupby("region")["price.usd [net]"].sum().sort_values(ascending=False)
    assert data.frame["x"].tolist() == expected.index.tolist()
    assert data.frame["y"].tolist() == pytest.approx(expected.tolist())
    assert data.x_type == "nominal" and data.y_title == "sum of price.usd [net]"


def test_bar_keeps_the_top_categories_only(df: pd.DataFrame) -> None:
    data = chart_data(df, ChartSpec("bar", "name", "qty", "max"))
    assert len(data.frame) == MAX_BARS and data.groups == N
    assert data.note is not None and "top 50" in data.note
    top = df.groupby("name")["qty"].max().sort_values(ascending=False).head(MAX_BARS)
    assert data.frame["y"].tolist() == top.astype("float64").tolist()


def test_count_rows_and_count_of_present_values() -> None:
    frame = pd.DataFrame({"k": ["a", "a", "b"], "v": pd.array([1, None, 2], dtype="Int64")})
    rows = chart_data(frame, ChartSpec("bar", "k"))
    assert dict(zip(rows.frame["x"], rows.frame["y"], strict=True)) == {"a": 2, "b": 1}
    present = chart_data(frame, ChartSpec("bar", "k", "v", "count"))
    assert dict(zip(present.frame["x"], present.frame["y"], strict=True)) == {"a": 1, "b": 1}


def test_all_missing_group_has_no_sum() -> None:
    frame = pd.DataFrame({"k": ["a", "b"], "v": pd.array([None, 2], dtype="Int64")})
    data = chart_data(frame, ChartSpec("bar", "k", "v", "sum"))
    values = dict(zip(data.frame["x"], data.frame["y"], strict=True))
    assert pd.isna(values["a"]) and values["b"] == 2


def test_many_numeric_x_values_are_binned_with_correct_totals(df: pd.DataFrame) -> None:
    data = chart_data(df, ChartSpec("line", "id", "qty", "sum"))
    assert len(data.frame) == MAX_POINTS and "grouped into 5000 equal intervals" in (data.note or "")
    assert data.frame["y"].sum() == pytest.approx(float(df["qty"].sum()))
    bars = chart_data(df, ChartSpec("bar", "id", "qty", "sum"))
    assert len(bars.frame) == MAX_BARS and list(bars.frame.columns) == ["x", "x2", "y"]
    assert bars.frame["y"].sum() == pytest.approx(float(df["qty"].sum()))


def test_scatter_samples_deterministically(df: pd.DataFrame) -> None:
    first = chart_data(df, ChartSpec("scatter", "price.usd [net]", "qty"))
    second = chart_data(df, ChartSpec("scatter", "price.usd [net]", "qty"))
    assert len(first.frame) == MAX_POINTS and "sample of 5,000" in (first.note or "")
    pd.testing.assert_frame_equal(first.frame, second.frame)


def test_histogram_counts_every_value(df: pd.DataFrame) -> None:
    data = chart_data(df, ChartSpec("histogram", "price.usd [net]"))
    assert len(data.frame) > 1 and len(data.frame) <= MAX_BINS
    assert int(data.frame["y"].sum()) == N
    assert (data.frame["x2"] > data.frame["x"]).all()


def test_datetime_histogram_keeps_the_time_zone(df: pd.DataFrame) -> None:
    data = chart_data(df, ChartSpec("histogram", "when"))
    assert int(data.frame["y"].sum()) == N
    assert str(data.frame["x"].dt.tz) == "Europe/Paris"
    assert data.frame["x"].iloc[0] == df["when"].min()


def test_text_histogram_counts_values(df: pd.DataFrame) -> None:
    data = chart_data(df, ChartSpec("histogram", "flag"))
    assert sorted(data.frame["x"]) == ["false", "true"] and int(data.frame["y"].sum()) == N


@pytest.mark.parametrize("spec", [
    ChartSpec("bar", "region", "price.usd [net]"),
    ChartSpec("bar", "segment"),
    ChartSpec("bar", "flag", "qty", "mean"),
    ChartSpec("bar", "id", "qty"),
    ChartSpec("line", "when", "qty"),
    ChartSpec("line", "day", "price.usd [net]", "max"),
    ChartSpec("line", "when", "day", "min"),
    ChartSpec("scatter", "price.usd [net]", "qty"),
    ChartSpec("scatter", "day", "qty", "none"),
    ChartSpec("histogram", "price.usd [net]"),
    ChartSpec("histogram", "day"),
    ChartSpec("histogram", "region"),
], ids=lambda spec: f"{spec.kind}-{spec.x}-{spec.y}-{spec.aggregate}")
def test_every_kind_builds_a_serialisable_chart_within_the_point_cap(df: pd.DataFrame, spec: ChartSpec) -> None:
    chart = build_chart(df, spec)
    values = _values(chart)
    assert 0 < len(values) <= MAX_POINTS
    as_dict = chart.to_dict()
    json.dumps(as_dict, allow_nan=False)
    encoding = as_dict["encoding"]
    # Fields are the safe names; the real (dotted, bracketed) names are titles only.
    assert encoding["x"]["field"] == "x" and encoding["y"]["field"] == "y"
    assert encoding["x"]["title"] == spec.x
    expected_mark = {"bar": "bar", "histogram": "bar", "line": "line", "scatter": "circle"}[spec.kind]
    mark = as_dict["mark"]["type"] if isinstance(as_dict["mark"], dict) else as_dict["mark"]
    assert mark == expected_mark


def test_capped_chart_says_so_in_its_subtitle(df: pd.DataFrame) -> None:
    as_dict = build_chart(df, ChartSpec("bar", "name", "qty", title="Units by customer")).to_dict()
    assert as_dict["title"]["text"] == "Units by customer"
    assert "top 50" in as_dict["title"]["subtitle"]


def test_building_a_chart_leaves_the_frame_unchanged(df: pd.DataFrame) -> None:
    original = df.copy(deep=True)
    for spec in (ChartSpec("line", "when", "qty", "sum"), ChartSpec("histogram", "day"),
                 ChartSpec("scatter", "flag", "qty")):
        build_chart(df, spec)
    pd.testing.assert_frame_equal(df, original)
