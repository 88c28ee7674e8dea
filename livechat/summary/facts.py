"""Per-column facts for the data summary: semantic type, nulls, distinct values, statistics.

Exact where it is cheap (row and null counts, numeric min/max/mean/std/sum, datetime
range, category counts, low-cardinality value counts); everything else (quantiles,
high-cardinality distinct counts and top values, text lengths and examples, date
granularity) is computed on a deterministic sample of at most :data:`SAMPLE_ROWS` rows and
marked with ``~`` in the rendered text. Distinct values and value counts of big columns
come from :mod:`livechat.summary.counts` (exact when cheap, else estimated).

Every function here is pure (no shared state) and may be called from any thread.
:func:`profile_column` never raises: a column it cannot understand is profiled as
``other`` with examples only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import fractions
import logging
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from livechat.summary.counts import CHUNK, LOW_CARDINALITY, category_counts, count_values, duj1
from livechat.summary.escape import (
    CELL_CAP,
    escape_text,
    format_number,
    format_percent,
    format_value,
)

__all__ = [
    "SAMPLE_ROWS",
    "TOP_VALUES",
    "EXAMPLES",
    "RowSample",
    "TopValue",
    "ColumnProfile",
    "row_sample",
    "column_label",
    "coarse_kind",
    "profile_column",
]

logger = logging.getLogger(__name__)

SAMPLE_ROWS = 100_000
SAMPLE_SEED = 20_240_611
TOP_VALUES = 10
EXAMPLES = 3
EXAMPLE_CAP = 40
# Integer columns with at most this many distinct values also list their top values.
INT_TOP_MAX_DISTINCT = 20
_TOP_CANDIDATES_MAX = 500
_NESTED = "nested (list/dict)"
_CONTAINERS = (list, tuple, dict, set, frozenset, np.ndarray)
# Odd values are compared by their text up to this length (hashable, bounded in cost).
_GENERIC_KEY_CAP = 1_000

_ID_NAME = re.compile(
    r"(?:^|[\s_.\-/])(?:id|uuid|guid|key|pk|code)$|^(?:id|uuid|guid|pk)(?:[\s_.\-]|$)",
    re.IGNORECASE,
)
_ID_NAME_CAMEL = re.compile(r"[a-z](?:Id|ID|Uuid|UUID|Key)$")


@dataclass(frozen=True)
class RowSample:
    """Row positions (sorted, 0-based) statistics are computed on; ``None`` = all rows."""

    rows: int
    positions: np.ndarray | None

    @property
    def sampled(self) -> bool:
        return self.positions is not None

    @property
    def size(self) -> int:
        return self.rows if self.positions is None else len(self.positions)


@dataclass(frozen=True)
class TopValue:
    """One frequent value: escaped label, its count (in the sample when approximate), share."""

    label: str
    count: int
    share: float


@dataclass(frozen=True)
class ColumnProfile:
    """What the summary says about one column. Labels and values are already escaped."""

    position: int
    label: str
    kind: str
    dtype: str
    rows: int
    nulls: int
    distinct: int | None = None
    distinct_approx: bool = False
    unique: bool = False
    constant: bool = False
    constant_value: str = ""
    stats: tuple[tuple[str, str], ...] = ()
    top: tuple[TopValue, ...] = ()
    top_approx: bool = False
    examples: tuple[str, ...] = ()
    infinities: tuple[int, int] = (0, 0)
    mixed: str = ""
    numeric_for_correlation: bool = False

    @property
    def non_null(self) -> int:
        return self.rows - self.nulls


def row_sample(rows: int, limit: int = SAMPLE_ROWS) -> RowSample:
    """Return the deterministic row sample for a table of ``rows`` rows (fixed seed)."""
    if rows <= limit:
        return RowSample(rows, None)
    rng = np.random.default_rng(SAMPLE_SEED)
    positions = np.sort(rng.choice(rows, size=limit, replace=False))
    return RowSample(rows, positions)


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
        if _is_object(dtype):
            return "mixed"
        if ptypes.is_string_dtype(dtype):
            return "text"
    except (TypeError, ValueError):
        pass
    return "other"


def profile_column(
    series: pd.Series, position: int, sample: RowSample, name: object
) -> ColumnProfile:
    """Profile one column (a Series taken by position). Never raises."""
    label = column_label(name)
    base: dict[str, Any] = {
        "position": position,
        "label": label,
        "dtype": _dtype_name(series),
        "rows": len(series),
    }
    try:
        mask = _null_mask(series)
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
        return _generic(series, _null_mask(series), sample, base)
    except Exception:  # noqa: BLE001
        logger.debug("generic profile of column %d failed", position, exc_info=True)
        return ColumnProfile(kind="other", **base)


# --- dispatch -----------------------------------------------------------------------


def _dispatch(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(series, base)
    if ptypes.is_bool_dtype(dtype):
        return _boolean(series, mask, base)
    if ptypes.is_datetime64_any_dtype(dtype):
        return _datetime(series, mask, sample, base)
    if ptypes.is_timedelta64_dtype(dtype):
        return _duration(series, mask, sample, base)
    if _is_object(dtype):
        return _object(series, mask, sample, base, label)
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        return _numeric(series, mask, sample, base, label)
    if ptypes.is_string_dtype(dtype):
        return _strings(series, mask, sample, base, label)
    return _generic(series, mask, sample, base)


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _dtype_name(series: pd.Series) -> str:
    try:
        return str(series.dtype)
    except Exception:  # noqa: BLE001
        return "unknown"


def _null_mask(series: pd.Series) -> np.ndarray:
    try:
        return np.asarray(series.isna(), dtype=bool)
    except Exception:  # noqa: BLE001 - objects whose comparison misbehaves
        return np.fromiter((_is_null(v) for v in series), dtype=bool, count=len(series))


def _is_null(value: object) -> bool:
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except Exception:  # noqa: BLE001
        return False


def _sampled(
    series: pd.Series, mask: np.ndarray, sample: RowSample
) -> tuple[pd.Series, np.ndarray]:
    """The sampled rows of ``series`` and their null mask."""
    if sample.positions is None:
        return series, mask
    return series.iloc[sample.positions], mask[sample.positions]


def _looks_like_id(label: str) -> bool:
    return bool(_ID_NAME.search(label) or _ID_NAME_CAMEL.search(label))


def _ordered_top(
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


# --- numbers ------------------------------------------------------------------------


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


def _numeric(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
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
    if is_int and n >= 2:
        row_number = unique and high - low + 1 == n and low in (0, 1) and n >= 100
        if row_number or (_looks_like_id(label) and distinct >= 0.9 * n):
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
        top = _ordered_top(list(counted.keys), [int(c) for c in counted.counts], n)  # type: ignore[union-attr]
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


# --- categories, booleans ------------------------------------------------------------


def _categorical(series: pd.Series, base: dict[str, Any]) -> ColumnProfile:
    cat = series.array
    categories = cat.categories
    counts = category_counts(np.asarray(cat.codes), len(categories))
    present = np.flatnonzero(counts)
    non_null = int(counts.sum())
    distinct = int(present.size)
    candidates = _top_candidates(counts, present)
    top = _ordered_top(
        [categories[i] for i in candidates], [int(counts[i]) for i in candidates], non_null
    )
    stats: list[tuple[str, str]] = []
    if cat.ordered and len(categories):
        order = " < ".join(format_value(c, 20) for c in categories[:6])
        stats.append(("order", order + (" < …" if len(categories) > 6 else "")))
    return ColumnProfile(
        kind="category",
        distinct=distinct,
        unique=distinct == non_null,
        constant=distinct == 1,
        constant_value=top[0].label if distinct == 1 else "",
        stats=tuple(stats),
        top=top,
        **base,
    )


def _top_candidates(counts: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Indices worth sorting for the top list: those at or above the k-th largest count."""
    if present.size <= TOP_VALUES:
        return present
    kth = np.partition(counts[present], -TOP_VALUES)[-TOP_VALUES]
    return present[counts[present] >= kth]


