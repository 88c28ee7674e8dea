"""Facts of date/time and duration columns: range, granularity, typical step, time zone.

Pure functions; any thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from livechat.summary.counts import count_values
from livechat.summary.escape import escape_text, format_number, format_value
from livechat.summary.facts.common import sampled_rows
from livechat.summary.facts.model import ColumnProfile, RowSample

__all__ = ["profile_datetime", "profile_duration"]

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


def profile_datetime(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any]
) -> ColumnProfile:
    """A date/time column: exact range; granularity and step from the sample."""
    tz = getattr(series.dtype, "tz", None)
    low, high = series.min(), series.max()
    picked, picked_mask = sampled_rows(series, mask, sample)
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


def profile_duration(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any]
) -> ColumnProfile:
    """A duration column: exact min and max, the median from the sample."""
    sub, sub_mask = sampled_rows(series, mask, sample)
    median = sub[~sub_mask].median()
    marker = "~" if sample.sampled else ""
    stats = (
        ("min", format_value(series.min())),
        ("median", marker + format_value(median)),
        ("max", format_value(series.max())),
    )
    return ColumnProfile(kind="duration", stats=stats, **base)
