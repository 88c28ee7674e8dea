"""Likely join keys between the tables of a set, for the summary the model reads.

A pair of columns in two tables is a likely key when

* they have the same name (case-insensitive) and at least half of the distinct values of
  one are found in the other, or
* the values of one are all found in a column that is unique in the other table (a key
  of that table), and the names agree that it is a reference (``order_ref`` → ``order_id``,
  ``cust_id`` → ``customers.id``, ``customer`` → ``customers.customer_id``): small integer
  or code columns are subsets of any id range by chance, so values alone are not enough.

Only integer and text columns take part (dates and decimals are rarely keys). Exact on
tables of at most ``EXACT_MAX_ROWS`` rows; a bigger table contributes its values from a
fixed sample of ``KEY_SAMPLE_ROWS`` rows (``livechat.summary.facts.row_sample``), and a key
found that way is marked approximate (``~``): the values of a sampled column and whether
a sampled column is unique come from its sample; the share of values found in a sampled
column is counted over all of its rows (hashing only the other side's values). Deterministic; a pure function of the frames; any thread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandas.api.types as ptypes

from livechat.summary.escape import quote_name
from livechat.summary.facts import column_label, row_sample

__all__ = [
    "EXACT_MAX_ROWS",
    "KEY_SAMPLE_ROWS",
    "JoinKey",
    "find_join_keys",
]

EXACT_MAX_ROWS = 100_000
KEY_SAMPLE_ROWS = 20_000
MAX_KEY_COLUMNS = 60  # per table: the first columns only (wide tables)
MAX_KEYS = 20
SAME_NAME_MIN_SHARE = 0.5
_ID_WORDS = frozenset({"id", "key", "code", "ref", "no", "nr", "num", "number", "uuid", "sku"})


@dataclass(frozen=True)
class JoinKey:
    """``left_table.left_column`` refers to (or shares values with) ``right_table.right_column``."""

    left_table: str
    left_column: str  # escaped label, as the summary shows it
    right_table: str
    right_column: str
    same_name: bool
    found_share: float  # share of the left column's distinct values found on the right
    right_unique: bool  # the right column is unique in its table (one row per value)
    approx: bool  # from a sample of the left table

    def text(self) -> str:
        """One summary line (without the leading "- ")."""
        mark = "~" if self.approx else ""
        share = "all" if self.found_share >= 1.0 else f"{self.found_share:.0%}"
        parts = ["same name"] if self.same_name else []
        parts.append(f"{mark}{share} of its values found there")
        if self.right_unique:
            parts.append(f"unique in {self.right_table}")
        return (f"{self.left_table}.{quote_name(self.left_column)} → "
                f"{self.right_table}.{quote_name(self.right_column)}: " + "; ".join(parts))


@dataclass
class _Column:
    table: int
    position: int
    label: str
    kind: str  # "int" or "text"
    series: pd.Series = field(repr=False)
    seen: np.ndarray = field(repr=False)  # distinct non-null values (of the sample if sampled)
    sampled: bool
    unique: bool  # unique and never empty, in what was seen (the sample if sampled)

    def share_found(self, values: np.ndarray) -> float:
        """Share of ``values`` (distinct) that occur in this column, over all of its rows.

        A sampled column is scanned whole here, hashing only ``values`` (small) rather
        than the column, so the share is never understated by sampling this side.
        """
        if not len(values):
            return 0.0
        if not self.sampled:
            return float(np.count_nonzero(pd.Index(values).isin(self.seen))) / len(values)
        hits = self.series[self.series.isin(values)]
        return len(hits.unique()) / len(values)


def find_join_keys(tables: Sequence[tuple[str, pd.DataFrame]], *,
                   exact_max_rows: int = EXACT_MAX_ROWS,
                   sample_rows: int = KEY_SAMPLE_ROWS) -> list[JoinKey]:
    """The likely join keys between ``(sql_name, frame)`` tables, in table and column order."""
    columns = [_candidates(i, df, exact_max_rows, sample_rows) for i, (_, df) in enumerate(tables)]
    names = [name for name, _ in tables]
    keys: list[JoinKey] = []
    reported: set[tuple[int, int, int, int]] = set()
    for a_cols in columns:
        for a in a_cols:
            for b_cols in columns:
                for b in b_cols:
                    if b.table == a.table or b.kind != a.kind:
                        continue
                    if (b.table, b.position, a.table, a.position) in reported:
                        continue  # the same pair, seen from the other side
                    key = _key(a, b, names)
                    if key is None:
                        continue
                    reported.add((a.table, a.position, b.table, b.position))
                    keys.append(key)
                    if len(keys) >= MAX_KEYS:
                        return keys
    return keys


def _key(a: _Column, b: _Column, names: list[str]) -> JoinKey | None:
    same = a.label.casefold() == b.label.casefold()
    if not same and not (b.unique and len(a.seen) >= 2
                         and _refers_to(a.label, b.label, names[b.table])):
        return None
    if same and not b.unique and a.unique:
        return None  # reported from the unique side's point of view (many → one)
    share = b.share_found(a.seen)
    if share < (SAME_NAME_MIN_SHARE if same else 1.0):
        return None
    return JoinKey(names[a.table], a.label, names[b.table], b.label, same, share,
                   b.unique, a.sampled or b.sampled)


def _words(label: str) -> set[str]:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", label).lower()
    return {w for w in re.split(r"[^a-z0-9]+", text) if w}


def _refers_to(left: str, right: str, right_table: str) -> bool:
    """Whether the left column's name reads as a reference to the right column/table."""
    left_words, right_words = _words(left), _words(right)
    table = right_table.lower()
    stems = {table, table.rstrip("s"), table[:-3] + "y" if table.endswith("ies") else table}
    if left_words & stems:
        return True
    shared = (left_words & right_words) - _ID_WORDS
    if shared:
        return True
    # "cust_id" → "customer_id": same id word and a common prefix of a shortened word
    if left_words & right_words & _ID_WORDS:
        for lw in left_words - _ID_WORDS:
            if any(len(lw) >= 3 and (rw.startswith(lw) or lw.startswith(rw))
                   for rw in (right_words | stems) - _ID_WORDS):
                return True
    return False


