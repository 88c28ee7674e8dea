"""Columns as the tools see them: find the one the model named, and say what kind it is.

The model speaks column names it heard in the summary, so lookups forgive case when
that is unambiguous, and a miss names the closest real columns (``difflib``).
Pure functions; safe from any thread (they only read the DataFrame).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import difflib
from typing import Any, Literal

import pandas as pd

__all__ = ["ColumnKind", "ColumnNotFoundError", "column_kind", "resolve_column", "sql_type_name"]

ColumnKind = Literal["numeric", "boolean", "datetime", "timedelta", "text"]


class ColumnNotFoundError(KeyError):
    """The named column does not exist. ``str()`` lists close matches, for the model."""

    def __init__(self, name: str, columns: list[str]) -> None:
        self.name = name
        self.columns = columns
        lowered = {c.lower(): c for c in columns}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
        suggestions = [lowered[c] for c in close]
        shown = ", ".join(columns[:40]) + (f", … ({len(columns)} in all)" if len(columns) > 40 else "")
        hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        self.message = f'Column "{name}" not found.{hint} Columns: {shown}.'
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return self.message


def resolve_column(df: pd.DataFrame, name: Any) -> Any:
    """Return the label of ``df``'s column called ``name`` (exact, else unique case-insensitive).

    Raises ``ColumnNotFoundError`` otherwise, or ``TypeError`` if ``name`` is not text.
    """
    if not isinstance(name, str):
        raise TypeError(f"a column name must be text, got {type(name).__name__}")
    labels = list(df.columns)
    texts = [str(label) for label in labels]
    if name in texts:
        return labels[texts.index(name)]
    folded = [i for i, text in enumerate(texts) if text.casefold() == name.strip().casefold()]
    if len(folded) == 1:
        return labels[folded[0]]
    raise ColumnNotFoundError(name, texts)


def column_kind(series: pd.Series) -> ColumnKind:
    """Classify a column for statistics and charts."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if isinstance(dtype, pd.CategoricalDtype):
        return "text"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return "text"


def sql_type_name(series: pd.Series) -> str:
    """The DuckDB type the column will have in the table ``data`` (for tool descriptions)."""
    dtype = series.dtype
    kind = column_kind(series)
    if kind == "boolean":
        return "BOOLEAN"
    if kind == "datetime":
        return "TIMESTAMPTZ" if getattr(dtype, "tz", None) is not None else "TIMESTAMP"
    if kind == "timedelta":
        return "INTERVAL"
    if kind == "numeric":
        return "BIGINT" if pd.api.types.is_integer_dtype(dtype) else "DOUBLE"
    if dtype == object:
        # Arrow types object columns by their values: peek at the first one.
        present = series.notna().to_numpy()
        value = series.iloc[int(present.argmax())] if present.any() else None
        if isinstance(value, _dt.datetime):
            return "TIMESTAMP"
        if isinstance(value, _dt.date):
            return "DATE"
        if isinstance(value, decimal.Decimal):
            return "DECIMAL"
    return "VARCHAR"
