"""Facts of Python-object columns: sorted by the types they hold, else described generically.

An object column of one type is profiled as that type (text, booleans, numbers, dates);
nested values, other types and mixtures get a distinct count and examples over the
rendered text of the values (:func:`profile_generic`, also the fallback of every column
that cannot be understood otherwise). Pure functions; any thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import fractions
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from livechat.summary.counts import duj1
from livechat.summary.escape import escape_text, format_percent, format_value
from livechat.summary.facts.categories import profile_object_booleans
from livechat.summary.facts.common import dtype_name, null_mask, sampled_rows
from livechat.summary.facts.dates import profile_datetime
from livechat.summary.facts.model import EXAMPLE_CAP, EXAMPLES, ColumnProfile, RowSample
from livechat.summary.facts.numbers import profile_python_numbers
from livechat.summary.facts.text import profile_text

__all__ = ["profile_objects", "profile_generic"]

_NESTED = "nested (list/dict)"
_CONTAINERS = (list, tuple, dict, set, frozenset, np.ndarray)
# Odd values are compared by their text up to this length (hashable, bounded in cost).
_GENERIC_KEY_CAP = 1_000

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


def profile_objects(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], label: str
) -> ColumnProfile:
    """An object column: profiled as the one type it holds, else as nested, other or mixed."""
    sub, sub_mask = sampled_rows(series, mask, sample)
    values = sub[~sub_mask].tolist()
    groups = Counter()  # type: Counter[str]
    for kind, count in Counter(map(type, values)).items():
        groups[_type_group(kind)] += count
    names = set(groups)
    if names == {"str"}:
        return profile_text(series, mask, sample, base, label)
    if names == {"bool"}:
        return profile_object_booleans(values, base, sample)
    if names <= {"int", "float"}:
        return profile_python_numbers(values, names == {"int"}, sample, base)
    if names <= {"datetime"}:
        converted = pd.to_datetime(series, errors="raise")
        return profile_datetime(converted, null_mask(converted), sample, base)
    if names <= {"list", "dict"}:
        return profile_generic(series, mask, sample, base, kind=_NESTED)
    if len(groups) == 1:
        only = next(iter(groups))
        return profile_generic(series, mask, sample, base, kind=f"other ({escape_text(only, 30)})")
    total = sum(groups.values())
    mix = ", ".join(
        f"{group} {format_percent(count, total)}"
        for group, count in sorted(groups.items(), key=lambda item: (-item[1], item[0]))
    )
    profile = profile_generic(series, mask, sample, base, kind="mixed")
    return dataclasses.replace(profile, mixed=mix + (" (sample)" if sample.sampled else ""))


def profile_generic(
    series: pd.Series, mask: np.ndarray, sample: RowSample, base: dict[str, Any], kind: str = ""
) -> ColumnProfile:
    """Anything else: distinct count and examples over the rendered text of the values."""
    sub, sub_mask = sampled_rows(series, mask, sample)
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
        kind=kind or f"other ({escape_text(dtype_name(series), 30)})",
        distinct=distinct,
        distinct_approx=approx,
        unique=not approx and distinct == non_null,
        constant=not approx and distinct == 1,
        constant_value=examples[0] if distinct == 1 and examples else "",
        stats=stats,
        examples=examples,
        **base,
    )