def _boolean(series: pd.Series, mask: np.ndarray, base: dict[str, Any]) -> ColumnProfile:
    non_null = len(series) - base["nulls"]
    true = int(series.sum())  # skips missing values; no copy of the column
    false = non_null - true
    pairs = sorted([(true, "true"), (false, "false")], key=lambda p: (-p[0], p[1]))
    top = tuple(TopValue(label, count, count / non_null) for count, label in pairs if count)
    distinct = len(top)
    return ColumnProfile(
        kind="boolean",
        distinct=distinct,
        constant=distinct == 1,
        constant_value=top[0].label if distinct == 1 else "",
        top=top,
        **base,
    )


# --- dates and durations -------------------------------------------------------------

_GRANULARITIES = ("sub-second", "second", "minute", "hour", "day", "month", "year")


def _granularity(naive: np.ndarray) -> str:
    """Finest calendar component that varies in the (tz-naive, wall-clock) values."""
    seconds = naive.astype("datetime64[s]")
    if np.any(seconds.astype(naive.dtype) != naive):
        return "sub-second"
    as_int = seconds.astype(np.int64)
    if np.any(as_int % 60):
        return "second"
    if np.any(as_int % 3600):
        return "minute"
    if np.any(as_int % 86400):
        return "hour"
    days = naive.astype("datetime64[D]")
    months = naive.astype("datetime64[M]")
    if np.any(months.astype("datetime64[D]") != days):
        return "day"
    years = naive.astype("datetime64[Y]")
    if np.any(years.astype("datetime64[M]") != months):
        return "month"
    return "year"


