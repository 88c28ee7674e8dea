"""Facts of categorical and boolean columns: exact counts and the top values.

Pure functions; any thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from livechat.summary.counts import category_counts
from livechat.summary.escape import format_value
from livechat.summary.facts.common import ordered_top
from livechat.summary.facts.model import TOP_VALUES, ColumnProfile, RowSample, TopValue

__all__ = ["profile_category", "profile_boolean", "profile_object_booleans"]


def profile_category(series: pd.Series, base: dict[str, Any]) -> ColumnProfile:
    """A pandas categorical column: exact counts per category, the order when ordered.

    ``base`` holds the fields every profile shares (position, label, dtype, rows, nulls).
    """
    cat = series.array
    categories = cat.categories
    counts = category_counts(np.asarray(cat.codes), len(categories))
    present = np.flatnonzero(counts)
    non_null = int(counts.sum())
    distinct = int(present.size)
    candidates = _top_candidates(counts, present)
    top = ordered_top(
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


def profile_boolean(series: pd.Series, mask: np.ndarray, base: dict[str, Any]) -> ColumnProfile:
    """A boolean column (numpy or nullable): exact true/false counts."""
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


def profile_object_booleans(
    values: list[Any], base: dict[str, Any], sample: RowSample
) -> ColumnProfile:
    """An object column holding only bools: ``values`` are its (sampled) non-null values."""
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