def _candidates(index: int, df: pd.DataFrame, exact_max_rows: int, sample_rows: int) -> list[_Column]:
    rows = len(df)
    sampled = rows > exact_max_rows
    positions = row_sample(rows, sample_rows).positions if sampled else None
    kinds = [(position, _kind(df.iloc[:, position])) for position in range(min(df.shape[1], MAX_KEY_COLUMNS))]
    kinds = [(position, kind) for position, kind in kinds if kind is not None]
    # One take of the sampled rows for all candidate columns, not one per column.
    sample = df.iloc[positions, [p for p, _ in kinds]] if positions is not None else None
    found: list[_Column] = []
    for column, (position, kind) in enumerate(kinds):
        series = df.iloc[:, position]
        part = sample.iloc[:, column] if sample is not None else series
        seen, unique = _distinct(part, kind)
        if len(seen) == 0:
            continue
        found.append(_Column(index, position, column_label(df.columns[position]), kind,
                             series, seen, sampled, unique))
    return found


def _kind(series: pd.Series) -> str | None:
    dtype = series.dtype
    try:
        if ptypes.is_bool_dtype(dtype):
            return None
        if ptypes.is_integer_dtype(dtype):
            return "int"
        if isinstance(dtype, pd.CategoricalDtype):
            return "text" if ptypes.is_string_dtype(dtype.categories.dtype) else None
        if ptypes.is_string_dtype(dtype) and dtype != object:
            return "text"
        if dtype == object:
            head = series.head(1000).dropna()
            if len(head) and all(isinstance(v, str) for v in head):
                return "text"
    except (TypeError, ValueError):
        return None
    return None


def _distinct(part: pd.Series, kind: str) -> tuple[np.ndarray, bool]:
    present = part.dropna()
    if kind == "int":
        distinct = pd.unique(present.to_numpy(dtype=np.int64))
    else:
        # unique() on the column's own storage (Arrow strings, categories) is far cheaper
        # than hashing Python objects; only the distinct values become text objects.
        distinct = pd.Series(present.unique()).astype("str").to_numpy(dtype=object)
    unique = len(distinct) == len(present) == len(part) and len(present) > 0
    return distinct, unique