def _human_step(step: np.timedelta64) -> str:
    seconds = step / np.timedelta64(1, "s")
    for size, unit in (
        (86400 * 365, "year"),
        (86400 * 28, "month"),
        (86400 * 7, "week"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ):
        if unit == "month" and 28 <= seconds / 86400 <= 31:
            return "1 month"
        if unit == "year" and 365 <= seconds / 86400 <= 366:
            return "1 year"
        if unit in ("month", "year"):
            continue
        if seconds >= size:
            amount = seconds / size
            text = format_number(round(amount, 2))
            return f"{text} {unit}" + ("" if text == "1" else "s")
    return f"{format_number(seconds)} seconds"


def _timestamp_text(value: Any, date_only: bool) -> str:
    try:
        if date_only:
            return value.strftime("%Y-%m-%d") + (
                f" {value.strftime('%z')}" if getattr(value, "tzinfo", None) else ""
            )
        return str(value)
    except Exception:  # noqa: BLE001
        return format_value(value)


def _datetime(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any]
) -> ColumnProfile:
    tz = getattr(series.dtype, "tz", None)
    low, high = series.min(), series.max()
    picked, picked_mask = _sampled(series, mask, sample)
    picked = picked[~picked_mask]
    # Wall-clock time decides the granularity ("every day at midnight" in local time).
    naive = np.asarray((picked.dt.tz_localize(None) if tz is not None else picked).to_numpy())
    granularity = step = ""
    if naive.dtype.kind == "M":
        granularity = _granularity(naive)
        if not sample.sampled:
            steps = np.diff(np.unique(naive))
            if steps.size >= 2:
                step = _human_step(np.median(steps))
    date_only = granularity in ("day", "month", "year")
    stats: list[tuple[str, str]] = [
        ("from", _timestamp_text(low, date_only)),
        ("to", _timestamp_text(high, date_only)),
    ]
    if granularity:
        stats.append(("granularity", ("~" if sample.sampled else "") + granularity))
    if step:
        stats.append(("typical step", step))
    if tz is not None:
        stats.append(("timezone", escape_text(str(tz), 40)))
    non_null = len(series) - base["nulls"]
    instants = getattr(series.array, "asi8", None)  # int64 instants (UTC when tz-aware)
    if instants is not None:
        values = instants[~mask] if base["nulls"] else instants
        counted = count_values(values, np.asarray(picked.array.asi8) if sample.sampled else None)
        distinct, approx = counted.distinct, counted.approx
    else:  # Arrow-backed timestamps: count on the sample
        distinct, approx = int(pd.Series(naive).nunique()), sample.sampled
    constant = not approx and distinct == 1
    return ColumnProfile(
        kind="datetime",
        distinct=distinct,
        distinct_approx=approx,
        unique=not approx and distinct == non_null,
        constant=constant,
        constant_value=stats[0][1] if constant else "",
        stats=tuple(stats),
        **base,
    )


