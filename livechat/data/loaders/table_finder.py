"""Find the table inside a report-shaped sheet: titles, notes, totals, two-row headers.

Spreadsheets arrive the way finance sends them: a title (often merged across the
table), a "Prepared by" line, a blank row, the header, the data, a **Total** row and a
footnote. This module looks at raw cell values (Python objects from a workbook, or the
text fields of a CSV line) and decides where the table is. It never reads a file.

Bounded work: the header is searched in the first `HEAD_ROWS` rows and trailing notes
and totals in the last `TAIL_ROWS` rows of the table, whatever the file's size. The
readers stream the rows in between and only ask `classify_after_gap` about the first
row after a run of empty rows.

Deterministic, and never silent: every decision is returned as an analyst-readable
adjustment the Data page lists ("row 31 'Total' removed: it equals the column sums").
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

HEAD_ROWS = 50
TAIL_ROWS = 20
# Rows after a candidate header looked at to see whether they are as wide as it.
_FOLLOWING = 5
# A label reads like a total in any of the languages analysts send us. Anchored at the
# start: "Total revenue" as a *category* is rare in a label column's last row, and the
# sums check below tells the analyst whether the removed row really was a total.
TOTAL_LABEL = re.compile(
    r"^\s*(grand\s+total|sub-?\s*total|totals?|sum|gesamt(summe)?|summe|zwischensumme|"
    r"total\s+g[ée]n[ée]ral|totale|итого|всего|合計|合计|总计|總計|小計|小计)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^\s*[-+(]?\s*[$€£¥]?\s*\d[\d,. ]*%?\)?\s*$")
_DATE_TEXT = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?\s*$")

Merge = tuple[tuple[int, int], tuple[int, int]]  # ((first_row, first_col), (last_row, last_col)), 0-based


# ---------------------------------------------------------------- cell kinds


def is_empty(value: Any) -> bool:
    """An empty cell: None, NaN, or blank text (calamine reports empty cells as '')."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def is_text(value: Any) -> bool:
    """Text that is neither a number nor a date written as text."""
    return (
        isinstance(value, str)
        and bool(value.strip())
        and not _NUMBER.match(value)
        and not _DATE_TEXT.match(value)
    )


def as_number(value: Any) -> float | None:
    """A cell's numeric value (numbers, or text that is a plain number), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _is_typed(value: Any) -> bool:
    """A number, boolean or date: what data rows hold and header rows do not."""
    if isinstance(value, (bool, int, float, dt.date, dt.time, dt.timedelta)):
        return not is_empty(value)
    return isinstance(value, str) and bool(_NUMBER.match(value) or _DATE_TEXT.match(value))


def column_letter(index: int) -> str:
    """0 -> 'A', 27 -> 'AB' (spreadsheet column names)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ---------------------------------------------------------------- what was found


@dataclass(frozen=True)
class TableLayout:
    """Where the table was found, in 1-based sheet (or file line) coordinates.

    `header_row` is the row the column names were read from (the lower one of a
    two-row header); `adjustments` lists, in order, everything that was skipped,
    removed, combined or filled, in words for the analyst.
    """

    header_row: int
    header_rows: int
    first_row: int
    last_row: int
    first_col: int
    last_col: int
    rows_above: int
    rows_below: int
    adjustments: tuple[str, ...] = ()
    totals: tuple[str, ...] = ()

    @property
    def cell_range(self) -> str:
        """'A4:D34' for a table whose header starts at A4 and data ends at D34."""
        return (
            f"{column_letter(self.first_col - 1)}{self.first_row}:"
            f"{column_letter(self.last_col - 1)}{self.last_row}"
        )

    def describe(self, sheet: str | None) -> str:
        """"table at A4:D34 of sheet 'Q1'; 3 rows above it and 2 below skipped"."""
        where = f"table at {self.cell_range}"
        if sheet is not None:
            where += f" of sheet '{sheet}'"
        skipped = []
        if self.rows_above:
            skipped.append(f"{self.rows_above} row{'s' if self.rows_above != 1 else ''} above it")
        if self.rows_below:
            skipped.append(f"{self.rows_below} below" if self.rows_above else
                           f"{self.rows_below} row{'s' if self.rows_below != 1 else ''} below it")
        if skipped:
            where += "; " + " and ".join(skipped) + " skipped"
        return where


@dataclass(frozen=True)
class HeaderGuess:
    """The header found in the first rows of a sheet (0-based positions)."""

    row: int  # the row the names come from (0-based)
    band: int | None  # the merged row above it combined into the names, if any
    first_col: int
    last_col: int  # last column with a name or (in the first data rows) a value
    names: list[Any]  # one per column first_col..last_col (raw values, or combined text)
    rows_above: int  # non-empty rows above the header (titles, notes)
    adjustments: list[str] = field(default_factory=list)


