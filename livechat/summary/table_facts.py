"""What the summary knows about one table before any text is laid out.

:func:`profile_table` profiles the first columns (:mod:`livechat.summary.facts`), labels
every column and counts its missing values, once. The section renderers
(:mod:`livechat.summary.sections`, :mod:`livechat.summary.table_notes`) and the budget
fitting (:mod:`livechat.summary.fitting`) only read the result, so a summary of several
tables can compute it per table and lay the sections out its own way.

Pure; any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from livechat.data.loaders.numbers import ColumnConversion
from livechat.summary.facts import ColumnProfile, RowSample, column_label, profile_column, row_sample

__all__ = ["DETAIL_MAX_COLUMNS", "TableFacts", "profile_table"]

# Columns that get a full profile at most (wider tables: compact list for the rest).
DETAIL_MAX_COLUMNS = 200


@dataclass(frozen=True)
class TableFacts:
    """One table's shape, row sample, column profiles, labels, dtypes and null counts.

    ``profiles`` covers the first ``n_profiled`` columns; ``labels``, ``dtypes`` and
    ``nulls`` cover every column. Labels are escaped display text.
    """

    df: pd.DataFrame
    rows: int
    cols: int
    sample: RowSample
    profiles: list[ColumnProfile]
    labels: list[str]
    dtypes: list[Any]
    nulls: list[int]
    # Columns the loader read from text ("1.234,56" as 1234.56), by position.
    conversions: dict[int, ColumnConversion] = field(default_factory=dict)
    # Rows the loader kept out of the table (a removed total row), as the loader wrote them.
    source_notes: tuple[str, ...] = ()

    @property
    def n_profiled(self) -> int:
        return len(self.profiles)


def profile_table(
    df: pd.DataFrame,
    *,
    max_profiled: int,
    conversions: Sequence[ColumnConversion] = (),
    source_notes: Sequence[str] = (),
) -> TableFacts:
    """Profile the first ``max_profiled`` columns of ``df`` (at least one) and label them all.

    ``conversions`` (``LoadedTable.conversions``) name the columns read from text;
    ``source_notes`` the rows the loader kept out of the table.

    Never raises for odd data (see :func:`~livechat.summary.facts.profile_column`).
    """
    rows, cols = (int(x) for x in df.shape)
    sample = row_sample(rows)
    n_profiled = min(cols, max(1, max_profiled))
    profiles = [
        profile_column(df.iloc[:, i], i, sample, df.columns[i]) for i in range(n_profiled)
    ]
    labels = [p.label for p in profiles] + [
        column_label(df.columns[i]) for i in range(n_profiled, cols)
    ]
    nulls = [p.nulls for p in profiles] + _null_counts(df, n_profiled)
    return TableFacts(
        df, rows, cols, sample, profiles, labels, list(df.dtypes), nulls,
        _by_position(df, conversions), tuple(source_notes),
    )


def _by_position(
    df: pd.DataFrame, conversions: Sequence[ColumnConversion]
) -> dict[int, ColumnConversion]:
    """Conversions keyed by column position (names are unique after loading)."""
    positions = {str(name): i for i, name in enumerate(df.columns)}
    return {positions[c.column]: c for c in conversions if c.column in positions}


def _null_counts(df: pd.DataFrame, start: int) -> list[int]:
    """Missing values per column from ``start`` on (the columns that were not profiled)."""
    if df.shape[1] <= start:
        return []
    rest = df.iloc[:, start:]
    try:
        return [int(n) for n in rest.isna().sum().to_numpy()]
    except Exception:  # noqa: BLE001 - odd objects: fall back column by column
        return [_null_count(rest.iloc[:, i]) for i in range(rest.shape[1])]


def _null_count(series: pd.Series) -> int:
    try:
        return int(series.isna().sum())
    except Exception:  # noqa: BLE001 - count unknown: report none rather than fail
        return 0
