"""Facts of numeric columns: integers and decimals, numpy-backed or Python objects.

Exact min/max/mean/std/sum over every row; quantiles on the sample (marked ``~``);
infinities counted apart; integer columns that look like row numbers or ids are
``identifier-like``. Pure functions; any thread.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from livechat.summary.counts import CHUNK, count_values, duj1
from livechat.summary.escape import format_number, format_value
from livechat.data.identifiers import is_identifier
from livechat.summary.facts.common import ordered_top
from livechat.summary.facts.model import ColumnProfile, RowSample, TopValue

__all__ = ["INT_TOP_MAX_DISTINCT", "profile_numbers", "profile_python_numbers"]

# Integer columns with at most this many distinct values also list their top values.
INT_TOP_MAX_DISTINCT = 20


def _numeric_arrays(
    series: pd.Series, mask: np.ndarray, sample: RowSample
) -> tuple[np.ndarray, np.ndarray]:
    """(all non-null values, the sampled non-null values) as numpy arrays."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        full = series.to_numpy()  # a view, no copy
    else:  # nullable and Arrow-backed dtypes
        np_dtype = np.dtype(getattr(dtype, "numpy_dtype", np.float64))
        if np_dtype.kind not in "iuf":
            np_dtype = np.dtype(np.float64)
        full = series.to_numpy(dtype=np_dtype, na_value=0 if np_dtype.kind in "iu" else np.nan)
    nulls = bool(mask.any())
    values = full[~mask] if nulls else full
    if sample.positions is None:
        return values, values
    picked = full[sample.positions]
    return values, (picked[~mask[sample.positions]] if nulls else picked)


def _all_integral(values: np.ndarray, largest: float) -> bool:
    """Whether every (finite) float is a whole number; chunked, stops at the first fraction."""
    if values.size == 0 or largest >= 2**53:
        return False
    for start in range(0, values.size, CHUNK):
        if np.any(np.mod(values[start : start + CHUNK], 1)):
            return False
    return True


def profile_numbers(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
    """A numeric column (numpy, nullable or Arrow): exact range, mean, std and sum."""
    is_int = ptypes.is_integer_dtype(series.dtype)
    values, sub_values = _numeric_arrays(series, mask, sample)
    n = values.size
    pos_inf = neg_inf = 0
    finite = values
    if is_int:
        low: float = int(values.min())
        high: float = int(values.max())
    else:
        finite_mask = np.isfinite(values)
        if not finite_mask.all():
            pos_inf = int(np.count_nonzero(values == np.inf))
            neg_inf = int(np.count_nonzero(values == -np.inf))
            finite = values[finite_mask]
            sub_values = sub_values[np.isfinite(sub_values)]
        low = float(finite.min()) if finite.size else (math.inf if pos_inf else -math.inf)
        high = float(finite.max()) if finite.size else low
        low = -math.inf if neg_inf else low
        high = math.inf if pos_inf else high

    counted = count_values(
        values,
        sub_values if sample.sampled else None,
        integer_range=(int(low), int(high)) if is_int else None,
    )
    distinct, approx = counted.distinct, counted.approx
    unique = not approx and distinct == n
    integral = is_int or _all_integral(finite, max(abs(low), abs(high)))
    kind = "integer" if integral else "decimal"
    if is_int and is_identifier(label, count=n, distinct=distinct, low=low, high=high, exact=not approx):
        kind = "identifier-like"

    stats: list[tuple[str, str]] = [("min", format_number(low))]
    if kind != "identifier-like" and sub_values.size and high != low:
        marker = "~" if sample.sampled else ""
        quartiles = np.quantile(sub_values.astype(np.float64, copy=False), [0.25, 0.5, 0.75])
        stats += [
            (q, marker + format_number(float(v)))
            for q, v in zip(("p25", "median", "p75"), quartiles)
        ]
    stats.append(("max", format_number(high)))
    if kind != "identifier-like" and finite.size:
        stats.append(("mean", format_number(float(np.mean(finite, dtype=np.float64)))))
        if finite.size > 1:
            stats.append(("std", format_number(float(np.std(finite, dtype=np.float64, ddof=1)))))
        stats.append(("sum", _sum_text(finite, is_int, max(abs(low), abs(high)))))
    if pos_inf or neg_inf:
        stats.append(("infinite", f"+inf {pos_inf}, -inf {neg_inf}"))

    top: tuple[TopValue, ...] = ()
    if (
        kind != "identifier-like"
        and integral
        and counted.keys is not None
        and distinct <= INT_TOP_MAX_DISTINCT
    ):
        top = ordered_top(list(counted.keys), [int(c) for c in counted.counts], n)  # type: ignore[union-attr]
    constant = not approx and distinct == 1
    return ColumnProfile(
        kind=kind,
        distinct=distinct,
        distinct_approx=approx,
        unique=unique,
        constant=constant,
        constant_value=format_value(values[0]) if constant else "",
        stats=tuple(stats),
        top=top,
        infinities=(pos_inf, neg_inf),
        numeric_for_correlation=kind != "identifier-like" and not constant,
        **base,
    )


def _sum_text(values: np.ndarray, is_int: bool, largest: float) -> str:
    """Exact integer sum when it cannot overflow 64 bits, else a float sum marked ~."""
    if is_int:
        bound = largest * values.size
        if values.dtype.kind == "u" and bound < 2**64:
            return format_number(int(values.sum(dtype=np.uint64)))
        if values.dtype.kind == "i" and bound < 2**63:
            return format_number(int(values.sum(dtype=np.int64)))
        return "~" + format_number(float(values.sum(dtype=np.float64)))
    return format_number(float(values.sum(dtype=np.float64)))


def profile_python_numbers(
    values: list[Any], all_int: bool, sample: RowSample, base: dict[str, Any]
) -> ColumnProfile:
    """Numbers held as Python objects (ints beyond int64, Decimals): exact arithmetic."""
    ordered = sorted(values)
    n = len(ordered)
    marker = "~" if sample.sampled else ""

    def at(q: float) -> str:
        return marker + format_value(ordered[min(n - 1, int(q * (n - 1) + 0.5))])

    stats: list[tuple[str, str]] = [("min", marker + format_value(ordered[0]))]
    if n > 1:
        stats += [("p25", at(0.25)), ("median", at(0.5)), ("p75", at(0.75))]
    stats.append(("max", marker + format_value(ordered[-1])))
    total: Any = None
    try:
        total = sum(ordered)
        stats.append(
            ("sum", ("~" + format_value(total)) if sample.sampled else format_value(total))
        )
        try:
            mean: Any = total / n
        except OverflowError:
            mean = total // n  # huge ints: the float quotient overflows, the integer one can't
        stats.append(("mean", marker + format_value(mean)))
    except (ArithmeticError, TypeError, ValueError):
        pass  # e.g. Decimal and Fraction mixed: min/max/quantiles still stand
    if n > 1:
        try:
            stats.append(
                ("std", marker + format_number(statistics.stdev(float(v) for v in ordered)))
            )
        except (ArithmeticError, TypeError, ValueError):
            pass  # beyond float range
    distinct = len(set(ordered))
    approx = sample.sampled
    return ColumnProfile(
        kind="integer" if all_int else "decimal",
        distinct=distinct
        if not approx
        else duj1(
            n,
            distinct,
            sum(1 for c in Counter(ordered).values() if c == 1),
            base["rows"] - base["nulls"],
        ),
        distinct_approx=approx,
        unique=not approx and distinct == n,
        constant=not approx and distinct == 1,
        constant_value=format_value(ordered[0]) if distinct == 1 else "",
        stats=tuple(stats),
        **base,
    )