class _Grid:
    """The first rows of a sheet with merged ranges applied, for the header search."""

    def __init__(self, rows: Sequence[Sequence[Any]], merges: Sequence[Merge]) -> None:
        self.rows = [list(r) for r in rows]
        width = max((len(r) for r in self.rows), default=0)
        # cell inside a merge (not its top-left) -> the merge's top-left cell
        self.covered: dict[tuple[int, int], tuple[int, int]] = {}
        self.h_merges: dict[int, list[tuple[int, int]]] = {}  # row -> horizontal spans
        for (r0, c0), (r1, c1) in merges:
            if r0 >= len(self.rows) or c0 >= width:
                continue
            for r in range(r0, min(r1, len(self.rows) - 1) + 1):
                for c in range(c0, min(c1, width - 1) + 1):
                    if (r, c) != (r0, c0):
                        self.covered[(r, c)] = (r0, c0)
            if c1 > c0:
                self.h_merges.setdefault(r0, []).append((c0, c1))

    def cells(self, r: int) -> list[tuple[int, Any]]:
        """(column, value) of the non-empty cells of row r that start a cell or merge."""
        return [
            (c, v) for c, v in enumerate(self.rows[r]) if not is_empty(v) and (r, c) not in self.covered
        ]

    def value(self, r: int, c: int) -> Any:
        """The cell's value, or the value of the merge covering it."""
        origin = self.covered.get((r, c))
        if origin is not None:
            r0, c0 = origin
            return self.rows[r0][c0] if c0 < len(self.rows[r0]) else None
        row = self.rows[r]
        return row[c] if c < len(row) else None

    def span(self, r: int) -> tuple[int, int] | None:
        cols = [c for c, v in enumerate(self.rows[r]) if not is_empty(self.value(r, c))]
        return (cols[0], cols[-1]) if cols else None


def find_header(
    rows: Sequence[Sequence[Any]],
    *,
    merges: Sequence[Merge] = (),
    override: int | None = None,
    col_offset: int = 0,
) -> HeaderGuess | None:
    """Locate the header row among the first rows of a sheet (None: no non-empty row).

    The header is the first row whose cells are mostly text, at least half as many as
    the widest row, and whose following rows are no wider than it (a title or a
    "Prepared by" line is narrower than the table under it). Merged cells count once.
    With no such row the first non-empty row is the header, as for a plain table.
    `override` (0-based) forces the header row. `col_offset` is the sheet column of
    the rows' first cell (for naming columns in adjustments).
    """
    grid = _Grid(rows, merges)
    counts = [len(grid.cells(r)) for r in range(len(grid.rows))]
    non_empty = [r for r, n in enumerate(counts) if n]
    if not non_empty:
        return None
    adjustments: list[str] = []
    if override is not None:
        if override >= len(grid.rows) or not counts[override]:
            return None
        header = override
        adjustments.append(f"header row set to row {override + 1} by hand")
    else:
        header = _guess_header_row(grid, counts, non_empty)
    band = _band_above(grid, header)
    if band is None and override is None and _is_band(grid, header, counts):
        band, header = header, header + 1
    return _guess(grid, header, band, non_empty, adjustments, col_offset)


