"""livechat.ui.quick_charts: small aggregated frames whatever the table size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from livechat.ui.quick_charts import (
    QuickChartError,
    choose_period,
    histogram_frame,
    histogram_spec,
    time_series_frame,
    time_series_spec,
    top_categories_frame,
    top_categories_spec,
)


def test_histogram_counts_every_finite_value_once() -> None:
    values = pd.Series([1.0, 2.0, 2.5, np.nan, np.inf, 10.0])
    frame = histogram_frame(values, bins=3)
    assert len(frame) == 3
    assert frame["count"].sum() == 4  # NaN and inf left out
    assert frame["start"].iloc[0] == 1.0 and frame["end"].iloc[-1] == 10.0


def test_histogram_of_an_empty_column_is_empty() -> None:
    assert histogram_frame(pd.Series([np.nan, None], dtype="float64")).empty


def test_histogram_accepts_nullable_integers() -> None:
    frame = histogram_frame(pd.Series([1, None, 3], dtype="Int64"), bins=2)
    assert frame["count"].sum() == 2


def test_histogram_rejects_zero_bins_naming_the_value() -> None:
    with pytest.raises(QuickChartError, match="got 0"):
        histogram_frame(pd.Series([1.0]), bins=0)


def test_top_categories_most_frequent_first_with_missing_named() -> None:
    values = pd.Series(["b", "a", "b", None, "c", "b", "a"])
    frame = top_categories_frame(values, top=2)
    assert frame["value"].tolist() == ["b", "a"]
    assert frame["count"].tolist() == [3, 2]
    assert "(missing)" in top_categories_frame(values)["value"].tolist()


def test_choose_period_gives_at_most_max_points() -> None:
    start = pd.Timestamp("2024-01-01")
    assert choose_period(start, start + pd.Timedelta(hours=5), max_points=400) == "min"
    assert choose_period(start, start + pd.Timedelta(days=90), max_points=400) == "D"
    assert choose_period(start, start + pd.Timedelta(days=2000), max_points=400) == "W"
    assert choose_period(start, start + pd.Timedelta(days=3650), max_points=400) == "MS"
    assert choose_period(start, start + pd.Timedelta(days=365 * 5000), max_points=10) == "YS"


def test_choose_period_never_finer_than_the_data_spacing() -> None:
    start = pd.Timestamp("2024-01-01")
    end = start + pd.Timedelta(days=4)
    assert choose_period(start, end, max_points=400) == "h"
    assert choose_period(start, end, max_points=400, spacing=pd.Timedelta(days=1)) == "D"
    assert choose_period(start, end, max_points=400, spacing=pd.Timedelta(days=31)) == "MS"


def test_time_series_counts_rows_per_period() -> None:
    df = pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-03", None])})
    frame, period = time_series_frame(df, "when")
    assert period == "D"
    assert frame["value"].tolist() == [2, 0, 1]


def test_time_series_means_a_value_column_and_stays_small() -> None:
    times = pd.date_range("2020-01-01", periods=100_000, freq="min")
    df = pd.DataFrame({"t": times, "v": np.arange(100_000, dtype="float64")})
    frame, _ = time_series_frame(df, "t", "v", max_points=50)
    assert len(frame) <= 51
    assert frame["value"].iloc[0] < frame["value"].iloc[-1]


def test_time_series_rejects_a_non_datetime_column() -> None:
    with pytest.raises(QuickChartError, match="'v'.*not a date/time"):
        time_series_frame(pd.DataFrame({"v": [1, 2]}), "v")


def test_specs_draw_the_frames_columns() -> None:
    frames_and_specs = (
        (histogram_frame(pd.Series(range(100))), histogram_spec("x")),
        (top_categories_frame(pd.Series(["a", "b"])), top_categories_spec("c")),
        (time_series_frame(pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3)}), "t")[0],
         time_series_spec("t", "Row count")),
    )
    for frame, spec in frames_and_specs:
        fields = {e["field"] for e in spec["encoding"].values()}
        assert fields <= set(frame.columns), (fields, list(frame.columns))
    assert histogram_spec("Wind speed")["encoding"]["x"]["title"] == "Wind speed"
    assert time_series_spec("t", "v", points=True)["mark"]["point"] is True