def _duration(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any]
) -> ColumnProfile:
    sub, sub_mask = _sampled(series, mask, sample)
    median = sub[~sub_mask].median()
    marker = "~" if sample.sampled else ""
    stats = (
        ("min", format_value(series.min())),
        ("median", marker + format_value(median)),
        ("max", format_value(series.max())),
    )
    return ColumnProfile(kind="duration", stats=stats, **base)


# --- text ---------------------------------------------------------------------------


def _strings(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
    sub, sub_mask = _sampled(series, mask, sample)
    sub = sub[~sub_mask]
    sample_counts = sub.value_counts(sort=False, dropna=True)
    non_null = len(series) - base["nulls"]
    approx = False
    if not sample.sampled:
        counts, distinct = sample_counts, len(sample_counts)
    elif len(sample_counts) <= LOW_CARDINALITY:
        counts = series.value_counts(sort=False, dropna=True)
        distinct = len(counts)
    else:
        counts = sample_counts
        singletons = int((sample_counts.to_numpy() == 1).sum())
        distinct = duj1(len(sub), len(sample_counts), singletons, non_null)
        approx = True
    lengths = np.asarray(sub.str.len(), dtype=np.float64)
    mean_len = float(lengths.mean()) if lengths.size else 0.0
    spaced = (
        float(np.asarray(sub.str.contains(" ", regex=False), dtype=bool).mean())
        if len(sub)
        else 0.0
    )
    sample_distinct = len(sample_counts)
    ratio = sample_distinct / max(len(sub), 1)

    repeats = sample_distinct < len(sub)
    texty = mean_len > 25 or spaced > 0.5
    if _looks_like_id(label) and ratio >= 0.9:
        kind = "identifier-like"
    elif sample_distinct <= 50 and repeats:
        kind = "free text" if mean_len > 40 else "category"
    elif texty:
        kind = "free text"
    elif ratio <= 0.5 or len(sub) < 20:
        kind = "category"  # many repeats, or too few rows to call short labels identifiers
    else:
        kind = "identifier-like"

    stats: list[tuple[str, str]] = []
    top: tuple[TopValue, ...] = ()
    examples: tuple[str, ...] = ()
    if kind == "category":
        top = _ordered_top(
            list(counts.index),
            [int(c) for c in counts.to_numpy()],
            non_null if not approx else len(sub),
        )
    else:
        marker = "~" if sample.sampled else ""
        if lengths.size:
            stats.append(("length", f"{marker}{int(lengths.min())}-{int(lengths.max())}"))
        examples = _examples(sub)
    constant = not approx and distinct == 1
    return ColumnProfile(
        kind=kind,
        distinct=distinct,
        distinct_approx=approx,
        unique=not approx and distinct == non_null,
        constant=constant,
        constant_value=format_value(counts.index[0]) if constant else "",
        stats=tuple(stats),
        top=top,
        top_approx=approx,
        examples=examples,
        **base,
    )


def _examples(values: pd.Series, k: int = EXAMPLES) -> tuple[str, ...]:
    """First ``k`` distinct values in row order, preferring short ones."""
    short: list[str] = []
    longer: list[str] = []
    seen: set[str] = set()
    for value in values.iloc[:2000]:
        text = format_value(value, EXAMPLE_CAP)
        if not text or text in seen:
            continue
        seen.add(text)
        (longer if text.endswith("…") else short).append(text)
        if len(short) >= k:
            break
    return tuple((short + longer)[:k])


# --- Python objects -----------------------------------------------------------------

_TYPE_GROUPS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("bool", (bool, np.bool_)),
    ("int", (int, np.integer)),
    ("float", (float, np.floating, decimal.Decimal, fractions.Fraction)),
    ("str", (str,)),
    ("datetime", (dt.datetime, dt.date, np.datetime64)),
    ("duration", (dt.timedelta, np.timedelta64)),
    ("list", (list, tuple, set, frozenset, np.ndarray)),
    ("dict", (dict,)),
    ("bytes", (bytes, bytearray)),
)