def _guess_header_row(grid: _Grid, counts: list[int], non_empty: list[int]) -> int:
    widest = max(counts)
    need = max(2 if widest >= 2 else 1, math.ceil(widest / 2))
    widest_above = 0
    for r in non_empty:
        cells = grid.cells(r)
        above, widest_above = widest_above, max(widest_above, len(cells))
        if len(cells) < need:
            continue
        if above >= len(cells):
            # Rows above a header are titles and notes, narrower than it. A row as wide
            # above this one means the table started there (e.g. a numeric header).
            break
        texts = sum(1 for _, v in cells if is_text(v))
        if texts * 2 < len(cells):
            continue
        following = [n for n in (counts[k] for k in range(r + 1, min(len(counts), r + 3 + _FOLLOWING))) if n]
        if not following:
            continue
        span = grid.span(r)
        full = span[1] - span[0] + 1 if span else len(cells)
        ordered = sorted(following[:_FOLLOWING])
        if ordered[len(ordered) // 2] > 1.25 * full + 1:
            continue  # the rows below are wider: this is a title or note line
        return r
    return non_empty[0]


def _is_band(grid: _Grid, r: int, counts: list[int]) -> bool:
    """Row r is the upper row of a two-row header: merged group names over a row that
    is header-like and has more cells."""
    if r + 1 >= len(grid.rows) or _band_above(grid, r + 1) != r:
        return False
    nxt = grid.cells(r + 1)
    texts = sum(1 for _, v in nxt if is_text(v))
    return texts * 2 >= len(nxt) and counts[r + 1] > counts[r]


def _band_above(grid: _Grid, header: int) -> int | None:
    """The row right above the header, when it holds merged group names over it."""
    r = header - 1
    if r < 0 or r not in grid.h_merges:
        return None
    span = grid.span(header)
    spans = grid.h_merges[r]
    if span is None:
        return None
    width = span[1] - span[0] + 1
    if len(spans) == 1 and spans[0][1] - spans[0][0] + 1 >= width:
        return None  # one merge across the whole table: a title, not a band
    if len(grid.cells(r)) < 2 and spans[0][0] <= span[0]:
        return None  # one merged cell from the table's left edge: a title line
    return r


def _guess(
    grid: _Grid,
    header: int,
    band: int | None,
    non_empty: list[int],
    adjustments: list[str],
    col_offset: int,
) -> HeaderGuess:
    top = band if band is not None else header
    spans = [s for s in (grid.span(r) for r in range(header, min(len(grid.rows), header + 1 + _FOLLOWING * 4))) if s]
    if band is not None and grid.span(band):
        spans.append(grid.span(band))  # type: ignore[arg-type]
    first_col = min(s[0] for s in spans)
    last_col = max(s[1] for s in spans)
    if band is None:
        names = [grid.value(header, c) for c in range(first_col, last_col + 1)]
    else:
        names = []
        for c in range(first_col, last_col + 1):
            parts = [_name_part(grid.value(band, c)), _name_part(grid.value(header, c))]
            parts = [p for i, p in enumerate(parts) if p and (i == 0 or p != parts[0])]
            names.append(" ".join(parts) if parts else None)
        adjustments.append(
            f"two header rows ({band + 1} and {header + 1}) combined into one name per "
            f"column, e.g. '{next((n for n in names if n and ' ' in n), names[0])}'"
        )
    filled = [
        c for c in range(first_col, last_col + 1) if (header, c) in grid.covered and band is None
    ]
    if filled:
        adjustments.append(f"merged header cells filled in {len(filled)} column(s)")
    rows_above = top  # every row above the table, titles and blank ones alike
    if first_col + col_offset > 0:
        at = first_col + col_offset
        adjustments.append(
            f"table starts in column {column_letter(at)}; "
            f"{at} empty column{'s' if at != 1 else ''} to its left ignored"
        )
    return HeaderGuess(header, band, first_col, last_col, names, rows_above, adjustments)


def _name_part(value: Any) -> str:
    if is_empty(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


# ---------------------------------------------------------------- after the header


def column_kinds(rows: Sequence[Sequence[Any]]) -> list[bool]:
    """Per column: True when the sampled data rows hold typed values (numbers, dates)."""
    if not rows:
        return []
    width = max(len(r) for r in rows)
    typed = [0] * width
    for row in rows:
        for c, v in enumerate(row):
            if _is_typed(v):
                typed[c] += 1
    return [n > 0 for n in typed]


_NOTE_START = re.compile(r"^\s*([*†‡¹²³(\[]|(note|notes|source|sources|quelle|hinweis|anmerkung)\b)", re.I)


def is_note_row(row: Sequence[Any], width: int, *, strict: bool = False) -> bool:
    """One text cell in a table of several columns: a footnote, not a record.

    `strict` (for the last rows of a table, with no empty row before them) also wants
    the text to read like a note: a colon, a footnote mark or "Source"/"Note" at the
    start, or a sentence of 20 characters or more, so a last record with only its
    label filled in stays data."""
    cells = [v for v in row if not is_empty(v)]
    if not (width >= 2 and len(cells) == 1 and is_text(cells[0])):
        return False
    if not strict:
        return True
    text = str(cells[0]).strip()
    return ":" in text or bool(_NOTE_START.match(text)) or (len(text) >= 20 and " " in text)


def classify_after_gap(row: Sequence[Any], typed_columns: Sequence[bool]) -> str:
    """What the first row after empty rows starts: 'note', 'table' (another table's
    header: text where this table's data is numbers or dates) or 'data'."""
    width = len(typed_columns)
    if is_note_row(row, width):
        return "note"
    cells = [(c, v) for c, v in enumerate(row) if not is_empty(v)]
    if len(cells) >= 2 and sum(1 for _, v in cells if is_text(v)) * 2 >= len(cells):
        if any(c < width and typed_columns[c] and is_text(v) for c, v in cells):
            return "table"
    return "data"


def preview(row: Sequence[Any], limit: int = 3) -> str:
    """"'Region', 'Units', …" for naming a row in a note."""
    cells = [_name_part(v) for v in row if not is_empty(v)]
    shown = ", ".join(f"'{_clip(c)}'" for c in cells[:limit])
    return shown + (", …" if len(cells) > limit else "")


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class TailSplit:
    """The last rows of a table split into data, totals and notes."""

    keep: int  # how many of the given rows stay data
    notes: list[tuple[int, str]]  # (1-based row, text) of footnotes removed
    totals: list[tuple[int, str, list[float | None]]]  # (row, label, numbers per column)


def split_tail(rows: Sequence[Sequence[Any]], row_numbers: Sequence[int]) -> TailSplit:
    """Peel footnotes, then total rows, off the end of a table's last rows.

    `rows` are the last (at most TAIL_ROWS) data rows, cut to the table's columns;
    `row_numbers` their 1-based rows in the sheet. At least one data row always stays.
    """
    width = max((len(r) for r in rows), default=0)
    keep = len(rows)
    notes: list[tuple[int, str]] = []
    while keep > 1 and is_note_row(rows[keep - 1], width, strict=True):
        text = next(_name_part(v) for v in rows[keep - 1] if not is_empty(v))
        notes.append((row_numbers[keep - 1], text))
        keep -= 1
    totals: list[tuple[int, str, list[float | None]]] = []
    while keep > 1 and len(totals) < 3:
        row = rows[keep - 1]
        label = next((v for v in row if is_text(v)), None)
        if label is None or not TOTAL_LABEL.match(str(label)):
            break
        totals.append((row_numbers[keep - 1], _name_part(label), [as_number(v) for v in row]))
        keep -= 1
    notes.reverse()
    totals.reverse()
    return TailSplit(keep, notes, totals)


def total_notes(df: pd.DataFrame, totals: Sequence[tuple[int, str, list[float | None]]]) -> list[str]:
    """One note per removed total row, saying whether its numbers equal the column sums."""
    notes = []
    for row_number, label, numbers in totals:
        verdict = _sums_verdict(df, numbers)
        notes.append(f"row {row_number} '{_clip(label)}' removed{verdict}")
    return notes


def drop_sum_row(df: pd.DataFrame, row_number: int) -> tuple[pd.DataFrame, list[str]]:
    """Drop a last row with no label whose numbers all equal the sums of the rows above."""
    if len(df) < 3:
        return df, []
    last = df.iloc[-1]
    numeric = [c for c in range(df.shape[1]) if pd.api.types.is_numeric_dtype(df.dtypes.iloc[c])
               and not pd.api.types.is_bool_dtype(df.dtypes.iloc[c])]
    others = [c for c in range(df.shape[1]) if c not in numeric]
    # A label column must exist and be blank in this row only: in a table of numbers
    # alone, 1, 2, 3 would otherwise read as two rows and their total.
    if not numeric or not others or any(not _missing(last.iloc[c]) for c in others):
        return df, []
    if not any(df.iloc[:-1, c].notna().all() for c in others):
        return df, []
    values = [c for c in numeric if not _missing(last.iloc[c])]
    if not values:
        return df, []
    above = df.iloc[:-1]
    for c in values:
        total = float(above.iloc[:, c].sum())
        if not math.isclose(float(last.iloc[c]), total, rel_tol=1e-9, abs_tol=1e-6):
            return df, []
    note = f"row {row_number} (no label) removed: its numbers equal the column sums"
    return df.iloc[:-1], [note]


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _sums_verdict(df: pd.DataFrame, numbers: list[float | None]) -> str:
    checked = 0
    for c, number in enumerate(numbers):
        if number is None or c >= df.shape[1]:
            continue
        column = df.iloc[:, c]
        if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            column = pd.to_numeric(column, errors="coerce")
        total = float(column.sum())
        if not math.isclose(number, total, rel_tol=1e-9, abs_tol=1e-6):
            return ": its numbers differ from the column sums (kept out all the same)"
        checked += 1
    return ": it equals the column sums" if checked else ""


def spacer_columns(names: Sequence[Any], empty: Sequence[bool]) -> list[int]:
    """Positions of columns with no name and no value (spacer columns to drop)."""
    return [i for i, (n, e) in enumerate(zip(names, empty, strict=True)) if e and is_empty(n)]
