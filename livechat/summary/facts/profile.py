"""One column in, its ``ColumnProfile`` out: picks the facts module for the column's dtype.

:func:`profile_column` never raises: a column it cannot understand is profiled as
``other`` with examples only. Pure; any thread.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from livechat.summary.facts.categories import profile_boolean, profile_category
from livechat.summary.facts.common import coarse_kind, column_label, dtype_name, is_object, null_mask
from livechat.summary.facts.dates import profile_datetime, profile_duration
from livechat.summary.facts.model import ColumnProfile, RowSample
from livechat.summary.facts.numbers import profile_numbers
from livechat.summary.facts.objects import profile_generic, profile_objects
from livechat.summary.facts.text import profile_text

__all__ = ["profile_column"]

logger = logging.getLogger(__name__)


def profile_column(
    series: pd.Series, position: int, sample: RowSample, name: object
) -> ColumnProfile:
    """Profile one column (a Series taken by position). Never raises."""
    label = column_label(name)
    base: dict[str, Any] = {
        "position": position,
        "label": label,
        "dtype": dtype_name(series),
        "rows": len(series),
    }
    try:
        mask = null_mask(series)
        base["nulls"] = int(mask.sum())
        if len(series) == 0:
            return ColumnProfile(kind=coarse_kind(series.dtype), **base)
        if base["nulls"] == len(series):
            return ColumnProfile(kind="empty (all null)", distinct=0, **base)
        # Overflow in std/mean of values near the float limit is expected: the result is
        # inf, which the text shows as such.
        with np.errstate(all="ignore"):
            return _dispatch(series, mask, sample, base, label)
    except Exception:  # noqa: BLE001 - an odd column must not break the summary
        logger.debug(
            "profiling column %d failed; falling back to examples", position, exc_info=True
        )
    base.setdefault("nulls", 0)
    try:
        return profile_generic(series, null_mask(series), sample, base)
    except Exception:  # noqa: BLE001
        logger.debug("generic profile of column %d failed", position, exc_info=True)
        return ColumnProfile(kind="other", **base)



def _dispatch(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
    """The facts module for the column's dtype (object columns sort themselves further)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return profile_category(series, base)
    if ptypes.is_bool_dtype(dtype):
        return profile_boolean(series, mask, base)
    if ptypes.is_datetime64_any_dtype(dtype):
        return profile_datetime(series, mask, sample, base)
    if ptypes.is_timedelta64_dtype(dtype):
        return profile_duration(series, mask, sample, base)
    if is_object(dtype):
        return profile_objects(series, mask, sample, base, label)
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        return profile_numbers(series, mask, sample, base, label)
    if ptypes.is_string_dtype(dtype):
        return profile_text(series, mask, sample, base, label)
    return profile_generic(series, mask, sample, base)
