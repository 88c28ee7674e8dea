"""Distinct values and value counts of big columns: exact when cheap, bounded memory.

pandas' ``nunique``/``value_counts``/``is_unique`` on a million rows size a hash table for
a million entries (tens of MB) even when the column holds five values. The summary must
add less memory than half the frame, so counting here works on numpy arrays in chunks of
:data:`CHUNK` values:

* integers whose range is small (at most :data:`SMALL_RANGE` values): ``bincount`` of
  ``value - min``; exact counts;
* any column whose sample shows few distinct values (at most :data:`LOW_CARDINALITY`):
  look every value up in the sample's sorted distinct values (``searchsorted``); values the
  sample missed are collected and counted too, so the counts are exact;
* integers whose range is at most four times the row count: a bitmap; exact distinct
  count (not the counts);
* otherwise the Haas-Stokes "Duj1" estimate from the sample (what PostgreSQL's ANALYZE
  uses), flagged approximate.

Pure functions; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CHUNK",
    "SMALL_RANGE",
    "LOW_CARDINALITY",
    "ValueCounts",
    "count_values",
    "category_counts",
    "duj1",
]

CHUNK = 1 << 18
SMALL_RANGE = 1 << 16
LOW_CARDINALITY = 1_000
_BITMAP_ROWS_FACTOR = 4
_BITMAP_MAX = 1 << 27


@dataclass(frozen=True)
class ValueCounts:
    """Distinct count of a column, and its sorted distinct values with counts when known."""

    distinct: int
    approx: bool
    keys: np.ndarray | None = None
    counts: np.ndarray | None = None


def duj1(sample_size: int, sample_distinct: int, singletons: int, total: int) -> int:
    """Haas-Stokes Duj1 estimate of the distinct values among ``total`` values.

    ``singletons`` is the number of values seen exactly once in the sample. An all-distinct
    sample estimates ``total``; a sample without singletons estimates what it saw.
    """
    if sample_size <= 0:
        return 0
    if sample_size >= total:
        return sample_distinct
    denominator = sample_size - singletons + singletons * sample_size / total
    estimate = total if denominator <= 0 else sample_size * sample_distinct / denominator
    return int(round(min(max(estimate, sample_distinct), total)))


def _offsets(chunk: np.ndarray, low: int) -> np.ndarray:
    # Widen before subtracting: int8 - (-128) overflows int8; uint64 can't go through int64.
    if chunk.dtype.kind == "u":
        return (chunk.astype(np.uint64) - np.uint64(low)).astype(np.intp)
    return (chunk.astype(np.int64) - np.int64(low)).astype(np.intp)


def _range_counts(values: np.ndarray, low: int, size: int) -> np.ndarray:
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, values.size, CHUNK):
        counts += np.bincount(_offsets(values[start : start + CHUNK], low), minlength=size)
    return counts


def _range_distinct(values: np.ndarray, low: int, size: int) -> int:
    seen = np.zeros(size, dtype=bool)
    for start in range(0, values.size, CHUNK):
        seen[_offsets(values[start : start + CHUNK], low)] = True
    return int(np.count_nonzero(seen))


def _dictionary_counts(values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact counts of ``values`` given the sorted distinct values of a sample of them."""
    counts = np.zeros(keys.size, dtype=np.int64)
    missed: list[np.ndarray] = []
    last = keys.size - 1
    for start in range(0, values.size, CHUNK):
        chunk = values[start : start + CHUNK]
        index = np.minimum(np.searchsorted(keys, chunk), last)
        hit = keys[index] == chunk
        counts += np.bincount(index[hit], minlength=keys.size)
        if not hit.all():
            missed.append(chunk[~hit])
    if not missed:
        return keys, counts
    extra_keys, extra_counts = np.unique(np.concatenate(missed), return_counts=True)
    all_keys = np.concatenate([keys, extra_keys])
    order = np.argsort(all_keys, kind="stable")
    return all_keys[order], np.concatenate([counts, extra_counts])[order]


def count_values(
    values: np.ndarray, sample: np.ndarray | None, *, integer_range: tuple[int, int] | None = None
) -> ValueCounts:
    """Count the distinct values of ``values`` (1-D, no nulls, no NaN).

    ``sample`` holds a sample of ``values`` (``None``: ``values`` is small enough to count
    directly). ``integer_range`` is ``(min, max)`` for integer columns, enabling the exact
    range-based counts.
    """
    if values.size == 0:
        return ValueCounts(0, False, values[:0], np.zeros(0, dtype=np.int64))
    if integer_range is not None:
        low, high = integer_range
        size = high - low + 1
        if size <= SMALL_RANGE:
            counts = _range_counts(values, low, size)
            present = np.flatnonzero(counts)
            keys = present.astype(values.dtype) + values.dtype.type(low)
            return ValueCounts(int(present.size), False, keys, counts[present])
    if sample is None:
        keys, counts = np.unique(values, return_counts=True)
        return ValueCounts(int(keys.size), False, keys, counts)
    sample_keys, sample_counts = np.unique(sample, return_counts=True)
    if sample_keys.size <= LOW_CARDINALITY:
        keys, counts = _dictionary_counts(values, sample_keys)
        return ValueCounts(int(keys.size), False, keys, counts)
    if integer_range is not None:
        size = integer_range[1] - integer_range[0] + 1
        if size <= min(_BITMAP_ROWS_FACTOR * values.size, _BITMAP_MAX):
            return ValueCounts(_range_distinct(values, integer_range[0], size), False)
    singletons = int(np.count_nonzero(sample_counts == 1))
    return ValueCounts(duj1(sample.size, int(sample_keys.size), singletons, values.size), True)


def category_counts(codes: np.ndarray, categories: int) -> np.ndarray:
    """Exact count per category from pandas categorical codes (-1 = missing)."""
    counts = np.zeros(categories, dtype=np.int64)
    for start in range(0, codes.size, CHUNK):
        chunk = codes[start : start + CHUNK]
        counts += np.bincount(chunk[chunk >= 0], minlength=categories)
    return counts
