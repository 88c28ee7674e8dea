"""What every kind of column needs: labels, dtype tests, null masks, the sample, top lists.

Pure functions; any thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from livechat.summary.escape import CELL_CAP, escape_text, format_value
from livechat.summary.facts.model import TOP_VALUES, RowSample, TopValue

__all__ = [
    "column_label",
    "coarse_kind",
    "is_object",
    "dtype_name",
    "null_mask",
    "sampled_rows",
    "ordered_top",
]

_TOP_CANDIDATES_MAX = 500



def column_label(name: object) -> str:
    """Return a column name (any hashable) as escaped display text."""
    if isinstance(name, str):
        text = name
    elif isinstance(name, tuple):
        text = " / ".join(column_label(part) for part in name)
    elif name is None:
        text = "None"
    else:
        text = format_value(name, CELL_CAP) or "NaN"
    return escape_text(text, CELL_CAP)


def coarse_kind(dtype: Any) -> str:
    """A one-word type from the dtype alone (for the compact column list)."""
    try:
        if isinstance(dtype, pd.CategoricalDtype):
            return "category"
        if ptypes.is_bool_dtype(dtype):
            return "boolean"
        if ptypes.is_datetime64_any_dtype(dtype):
            return "datetime"
        if ptypes.is_timedelta64_dtype(dtype):
            return "duration"
        if ptypes.is_integer_dtype(dtype):
            return "integer"
        if ptypes.is_float_dtype(dtype):
            return "decimal"
        if is_object(dtype):
            return "mixed"
        if ptypes.is_string_dtype(dtype):
            return "text"
    except (TypeError, ValueError):
        pass
    return "other"


def is_object(dtype: Any) -> bool:
    """Whether ``dtype`` is numpy's object dtype (Python values of any type)."""
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def dtype_name(series: pd.Series) -> str:
    """The dtype as text, or "unknown" when even that fails."""
    try:
        return str(series.dtype)
    except Exception:  # noqa: BLE001
        return "unknown"


def null_mask(series: pd.Series) -> np.ndarray:
    """A boolean numpy mask of the missing values, value by value when ``isna`` fails."""
    try:
        return np.asarray(series.isna(), dtype=bool)
    except Exception:  # noqa: BLE001 - objects whose comparison misbehaves
        return np.fromiter((_is_null(v) for v in series), dtype=bool, count=len(series))


def _is_null(value: object) -> bool:
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except Exception:  # noqa: BLE001
        return False


def sampled_rows(
    series: pd.Series, mask: np.ndarray, sample: RowSample
) -> tuple[pd.Series, np.ndarray]:
    """The sampled rows of ``series`` and their null mask."""
    if sample.positions is None:
        return series, mask
    return series.iloc[sample.positions], mask[sample.positions]


def ordered_top(
    values: list[Any], counts: list[int], non_null: int, k: int = TOP_VALUES
) -> tuple[TopValue, ...]:
    """Top ``k`` by count, ties broken by the rendered label (stable and deterministic)."""
    if not counts:
        return ()
    cut = sorted(counts, reverse=True)[min(k, len(counts)) - 1]
    # Ties at the cut can be numerous (all counts 1): keep the first few hundred, in the
    # caller's (first-seen, hence deterministic) order, before rendering and sorting.
    chosen = [(v, c) for v, c in zip(values, counts) if c >= cut][:_TOP_CANDIDATES_MAX]
    candidates = [(c, format_value(v)) for v, c in chosen]
    candidates.sort(key=lambda item: (-item[0], item[1]))
    return tuple(TopValue(label or "(empty)", int(c), c / non_null) for c, label in candidates[:k])
