"""Facts of text columns: category, free text or identifier-like; top values or examples.

Pure functions; any thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from livechat.summary.counts import LOW_CARDINALITY, duj1
from livechat.summary.escape import format_value
from livechat.data.identifiers import KEY_DISTINCT_SHARE, looks_like_id
from livechat.summary.facts.common import ordered_top, sampled_rows
from livechat.summary.facts.model import EXAMPLE_CAP, EXAMPLES, ColumnProfile, RowSample, TopValue

__all__ = ["profile_text"]


def profile_text(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
    """A text column: its kind from the sample, then top values (categories) or examples."""
    sub, sub_mask = sampled_rows(series, mask, sample)
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
    if looks_like_id(label) and ratio >= KEY_DISTINCT_SHARE:
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
        top = ordered_top(
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
