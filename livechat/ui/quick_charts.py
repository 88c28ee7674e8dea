"""Quick charts for the Data page: aggregate in pandas first, then draw with Vega-Lite.

Aggregating before charting keeps what goes to the browser small whatever the table
size: a histogram is at most ``bins`` rows, a bar chart ``top`` rows, a time series
``max_points`` rows. The specs are plain Vega-Lite dicts for ``st.vega_lite_chart``:
building them through Altair cost more than the rest of a Data page rerun together
(schema validation on every rerun; bench/bench_data_page.py). No streamlit import.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ROW_COUNT = "Row count"

# Candidate resampling periods, finest first, with their approximate length.
_PERIODS: tuple[tuple[str, pd.Timedelta], ...] = (
    ("s", pd.Timedelta(seconds=1)),
    ("min", pd.Timedelta(minutes=1)),
    ("h", pd.Timedelta(hours=1)),
    ("D", pd.Timedelta(days=1)),
    ("W", pd.Timedelta(weeks=1)),
    ("MS", pd.Timedelta(days=30.44)),
    ("QS", pd.Timedelta(days=91.31)),
    ("YS", pd.Timedelta(days=365.25)),
)


class QuickChartError(ValueError):
    """A quick chart asked of a column that cannot make it."""


def histogram_frame(values: pd.Series, *, bins: int = 30) -> pd.DataFrame:
    """Bin the finite values of a numeric column: columns start, end, count."""
    if bins < 1:
        raise QuickChartError(f"bins must be at least 1, got {bins}")
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    finite = numeric[np.isfinite(numeric)]
    if finite.size == 0:
        return pd.DataFrame({"start": [], "end": [], "count": []})
    counts, edges = np.histogram(finite, bins=bins)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts.astype("int64")})


def top_categories_frame(values: pd.Series, *, top: int = 15) -> pd.DataFrame:
    """Count the ``top`` most frequent values: columns value, count (missing shown as "(missing)")."""
    if top < 1:
        raise QuickChartError(f"top must be at least 1, got {top}")
    labels = values.astype("object").where(values.notna(), "(missing)").map(str)
    counts = labels.value_counts(sort=True).head(top)
    return pd.DataFrame({"value": counts.index.astype(str), "count": counts.to_numpy(dtype="int64")})


def choose_period(
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    max_points: int,
    spacing: pd.Timedelta | None = None,
) -> str:
    """The finest resampling period giving at most ``max_points`` points over start..end.

    ``spacing`` (the data's typical gap) is a floor: daily data is never cut into hours,
    which would draw a comb of empty periods.
    """
    span = end - start
    for alias, length in _PERIODS:
        # Half the gap: data every 2 days still gets daily points, monthly data never weeks.
        if spacing is not None and length < spacing * 0.5:
            continue
        if span / length <= max_points:
            return alias
    return _PERIODS[-1][0]


def time_series_frame(
    df: pd.DataFrame, time_column: str, value_column: str | None = None, *, max_points: int = 400
) -> tuple[pd.DataFrame, str]:
    """Resample ``df`` over ``time_column``: mean of ``value_column`` per period, or row count.

    Returns (frame with columns time, value; the period alias used).
    """
    if max_points < 2:
        raise QuickChartError(f"max_points must be at least 2, got {max_points}")
    times = df[time_column]
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        raise QuickChartError(f"column {time_column!r} is not a date/time column (dtype {times.dtype})")
    if value_column is None:
        series = pd.Series(1, index=times, dtype="int64")
    else:
        series = pd.Series(pd.to_numeric(df[value_column], errors="coerce").to_numpy(), index=times)
    series = series[series.index.notna()].sort_index()
    if series.empty:
        return pd.DataFrame({"time": pd.Series([], dtype="datetime64[ns]"), "value": []}), "D"
    distinct = series.index.unique()
    gaps = distinct[1:] - distinct[:-1]
    spacing = gaps.median() if len(gaps) else None
    period = choose_period(distinct[0], distinct[-1], max_points=max_points, spacing=spacing)
    resampled = series.resample(period)
    aggregated = resampled.sum() if value_column is None else resampled.mean()
    frame = aggregated.reset_index()
    frame.columns = ["time", "value"]
    return frame, period


def histogram_spec(column: str) -> dict[str, Any]:
    """Vega-Lite spec drawing a ``histogram_frame``: one bar per bin."""
    return {
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "start", "type": "quantitative", "bin": "binned", "title": column},
            "x2": {"field": "end"},
            "y": {"field": "count", "type": "quantitative", "title": "Rows"},
        },
    }


def top_categories_spec(column: str) -> dict[str, Any]:
    """Vega-Lite spec drawing a ``top_categories_frame``: horizontal bars, most frequent on top."""
    return {
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "y": {"field": "value", "type": "nominal", "sort": "-x", "title": column},
            "x": {"field": "count", "type": "quantitative", "title": "Rows"},
        },
    }


def time_series_spec(time_column: str, value_title: str, *, points: bool = False) -> dict[str, Any]:
    """Vega-Lite spec drawing a ``time_series_frame`` as a line (with dots when ``points``)."""
    return {
        "mark": {"type": "line", "point": points, "tooltip": True},
        "encoding": {
            "x": {"field": "time", "type": "temporal", "title": time_column},
            "y": {"field": "value", "type": "quantitative", "title": value_title},
        },
    }
