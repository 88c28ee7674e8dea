"""Column profiles: semantic types, exact vs sampled statistics, odd dtypes."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from livechat.summary.facts import (
    SAMPLE_ROWS,
    ColumnProfile,
    coarse_kind,
    column_label,
    profile_column,
    row_sample,
)


def _profile(values: object, name: object = "col", dtype: object = None) -> ColumnProfile:
    series = pd.Series(values, dtype=dtype)
    return profile_column(series, 0, row_sample(len(series)), name)


def _stats(profile: ColumnProfile) -> dict[str, str]:
    return dict(profile.stats)


_RNG = np.random.default_rng(3)


@pytest.mark.parametrize(
    ("values", "name", "dtype", "kind"),
    [
        (list(range(1, 301)), "order_id", None, "identifier-like"),
        (list(range(0, 300)), "row", None, "identifier-like"),  # 0..n-1, unique: a row number
        (list(range(1990, 2020)), "year", None, "integer"),  # consecutive but short: not an id
        ([1.5, 2.25, None, 4.0], "price", None, "decimal"),
        ([1.0, 2.0, None, 4.0], "count", None, "integer"),  # ints stored as floats
        ([True, False, None] * 3, "flag", "boolean", "boolean"),
        ([True, False] * 3, "flag", None, "boolean"),
        (["north", "south", "north", "east"] * 10, "region", None, "category"),
        (
            [f"a free comment number {i} about the lamp" for i in range(40)],
            "comment",
            None,
            "free text",
        ),
        ([f"{i:012x}" for i in range(40)], "token", None, "identifier-like"),
        (["x", "y", "z"], "label", None, "category"),  # too few rows to call it an identifier
        (pd.date_range("2024-01-01", periods=5, freq="D"), "day", None, "datetime"),
        (pd.to_timedelta([1, 2, 3], unit="h"), "wait", None, "duration"),
        ([None, None], "nothing", None, "empty (all null)"),
        ([1, "a", 2.5], "mess", object, "mixed"),
        ([[1, 2], {"a": 1}], "json", object, "nested (list/dict)"),
        ([2**70, 5, -3], "big", object, "integer"),
        ([decimal.Decimal("1.1"), decimal.Decimal("2")], "money", object, "decimal"),
        ([dt.date(2024, 1, 1), dt.date(2024, 3, 1)], "when", object, "datetime"),
        ([1 + 1j, 2j], "z", None, "other (complex128)"),
        ([b"\x00raw", b"more"], "blob", object, "other (bytes)"),
        (pd.array([1, None, 3], dtype="Int64"), "n", None, "integer"),
        ([[1, 2], [3], None], "tags", pd.ArrowDtype(pa.list_(pa.int64())), "nested (list/dict)"),
        (
            [{"a": 1}, None],
            "obj",
            pd.ArrowDtype(pa.struct([("a", pa.int64())])),
            "nested (list/dict)",
        ),
        ([1, None, 3], "n", "int64[pyarrow]", "integer"),
        ([True, None], "b", "bool[pyarrow]", "boolean"),
        (pd.array(["a", None, "a"], dtype="string[pyarrow]"), "s", None, "category"),
    ],
)
def test_semantic_types(values: object, name: str, dtype: object, kind: str) -> None:
    assert _profile(values, name, dtype).kind == kind


def test_numeric_statistics_are_exact_on_small_columns() -> None:
    values = [4.0, 1.0, None, 3.0, 2.0, np.nan]
    profile = _profile(values, "x")
    stats = _stats(profile)
    assert profile.nulls == 2 and profile.distinct == 4 and not profile.distinct_approx
    assert stats["min"] == "1" and stats["max"] == "4"
    assert stats["mean"] == "2.5" and stats["sum"] == "10"
    assert stats["median"] == "2.5" and stats["p25"] == "1.75" and stats["p75"] == "3.25"
    assert stats["std"] == "1.29099"


def test_identifiers_get_a_range_but_no_sum_or_mean() -> None:
    stats = _stats(_profile(list(range(1, 301)), "customer_id"))
    assert stats == {"min": "1", "max": "300"}


def test_infinities_are_counted_and_kept_out_of_mean() -> None:
    profile = _profile([1.0, np.inf, -np.inf, 3.0], "f")
    stats = _stats(profile)
    assert profile.infinities == (1, 1)
    assert stats["min"] == "-inf" and stats["max"] == "inf" and stats["mean"] == "2"


def test_integer_sum_is_exact_or_marked_when_it_could_overflow() -> None:
    assert _stats(_profile(np.array([2**62, 2**62], dtype=np.int64)))["sum"].startswith("~")
    assert _stats(_profile(np.array([2**40, 3], dtype=np.int64)))["sum"] == str(2**40 + 3)
    assert _stats(_profile(np.array([2**64 - 1, 0], dtype=np.uint64)))["max"] == "1.84467e+19"


def test_huge_python_ints_keep_exact_order_statistics() -> None:
    stats = _stats(_profile([10**5000, 1, 2, 3], "big", object))
    assert stats["max"] == "1e+5000" and stats["min"] == "1"


def test_category_top_values_have_counts_shares_and_stable_ties() -> None:
    profile = _profile(
        pd.Categorical(["b", "a", "c", "a", "b", None], categories=["c", "b", "a"]), "cat"
    )
    assert [(t.label, t.count) for t in profile.top] == [("a", 2), ("b", 2), ("c", 1)]
    assert profile.top[0].share == pytest.approx(0.4)
    assert profile.distinct == 3 and profile.nulls == 1


def test_ordered_categoricals_state_their_order() -> None:
    profile = _profile(
        pd.Categorical(["lo", "hi"], categories=["lo", "mid", "hi"], ordered=True), "level"
    )
    assert _stats(profile)["order"] == "lo < mid < hi"


def test_datetime_range_granularity_and_timezone() -> None:
    values = pd.date_range("2024-03-30 22:00", periods=6, freq="h", tz="Europe/Paris")
    stats = _stats(_profile(values, "ts"))
    assert stats["from"] == "2024-03-30 22:00:00+01:00"
    assert stats["to"] == "2024-03-31 04:00:00+02:00"  # across the DST change
    assert stats["granularity"] == "hour" and stats["timezone"] == "Europe/Paris"


@pytest.mark.parametrize(
    ("values", "granularity", "step"),
    [
        (pd.date_range("2024-01-01", periods=10, freq="D"), "day", "1 day"),
        (pd.date_range("2024-01-01", periods=10, freq="MS"), "month", "1 month"),
        (pd.date_range("2024-01-01", periods=10, freq="7D"), "day", "1 week"),
        (pd.date_range("2024-01-01", periods=10, freq="15min"), "minute", "15 minutes"),
        (pd.date_range("2024-01-01", periods=10, freq="250ms"), "sub-second", "0.25 seconds"),
    ],
)
def test_datetime_granularity_and_step(
    values: pd.DatetimeIndex, granularity: str, step: str
) -> None:
    stats = _stats(_profile(values, "t"))
    assert stats["granularity"] == granularity
    assert stats["typical step"] == step


def test_text_profiles_give_lengths_and_short_examples() -> None:
    values = ["short one here", "x" * 100_000, "another short text", None] * 10
    profile = _profile(values, "comment")
    assert profile.kind == "free text"
    assert _stats(profile)["length"] == "14-100000"
    assert profile.examples[:2] == ("short one here", "another short text")
    assert all(len(example) <= 40 for example in profile.examples)


def test_large_columns_sample_and_mark_estimates_but_keep_exact_counts() -> None:
    n = SAMPLE_ROWS + 50_000
    rng = np.random.default_rng(0)
    values = rng.normal(size=n)
    values[::10] = np.nan
    profile = profile_column(pd.Series(values), 0, row_sample(n), "x")
    stats = _stats(profile)
    assert profile.nulls == n // 10  # exact
    assert profile.distinct_approx and profile.distinct is not None
    assert abs(profile.distinct - (n - n // 10)) / n < 0.05
    assert stats["median"].startswith("~") and stats["p25"].startswith("~")
    assert not stats["min"].startswith("~") and not stats["mean"].startswith("~")  # exact
    assert float(stats["min"]) == pytest.approx(np.nanmin(values), rel=1e-5)


def test_large_low_cardinality_columns_count_exactly() -> None:
    n = SAMPLE_ROWS + 50_000
    series = pd.Series(np.where(np.arange(n) % 3 == 0, "a", "b"))
    profile = profile_column(series, 0, row_sample(n), "kind")
    assert profile.distinct == 2 and not profile.distinct_approx and not profile.top_approx
    assert {t.label: t.count for t in profile.top} == {"a": (n + 2) // 3, "b": n - (n + 2) // 3}


def test_large_unique_integer_ids_are_checked_exactly() -> None:
    n = SAMPLE_ROWS + 10
    profile = profile_column(pd.Series(np.arange(n)[::-1]), 0, row_sample(n), "id")
    assert profile.unique and profile.distinct == n and not profile.distinct_approx


def test_row_sample_is_deterministic_and_sorted() -> None:
    first, second = row_sample(250_000), row_sample(250_000)
    assert first.positions is not None and second.positions is not None
    assert np.array_equal(first.positions, second.positions)
    assert first.size == SAMPLE_ROWS and np.all(np.diff(first.positions) > 0)
    assert row_sample(10).positions is None


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("a", "a"),
        (0, "0"),
        (1.5, "1.5"),
        (None, "None"),
        (("x", 2), "x / 2"),
        (float("nan"), "NaN"),
        ("bad\nname", "bad\\nname"),
    ],
)
def test_column_labels_for_any_name(name: object, label: str) -> None:
    assert column_label(name) == label


@pytest.mark.parametrize(
    ("dtype", "kind"),
    [
        ("int64", "integer"),
        ("float32", "decimal"),
        ("bool", "boolean"),
        ("str", "text"),
        ("object", "mixed"),
        ("datetime64[ns]", "datetime"),
        ("category", "category"),
        ("Int64", "integer"),
    ],
)
def test_coarse_kind(dtype: str, kind: str) -> None:
    assert coarse_kind(pd.Series([], dtype=dtype).dtype) == kind


def test_a_column_whose_values_break_comparison_still_profiles() -> None:
    class Weird:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no comparing")

        __hash__ = None  # type: ignore[assignment]

        def __str__(self) -> str:
            return "weird"

    profile = _profile([Weird(), Weird()], "w", object)
    assert profile.rows == 2
    assert profile.kind == "other (Weird)"
    assert profile.examples == ("weird",)
