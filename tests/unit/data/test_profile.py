"""profile_columns and chart_candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from livechat.data.profile import (
    PROFILE_COLUMNS,
    ChartCandidates,
    chart_candidates,
    column_type,
    profile_columns,
)


def frame() -> pd.DataFrame:
    n = 100
    return pd.DataFrame(
        {
            "row_id": np.arange(1, n + 1),
            "count": [i % 5 for i in range(n)],
            "count_gaps": [float(i % 7) if i % 10 else np.nan for i in range(n)],
            "price": [i * 1.25 for i in range(n)],
            "flag": [i % 4 == 0 for i in range(n)],
            "when": pd.date_range("2024-01-01", periods=n, freq="D"),
            "stamp": pd.date_range("2024-01-01 06:30", periods=n, freq="h"),
            "colour": pd.Series(["red", "green", "blue", None] * 25, dtype="str"),
            "note": pd.Series([f"note number {i}" for i in range(n)], dtype="str"),
            "cat": pd.Categorical(["a", "b"] * 50),
            "empty": [np.nan] * n,
        }
    )


def by_column(profile: pd.DataFrame) -> dict[str, dict[str, object]]:
    return {row["column"]: row for row in profile.to_dict("records")}


def test_profile_has_one_display_ready_row_per_column() -> None:
    df = frame()
    profile = profile_columns(df)
    assert tuple(profile.columns) == PROFILE_COLUMNS
    assert profile["column"].tolist() == list(df.columns)
    # No "object soup": every profile column has a concrete, displayable dtype.
    assert all(dtype != object for dtype in profile.dtypes), profile.dtypes
    assert pd.api.types.is_integer_dtype(profile["non_null"])
    assert pd.api.types.is_float_dtype(profile["mean"])


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("row_id", "integer"),
        ("count", "integer"),
        ("count_gaps", "integer"),  # whole numbers with gaps arrive as float64
        ("price", "decimal"),
        ("flag", "boolean"),
        ("when", "datetime"),
        ("stamp", "datetime"),
        ("colour", "category"),
        ("note", "text"),
        ("cat", "category"),
        ("empty", "decimal"),
    ],
)
def test_column_types(column: str, expected: str) -> None:
    df = frame()
    assert column_type(df[column]) == expected
    assert by_column(profile_columns(df))[column]["type"] == expected


def test_counts_and_percentages() -> None:
    rows = by_column(profile_columns(frame()))
    assert rows["colour"]["non_null"] == 75
    assert rows["colour"]["nulls"] == 25
    assert rows["colour"]["null_pct"] == 25.0
    assert rows["colour"]["distinct"] == 3
    assert rows["count_gaps"]["nulls"] == 10
    assert rows["empty"]["non_null"] == 0 and rows["empty"]["null_pct"] == 100.0
    assert rows["empty"]["min"] == "" and np.isnan(rows["empty"]["mean"])


def test_min_max_mean_formatting() -> None:
    rows = by_column(profile_columns(frame()))
    assert (rows["row_id"]["min"], rows["row_id"]["max"]) == ("1", "100")
    assert rows["row_id"]["mean"] == pytest.approx(50.5)
    assert (rows["count_gaps"]["min"], rows["count_gaps"]["max"]) == ("0", "6")
    assert (rows["price"]["min"], rows["price"]["max"]) == ("0", "123.75")
    assert (rows["when"]["min"], rows["when"]["max"]) == ("2024-01-01", "2024-04-09")
    assert rows["stamp"]["min"] == "2024-01-01 06:30:00"
    assert rows["flag"]["mean"] == pytest.approx(0.25)  # share of True
    assert rows["colour"]["min"] == "" and np.isnan(rows["colour"]["mean"])


def test_number_formatting_extremes() -> None:
    df = pd.DataFrame({"tiny": [0.00001234, 0.5], "huge": [1.5e20, 2.0], "year": [2023, 2024]})
    rows = by_column(profile_columns(df))
    assert rows["tiny"]["min"] == "1.234e-05"
    assert rows["huge"]["max"] == "1.5e+20"
    assert rows["year"]["min"] == "2023"  # no thousands separator in values


def test_top_values() -> None:
    df = pd.DataFrame(
        {
            "fruit": ["apple"] * 5 + ["pear"] * 3 + ["fig"] * 2 + ["kiwi"] + [None] * 9,
            "two": ["x"] * 12 + ["y"] * 8,
        }
    )
    rows = by_column(profile_columns(df))
    assert rows["fruit"]["top_values"] == "apple (5), pear (3), fig (2), …"
    assert rows["two"]["top_values"] == "x (12), y (8)"
    rows = by_column(profile_columns(frame()))
    assert rows["flag"]["top_values"] == "False (75), True (25)"
    assert rows["count"]["top_values"].startswith("0 (20), 1 (20), 2 (20)")
    assert rows["count_gaps"]["top_values"].endswith("…") and ".0" not in rows["count_gaps"]["top_values"]
    assert rows["note"]["top_values"] == ""  # all values unique
    assert rows["price"]["top_values"] == ""


def test_long_values_are_shortened_in_top_values() -> None:
    df = pd.DataFrame({"t": ["a" * 100] * 3 + ["b"] * 2 + ["c"]})
    top = profile_columns(df)["top_values"].iloc[0]
    assert top.startswith("a" * 39 + "… (3)")


def test_unhashable_and_duplicate_named_columns() -> None:
    df = pd.DataFrame([[[1, 2], 1], [[3], 2]], columns=["x", "x"])
    profile = profile_columns(df)
    assert profile["column"].tolist() == ["x", "x"]
    assert profile["distinct"].tolist() == [2, 2]


def test_empty_frame() -> None:
    assert profile_columns(pd.DataFrame()).empty
    assert chart_candidates(pd.DataFrame()) == ChartCandidates([], [], [])


def test_chart_candidates() -> None:
    df = frame()
    df["constant"] = 7
    df["many_words"] = [f"w{i}" for i in range(len(df))]
    got = chart_candidates(df)
    # row_id is an identifier (all distinct integers); constant has one value.
    assert got.numeric == ["count", "count_gaps", "price"]
    assert got.categorical == ["flag", "colour", "cat"]
    assert got.datetime == ["when", "stamp"]


def test_tz_aware_datetimes() -> None:
    df = pd.DataFrame({"t": pd.to_datetime(["2024-01-01T10:00Z", "2024-01-02T11:00Z"])})
    row = profile_columns(df).iloc[0]
    assert row["type"] == "datetime"
    assert row["max"] == "2024-01-02 11:00:00 UTC"
    assert chart_candidates(df).datetime == ["t"]
