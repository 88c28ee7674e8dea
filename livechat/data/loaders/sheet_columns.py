"""Raw sheet rows into typed DataFrame columns, a chunk at a time.

The Excel reader streams rows out of calamine's grid; this module turns them into one
typed column each (float64, int64, bool, str, datetime64, or object when mixed) without
ever holding the whole sheet as Python objects, and fills labels merged down a column.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from livechat.data.loaders.table_finder import Merge

__all__ = ["MergeFills", "TypedColumns"]


class MergeFills:
    """Fills cells merged down a column (a label merged over several rows) with the
    merge's value, row by row as the sheet streams past. Merges that lie within one row
    are left as they are: their value belongs to the first cell only."""

    def __init__(self, merges: list[Merge], start_row: int, first: int, last: int) -> None:
        self.by_start: dict[int, list[tuple[int, int, int]]] = {}
        for (r0, c0), (r1, c1) in merges:
            if r1 > r0 and r1 >= start_row and c1 >= first and c0 <= last:
                self.by_start.setdefault(r0, []).append((c0, c1, r1))
        self.active: list[tuple[int, int, int, Any]] = []
        self.pending = sorted(r for r in self.by_start if r < start_row)

    def apply(self, r: int, row: list[Any]) -> None:
        if not self.by_start:
            return
        if self.pending:
            # Merges that start above the data (in the header) are not filled into it.
            self.pending = []
        if self.active:
            still = []
            for c0, c1, r1, value in self.active:
                for c in range(c0, min(c1 + 1, len(row))):
                    if row[c] == "" or row[c] is None:
                        row[c] = value
                if r < r1:
                    still.append((c0, c1, r1, value))
            self.active = still
        for c0, c1, r1 in self.by_start.get(r, ()):
            value = row[c0] if c0 < len(row) else ""
            for c in range(c0 + 1, min(c1 + 1, len(row))):
                row[c] = value
            self.active.append((c0, c1, r1, value))


class TypedColumns:
    """Typed columns built chunk by chunk from raw rows (calamine's '' is a gap)."""

    def __init__(self, width: int) -> None:
        self.parts: list[list[pd.Series]] = [[] for _ in range(width)]
        self.rows = 0

    def add(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        width = len(self.parts)
        for j, values in enumerate(zip(*rows, strict=True)):
            if j >= width:
                break
            self.parts[j].append(_typed(values))
        self.rows += len(rows)

    def frame(self) -> pd.DataFrame:
        columns = {}
        for j, parts in enumerate(self.parts):
            if not parts:
                col = pd.Series([], dtype="float64")
            elif len(parts) == 1:
                col = parts[0]
            else:
                col = pd.concat(parts, ignore_index=True)
            self.parts[j] = []  # each column's chunks go as soon as it is one array
            columns[j] = _integral(col)
        # copy=False keeps a block per column: the default would consolidate the columns
        # of each dtype into one 2-D block, a copy of most of the frame at its peak.
        return pd.DataFrame(columns, copy=False)


def _typed(values: tuple[Any, ...]) -> pd.Series:
    """One column's chunk as a typed Series; calamine's '' (an empty cell) becomes a gap.

    pd.Series infers the dtype in C (float64, int64, bool, str, datetime64, object);
    the Python-level passes run only for columns that need them."""
    part = pd.Series(values)
    if part.dtype == object:
        if "" in values:
            part = pd.Series([None if v == "" else v for v in values])
        if part.dtype == object and pd.api.types.infer_dtype(part, skipna=True).startswith("mixed"):
            # Mixed cells: a whole number shows as 7, not 7.0, as pandas' reader does.
            part = pd.Series([_whole(v) for v in part], dtype=object)
    elif pd.api.types.is_string_dtype(part.dtype):
        empty = part == ""
        if empty.any():
            part = part.mask(empty)
    return part


def _whole(value: Any) -> Any:
    return int(value) if type(value) is float and value.is_integer() else value


def _integral(col: pd.Series) -> pd.Series:
    """Whole-number floats become int64, as pandas' Excel reader does: workbooks store
    every number as a float, so an id column of 1, 2, 3 would otherwise read 1.0, 2.0."""
    if col.dtype != "float64" or col.empty or col.isna().any():
        return col
    values = col.to_numpy()
    if (values == values.round()).all() and abs(values).max() < 2**53:
        return col.astype("int64")
    return col
