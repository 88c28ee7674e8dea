"""Column profile for the Data page, and which columns suit which quick chart.

`profile_columns` returns one display-ready row per column: every cell is a plain
string or number (no Python objects), so it renders as-is in any table widget.
Column types are the six words an analyst sees:
integer, decimal, boolean, datetime, category, text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from livechat.data.identifiers import is_identifier
from livechat.data.loaders.numbers import ColumnConversion

INTEGER = "integer"
DECIMAL = "decimal"
BOOLEAN = "boolean"
DATETIME = "datetime"
CATEGORY = "category"
TEXT = "text"

# A text column is a category when it has few distinct values, both absolutely and
# relative to its size (5 names in 5 rows are not categories).
CATEGORY_MAX_DISTINCT = 50
CATEGORY_MAX_SHARE = 0.5
TOP_VALUES = 3
_VALUE_WIDTH = 40
_FLOAT_EXACT_INT = 2.0**53

PROFILE_COLUMNS = (
    "column",
    "type",
    "non_null",
    "nulls",
    "null_pct",
    "distinct",
    "min",
    "max",
    "mean",
    "top_values",
)


@dataclass(frozen=True)
class ChartCandidates:
    """Column names suited to each quick chart, in table order.

    numeric: histogram; categorical: bar of top categories (2..50 distinct values);
    datetime: x axis of a line chart.
    """

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    datetime: list[str] = field(default_factory=list)


def column_type(series: pd.Series) -> str:
    """The analyst-facing type of one column (one of the six constants)."""
    return _facts(series).kind


def profile_columns(df: pd.DataFrame, *, conversions: Sequence[ColumnConversion] = ()) -> pd.DataFrame:
    """One row per column of `df` with counts, range, mean and most common values.

    `conversions` (`LoadedTable.conversions`) label the columns read from text: the
    type of a percent column reads "decimal (percent)", of an amount "decimal (€)".

    Columns: column (str), type (str), non_null, nulls, distinct (int64), null_pct
    (float, 0-100, one decimal), min/max (str, "" when not meaningful), mean (float,
    NaN when not meaningful; share of True for booleans), top_values (str like
    "A (120), B (80), …", "" when not meaningful).
    """
    rows = [_profile_row(str(df.columns[i]), df.iloc[:, i]) for i in range(df.shape[1])]
    units = {c.column: ("percent" if c.percent else c.currency) for c in conversions}
    for row in rows:
        if units.get(row["column"]):
            row["type"] = f"{row['type']} ({units[row['column']]})"
    out = pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
    return out.astype(
        {
            "column": "str",
            "type": "str",
            "non_null": "int64",
            "nulls": "int64",
            "null_pct": "float64",
            "distinct": "int64",
            "min": "str",
            "max": "str",
            "mean": "float64",
            "top_values": "str",
        }
    )


def chart_candidates(df: pd.DataFrame) -> ChartCandidates:
    """Which columns make a sensible histogram, top-categories bar, or time axis."""
    result = ChartCandidates()
    for i in range(df.shape[1]):
        name = str(df.columns[i])
        facts = _facts(df.iloc[:, i])
        if facts.kind in (INTEGER, DECIMAL):
            id_like = facts.kind == INTEGER and is_identifier(
                name, count=facts.non_null, distinct=facts.distinct,
                low=float(facts.values.min()), high=float(facts.values.max()),
            )
            if facts.distinct >= 2 and not id_like:
                result.numeric.append(name)
        elif facts.kind in (CATEGORY, BOOLEAN):
            if 2 <= facts.distinct <= CATEGORY_MAX_DISTINCT:
                result.categorical.append(name)
        elif facts.kind == DATETIME and facts.distinct >= 2:
            result.datetime.append(name)
    return result


@dataclass(frozen=True)
class _Facts:
    kind: str
    values: pd.Series  # non-null values, in a hashable, comparable form
    non_null: int
    distinct: int


def _facts(series: pd.Series) -> _Facts:
    values = _hashable(series.dropna())
    non_null = len(values)
    distinct = int(values.nunique())
    return _Facts(_kind(series, values, non_null, distinct), values, non_null, distinct)


def _hashable(values: pd.Series) -> pd.Series:
    if values.dtype == object:
        try:
            values.nunique()
        except TypeError:  # lists/dicts in an object column
            return values.map(str).astype("str")
    return values


def _kind(series: pd.Series, values: pd.Series, non_null: int, distinct: int) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(dtype):
        # Integers with gaps arrive as floats; show them as what they are.
        # Beyond 2**53 floats are all whole numbers, so only smaller ones count.
        finite = values.to_numpy(dtype="float64", na_value=np.nan)
        if (
            non_null
            and np.all(np.abs(finite) <= _FLOAT_EXACT_INT)
            and np.all(np.mod(finite, 1) == 0)
        ):
            return INTEGER
        return DECIMAL
    if pd.api.types.is_numeric_dtype(dtype):  # complex and the like
        return DECIMAL
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORY
    if dtype == object:
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "boolean":
            return BOOLEAN
        if inferred == "integer":
            return INTEGER
        if inferred in ("floating", "mixed-integer-float", "decimal"):
            return DECIMAL
        if inferred in ("datetime", "datetime64", "date"):
            return DATETIME
    if distinct <= CATEGORY_MAX_DISTINCT and (
        distinct <= CATEGORY_MAX_SHARE * non_null and non_null > 0
    ):
        return CATEGORY
    return TEXT


def _profile_row(name: str, series: pd.Series) -> dict[str, Any]:
    facts = _facts(series)
    total = len(series)
    nulls = total - facts.non_null
    row: dict[str, Any] = {
        "column": name,
        "type": facts.kind,
        "non_null": facts.non_null,
        "nulls": nulls,
        "null_pct": round(100.0 * nulls / total, 1) if total else 0.0,
        "distinct": facts.distinct,
        "min": "",
        "max": "",
        "mean": np.nan,
        "top_values": "",
    }
    if facts.non_null == 0:
        return row
    values = facts.values
    if facts.kind in (INTEGER, DECIMAL) and pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
        row["min"] = _format_number(numbers.min(), facts.kind)
        row["max"] = _format_number(numbers.max(), facts.kind)
        row["mean"] = float(numbers.mean())
    elif facts.kind == BOOLEAN:
        row["mean"] = float(values.astype(bool).mean())
    elif facts.kind == DATETIME and pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates_only = bool((values.dt.normalize() == values).all())
        row["min"] = _format_timestamp(values.min(), dates_only)
        row["max"] = _format_timestamp(values.max(), dates_only)
    if facts.kind in (CATEGORY, BOOLEAN, TEXT) or (
        facts.kind == INTEGER and facts.distinct <= CATEGORY_MAX_DISTINCT
    ):
        row["top_values"] = _top_values(values, facts.distinct, facts.kind)
    return row


def _format_number(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return str(value)
    if kind == INTEGER:
        return str(int(value))
    if value != 0 and (abs(value) >= 1e15 or abs(value) < 1e-4):
        return f"{value:.4g}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _format_timestamp(value: pd.Timestamp, dates_only: bool) -> str:
    if dates_only:
        return value.strftime("%Y-%m-%d")
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} {value.tzname()}" if value.tzinfo is not None else text


def _top_values(values: pd.Series, distinct: int, kind: str) -> str:
    counts = values.value_counts(dropna=True).head(TOP_VALUES)
    if counts.empty or (kind == TEXT and int(counts.iloc[0]) == 1):
        return ""  # every value unique: nothing is "top"
    parts = [f"{_format_value(v, kind)} ({int(n):,})" for v, n in counts.items()]
    if distinct > len(parts):
        parts.append("…")
    return ", ".join(parts)


def _format_value(value: Any, kind: str) -> str:
    if kind == INTEGER and isinstance(value, (float, np.floating)):
        text = str(int(value))
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"
