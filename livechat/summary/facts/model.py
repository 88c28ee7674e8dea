"""The facts' data model: the row sample and the profile of one column.

``RowSample`` fixes which rows the estimated statistics come from (a seeded draw, so the
same table always gives the same text); ``ColumnProfile`` is everything the summary may
say about one column, already escaped. Immutable values; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "SAMPLE_ROWS",
    "SAMPLE_SEED",
    "TOP_VALUES",
    "EXAMPLES",
    "EXAMPLE_CAP",
    "RowSample",
    "TopValue",
    "ColumnProfile",
    "row_sample",
]

SAMPLE_ROWS = 100_000
SAMPLE_SEED = 20_240_611
TOP_VALUES = 10
EXAMPLES = 3
EXAMPLE_CAP = 40


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