def _type_group(kind: type) -> str:
    for group, members in _TYPE_GROUPS:
        if issubclass(kind, members):
            return group
    return kind.__name__


def _object(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
    sub, sub_mask = _sampled(series, mask, sample)
    values = sub[~sub_mask].tolist()
    groups = Counter()  # type: Counter[str]
    for kind, count in Counter(map(type, values)).items():
        groups[_type_group(kind)] += count
    names = set(groups)
    if names == {"str"}:
        return _strings(series, mask, sample, base, label)
    if names == {"bool"}:
        return _object_bool(values, base, sample)
    if names <= {"int", "float"}:
        return _python_numbers(values, names == {"int"}, sample, base)
    if names <= {"datetime"}:
        converted = pd.to_datetime(series, errors="raise")
        return _datetime(converted, _null_mask(converted), sample, base)
    if names <= {"list", "dict"}:
        return _generic(series, mask, sample, base, kind=_NESTED)
    if len(groups) == 1:
        only = next(iter(groups))
        return _generic(series, mask, sample, base, kind=f"other ({escape_text(only, 30)})")
    total = sum(groups.values())
    mix = ", ".join(
        f"{group} {format_percent(count, total)}"
        for group, count in sorted(groups.items(), key=lambda item: (-item[1], item[0]))
    )
    profile = _generic(series, mask, sample, base, kind="mixed")
    return dataclasses.replace(profile, mixed=mix + (" (sample)" if sample.sampled else ""))


def _object_bool(values: list[Any], base: dict[str, Any], sample: RowSample) -> ColumnProfile:
    true = sum(1 for v in values if v)
    false = len(values) - true
    pairs = sorted([(true, "true"), (false, "false")], key=lambda p: (-p[0], p[1]))
    top = tuple(TopValue(label, count, count / len(values)) for count, label in pairs if count)
    return ColumnProfile(
        kind="boolean",
        distinct=len(top),
        top=top,
        top_approx=sample.sampled,
        constant=len(top) == 1 and not sample.sampled,
        constant_value=top[0].label if len(top) == 1 else "",
        **base,
    )


def _python_numbers(
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


def _generic(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], kind: str = ""
) -> ColumnProfile:
    """Anything else: distinct count and examples over the rendered text of the values."""
    sub, sub_mask = _sampled(series, mask, sample)
    values = sub[~sub_mask].tolist()
    if not kind and values and all(isinstance(v, _CONTAINERS) for v in values[:1_000]):
        kind = _NESTED  # e.g. Arrow list/struct columns from JSON
    counts = Counter(format_value(v, _GENERIC_KEY_CAP) for v in values)
    non_null = base["rows"] - base["nulls"]
    approx = sample.sampled
    singletons = sum(1 for c in counts.values() if c == 1)
    distinct = duj1(len(values), len(counts), singletons, non_null) if approx else len(counts)
    examples = tuple(
        dict.fromkeys(text for text in (format_value(v, EXAMPLE_CAP) for v in values[:200]) if text)
    )[:EXAMPLES]
    stats: tuple[tuple[str, str], ...] = ()
    if kind == _NESTED:
        sizes = [len(v) for v in values if hasattr(v, "__len__")]
        if sizes:
            stats = (("items per value", f"{'~' if approx else ''}{min(sizes)}-{max(sizes)}"),)
    return ColumnProfile(
        kind=kind or f"other ({escape_text(_dtype_name(series), 30)})",
        distinct=distinct,
        distinct_approx=approx,
        unique=not approx and distinct == non_null,
        constant=not approx and distinct == 1,
        constant_value=examples[0] if distinct == 1 and examples else "",
        stats=stats,
        examples=examples,
        **base,
    )
