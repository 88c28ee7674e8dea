"""Workbooks (.xlsx, .xlsm, .xls, .ods) into a DataFrame, one sheet at a time.

Read with python-calamine (the Rust calamine reader; pandas supports it as an engine):
~5× faster than openpyxl on a 200k-row sheet. Cached formula results are read, since
the formulas themselves mean nothing to the analyst's questions.

openpyxl is no longer used here. Where it once served, calamine now does:
- merged-cell ranges (two-row headers, labels merged down a column):
  `CalamineSheet.merged_cell_ranges`, for .xlsx/.xls (None for .ods: merged cells in
  an .ods are read as their top-left value only);
- password protection: an encrypted .xlsx is a Compound File with an EncryptionInfo
  stream (`magic.is_encrypted_ole2`, checked before calamine sees it), an encrypted .xls
  raises calamine's `PasswordError`.

Memory: calamine parses a whole sheet into its own cell grid (about 32 bytes a cell,
about 70 while parsing), and python-calamine 0.9 has no streaming API. An .xlsx sheet's
declared size (`xlsx_dimensions`) is checked against the limits before anything is
parsed. A sheet declaring more than `PIECES_OVER_CELLS` cells is then read in pieces of
rows (`xlsx_pieces`: its XML cut at row ends, each piece parsed by calamine on its own),
so one piece's grid exists at a time; smaller sheets, .xls and .ods are parsed whole,
and their grid's real size is checked before any Python object is made. Either way rows
become typed columns in chunks (`sheet_columns`), so Python never holds the whole sheet
as objects, and the frame is put together without a consolidating copy. The workbook is
closed before the rows are read (calamine keeps a copy of the file while it is open).
`bench/bench_load.py --excel` prints the peak: on its 127 MB workbook (1,048,575 × 32)
715 MB added for a 286 MB frame (2.5×) in 30 s, where the whole sheet took 2,811 MB
(9.8×) in 25 s.

The table is found with `table_finder` (titles, notes, totals, two-row headers): its
header in the first rows, footnotes and totals in the last rows, and the first row
after each run of empty rows, whatever the sheet's size.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import python_calamine as calamine

from livechat.data.loaders import magic, table_finder
from livechat.data.loaders.common import (
    DataLoadError,
    Limits,
    ReadResult,
    check_cells,
    check_columns,
    fmt_int,
)
from livechat.data.loaders.sheet_columns import MergeFills, TypedColumns
from livechat.data.loaders.table_finder import HEAD_ROWS, TAIL_ROWS, TableLayout
from livechat.data.loaders.xlsx_dimensions import DeclaredSheet, declared_sheets
from livechat.data.loaders.xlsx_pieces import ExtentChanged, NotChunkable, PieceSheet

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
_T = TypeVar("_T")
# Rows turned into typed columns at a time: big enough that per-chunk overhead is
# noise, small enough that one chunk's Python objects are a few MB.
CHUNK_ROWS = 20_000
# An .xlsx sheet declaring more cells than this is read in pieces (`xlsx_pieces`):
# calamine's grid of a whole sheet costs ~70 bytes a cell while parsing, ~10× the
# frame. Smaller sheets are parsed whole, which is as fast and simpler.
PIECES_OVER_CELLS = 4_000_000
_KINDS = (magic.XLSX, magic.ODS, magic.OLE2)


def _no_progress(fraction: float, stage: str) -> None:
    return None


def sheet_names(data: bytes, name: str) -> tuple[str, ...]:
    """The worksheets of a workbook, in order, without reading any sheet's cells."""
    _check_container(data, name)
    return _guarded(data, name, lambda: _names_only(data, name))


def _names_only(data: bytes, name: str) -> tuple[str, ...]:
    wb = _open(data, name)
    try:
        return _worksheets(wb)
    finally:
        wb.close()


def read_excel(
    data: bytes,
    name: str,
    *,
    sheet: str | None,
    limits: Limits,
    header_row: int | None = None,
    progress: Progress | None = None,
) -> ReadResult:
    """Read one sheet (the named one, else the first non-empty one).

    `header_row` (1-based) forces the row the column names are read from. `progress`
    is called with (fraction done, stage) from this thread as reading goes on.
    """
    report = progress or _no_progress
    _check_container(data, name)
    report(0.0, "Opening the workbook")
    return _guarded(data, name, lambda: _read(data, name, sheet, limits, header_row, report))


def _guarded(data: bytes, name: str, read: Callable[[], _T]) -> _T:
    """Run a calamine read; anything but our own errors means a damaged file."""
    try:
        return read()
    except (DataLoadError, MemoryError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except calamine.PasswordError as exc:
        raise _password(name) from exc
    except BaseException as exc:  # noqa: BLE001
        # calamine's Rust panics on malformed files (seen on mutated .xls files) reach
        # Python as pyo3's PanicException, which derives from BaseException.
        raise _damaged(name, exc, magic.sniff_kind(data)) from exc


def _read(
    data: bytes,
    name: str,
    sheet: str | None,
    limits: Limits,
    header_row: int | None,
    report: Progress,
) -> ReadResult:
    wb = _open(data, name)
    try:
        sheets = _worksheets(wb)
        if not sheets:
            raise DataLoadError(f"{name} has no worksheets (only charts).", filename=name)
        report(0.05, "Reading the sheet")
        declared = declared_sheets(data) if magic.sniff_kind(data) == magic.XLSX else {}
        chosen, ws = _choose_sheet(wb, data, name, sheets, sheet, declared, limits)
    finally:
        # calamine holds a copy of the whole file while a workbook is open; a parsed
        # sheet, and a PieceSheet, no longer need it.
        wb.close()
    table = _read_sheet(data, ws, name, chosen, limits, header_row, _Monotonic(report))
    return ReadResult(table.df, table.warnings, sheets=sheets, sheet=chosen, layout=table.layout)


def _read_sheet(
    data: bytes,
    ws: calamine.CalamineSheet | PieceSheet,
    name: str,
    title: str,
    limits: Limits,
    header_row: int | None,
    report: Progress,
) -> _Table:
    if isinstance(ws, PieceSheet):
        try:
            try:
                return _SheetReader(ws, name, limits, report).read(header_row)
            except ExtentChanged as changed:
                # The <dimension> named other columns than the cells use (formatting-
                # only cells, or a writer's guess): read again on the used ones, as
                # calamine lays a whole sheet out. The second reading knows them.
                extent = changed.extent
                check_columns(name, extent.last_col - extent.first_col + 1, limits)
                return _SheetReader(ws.with_extent(extent), name, limits, report).read(header_row)
        except (NotChunkable, ExtentChanged) as exc:
            logger.info("%s: sheet '%s' read whole: %r", name, title, exc)
            wb = _open(data, name)
            try:
                ws = _sheet(wb, name, title)
            finally:
                wb.close()
    return _SheetReader(ws, name, limits, report).read(header_row)


class _Monotonic:
    """Progress that never goes back (a sheet read again restarts its conversion)."""

    def __init__(self, report: Progress) -> None:
        self.report = report
        self.done = 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        self.done = max(self.done, fraction)
        self.report(self.done, stage)


def _open(data: bytes, name: str) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise _password(name) from exc
    except Exception as exc:  # calamine raises CalamineError subclasses, zip and XML errors
        raise _damaged(name, exc, magic.sniff_kind(data)) from exc


def _worksheets(wb: calamine.CalamineWorkbook) -> tuple[str, ...]:
    # Chart sheets and macro sheets hold no table; hidden worksheets still count.
    return tuple(
        meta.name for meta in wb.sheets_metadata if meta.typ == calamine.SheetTypeEnum.WorkSheet
    )


def _check_container(data: bytes, name: str) -> None:
    kind = magic.sniff_kind(data)
    if kind == magic.OLE2 and magic.is_encrypted_ole2(data):
        raise _password(name)
    if kind in _KINDS:
        return
    if kind == magic.ZIP:
        raise DataLoadError(
            f"{name} could not be opened as an Excel workbook; it looks damaged or truncated "
            "(it is a zip archive, but no workbook could be found inside). Re-save it in "
            "Excel and upload it again.",
            filename=name,
        )
    if kind is not None:
        raise DataLoadError(
            f"{name} is not an Excel workbook: it is {magic.describe(kind)}.", filename=name
        )
    raise DataLoadError(
        f"{name} is not an Excel workbook (it does not start like one; it may be a text/CSV "
        "file with the wrong extension, or damaged).",
        filename=name,
    )


def _password(name: str) -> DataLoadError:
    return DataLoadError(
        f"{name} is password-protected (encrypted). Open it in Excel, remove the "
        "password (File › Info › Protect Workbook), save, and upload it again.",
        filename=name,
    )


def _damaged(name: str, exc: BaseException, kind: str | None = None) -> DataLoadError:
    logger.info("%s: calamine failed: %r", name, exc)
    if kind == magic.OLE2 and not name.lower().endswith(".xls") and "detect file format" in str(exc):
        # A Compound File that is not a readable .xls: what Excel writes for a
        # password-protected workbook, or a legacy file renamed to .xlsx.
        return DataLoadError(
            f"{name} could not be opened as an Excel workbook: it is damaged, or an "
            "old-style Office file (a password-protected workbook or an Excel 97-2003 .xls "
            "file). Remove any password and save it as .xlsx, then upload it again.",
            filename=name,
        )
    return DataLoadError(
        f"{name} could not be opened as an Excel workbook; it looks damaged or truncated "
        f"({type(exc).__name__}: {str(exc)[:120]}). Re-save it in Excel and upload it again.",
        filename=name,
    )


def _choose_sheet(
    wb: calamine.CalamineWorkbook,
    data: bytes,
    name: str,
    sheets: tuple[str, ...],
    wanted: str | None,
    declared: dict[str, DeclaredSheet],
    limits: Limits,
) -> tuple[str, calamine.CalamineSheet | PieceSheet]:
    if wanted is not None:
        if wanted not in sheets:
            listed = ", ".join(f"'{s}'" for s in sheets)
            raise DataLoadError(
                f"{name} has no sheet named '{wanted}'; its sheets are {listed}.", filename=name
            )
        _check_declared(name, declared.get(wanted), limits)
        return wanted, _open_sheet(wb, data, name, wanted, declared.get(wanted))
    for title in sheets:
        _check_declared(name, declared.get(title), limits)
        ws = _open_sheet(wb, data, name, title, declared.get(title))
        if isinstance(ws, PieceSheet):
            try:
                if ws.has_value():
                    return title, ws
                continue
            except NotChunkable as exc:
                logger.info("%s: sheet '%s' read whole: %s", name, title, exc)
                ws = _sheet(wb, name, title)
        if ws.start is not None and _has_value(ws):
            return title, ws
    raise DataLoadError(f"{name} contains no data: every sheet is empty.", filename=name)


def _check_declared(name: str, size: DeclaredSheet | None, limits: Limits) -> None:
    if size is not None:
        check_columns(name, size.cols, limits)
        check_cells(name, max(size.rows - 1, 0), size.cols, limits)


def _open_sheet(
    wb: calamine.CalamineWorkbook, data: bytes, name: str, title: str, size: DeclaredSheet | None
) -> calamine.CalamineSheet | PieceSheet:
    """A big .xlsx sheet in pieces (nothing is parsed yet), any other one whole."""
    if size is not None and size.rows * size.cols > PIECES_OVER_CELLS:
        try:
            return PieceSheet(data, title, size)
        except NotChunkable as exc:
            logger.info("%s: sheet '%s' read whole: %s", name, title, exc)
    return _sheet(wb, name, title)


def _sheet(wb: calamine.CalamineWorkbook, name: str, title: str) -> calamine.CalamineSheet:
    try:
        return wb.get_sheet_by_name(title)
    except calamine.PasswordError as exc:
        raise _password(name) from exc
    except Exception as exc:
        raise _damaged(name, exc) from exc


def _has_value(ws: calamine.CalamineSheet) -> bool:
    # A sheet whose cells are all blank strings is empty too (formatting only).
    return any(row.count("") < len(row) for row in ws.iter_rows())


@dataclass
class _Table:
    df: pd.DataFrame
    warnings: list[str]
    layout: TableLayout


class _SheetReader:
    """Streams one sheet's rows into typed columns, keeping the last rows back so
    footnotes and totals can be peeled off before they reach the column types."""

    def __init__(
        self, ws: calamine.CalamineSheet | PieceSheet, name: str, limits: Limits, report: Progress
    ) -> None:
        self.ws = ws
        self.name = name
        self.limits = limits
        self.report = report
        # A whole sheet is parsed by now; a PieceSheet parses as its rows are converted.
        self.progress_from = 0.1 if isinstance(ws, PieceSheet) else 0.5
        end = ws.end or (0, 0)
        # iter_rows starts at row 1 but at the first used column: positions below are
        # relative to that column, `col0` turns them back into sheet columns.
        self.col0 = (ws.start or (0, 0))[1]
        self.height = end[0] + 1
        self.width = ws.width
        self.merges = [
            ((r0, c0 - self.col0), (r1, c1 - self.col0))
            for (r0, c0), (r1, c1) in (ws.merged_cell_ranges or [])
        ]

    def read(self, header_row: int | None) -> _Table:
        self.report(self.progress_from, "Converting the rows")
        # The grid is in calamine's memory already; refuse it before Python copies it.
        check_columns(self.name, self.ws.width, self.limits)
        check_cells(self.name, max(self.ws.height - 1, 0), self.ws.width, self.limits)
        rows = iter(self.ws.iter_rows())
        window = HEAD_ROWS if header_row is None else max(HEAD_ROWS, header_row + 10)
        head = list(itertools.islice(rows, window))
        guess = table_finder.find_header(
            head,
            merges=self.merges,
            override=None if header_row is None else header_row - 1,
            col_offset=self.col0,
        )
        if guess is None:
            if header_row is not None:
                raise DataLoadError(
                    f"{self.name}: row {header_row} is empty or outside the sheet; choose the "
                    "row that holds the column names.",
                    filename=self.name,
                )
            raise DataLoadError(f"{self.name}: the sheet is empty.", filename=self.name)
        first, last = guess.first_col, max(guess.last_col, self.width - 1)
        body = itertools.chain(head[guess.row + 1 :], rows)
        return self._read_body(guess, first, last, body)

    def _read_body(
        self, guess: table_finder.HeaderGuess, first: int, last: int, body: Iterator[list[Any]]
    ) -> _Table:
        n = last - first + 1
        names = list(guess.names) + [None] * (n - len(guess.names))
        columns = TypedColumns(n)
        held: list[list[Any]] = []  # rows not yet typed: the last TAIL_ROWS stay raw
        held_rows: list[int] = []  # their 0-based sheet rows
        fills = MergeFills(self.merges, guess.row + 1, first, last)
        fill = fills.apply if fills.by_start else None
        whole = first == 0 and last + 1 >= self.width  # rows need no cutting
        typed: list[bool] | None = None
        sample: list[list[Any]] = []
        blank_run = empty_inside = rows_below = 0
        stop: tuple[int, str, list[Any]] | None = None
        r = guess.row + 1  # sheet row of the chunk's first row
        while stop is None:
            chunk = list(itertools.islice(body, CHUNK_ROWS))
            if not chunk:
                break
            if fill is not None:
                for i, row in enumerate(chunk):
                    fill(r + i, row)
            cells_list = chunk if whole else [row[first : last + 1] for row in chunk]
            # calamine reports every empty cell as '': list.count finds empty rows in C.
            blank = [cells.count("") == n for cells in cells_list]
            if not blank_run and not any(blank):  # the usual chunk: all data
                held.extend(cells_list)
                held_rows.extend(range(r, r + len(cells_list)))
                if len(sample) < TAIL_ROWS:
                    sample.extend(cells_list[: TAIL_ROWS - len(sample)])
            else:
                for i, cells in enumerate(cells_list):
                    if blank[i]:
                        blank_run += 1
                        continue
                    if blank_run:
                        if typed is None:
                            typed = table_finder.column_kinds(sample)
                        kind = table_finder.classify_after_gap(cells, typed)
                        if kind != "data" and held:
                            stop = (r + i, kind, cells)
                            rows_below += sum(1 for b in blank[i + 1 :] if not b)
                            break
                        empty_inside += blank_run
                        blank_run = 0
                    if len(sample) < TAIL_ROWS:
                        sample.append(cells)
                    held.append(cells)
                    held_rows.append(r + i)
            r += len(chunk)
            if len(held) >= CHUNK_ROWS + TAIL_ROWS:
                cut = len(held) - TAIL_ROWS
                columns.add(held[:cut])
                del held[:cut], held_rows[:cut]
                check_cells(self.name, columns.rows, n, self.limits)
                done = min(r / max(self.height, 1), 1.0)
                self.report(self.progress_from + (0.9 - self.progress_from) * done, "Converting the rows")
        rows_below += sum(1 for row in body if row.count("") < len(row))
        split = table_finder.split_tail(held, [row + 1 for row in held_rows])
        if split.keep:
            columns.add(held[: split.keep])
        # A PieceSheet's size is the declared one until its rows are read.
        check_cells(self.name, columns.rows, n, self.limits)
        last_data_row = held_rows[split.keep - 1] + 1 if split.keep else guess.row + 1
        self.report(0.9, "Tidying the columns")
        df = columns.frame()
        adjustments = list(guess.adjustments)
        warnings: list[str] = []
        if stop is not None:
            r, kind, cells = stop
            rows_below += 1
            if kind == "table":
                warnings.append(
                    f"Only the first table was loaded: another table starts at row {r + 1} "
                    f"({table_finder.preview(cells)}). Pick its header row to load it instead."
                )
            else:
                adjustments.append(
                    f"rows from {r + 1} on ({table_finder.preview(cells, 1)}) are notes below "
                    "the table and were skipped"
                )
        for row_number, text in split.notes:
            adjustments.append(f"row {row_number} ({table_finder.preview([text], 1)}) is a note and was skipped")
        totals = table_finder.total_notes(df, split.totals)
        if not split.totals and len(df) > 2:
            df, sum_notes = table_finder.drop_sum_row(df, last_data_row)
            totals += sum_notes
            if sum_notes:
                last_data_row -= 1
        adjustments += totals
        if empty_inside:
            adjustments.append(f"{fmt_int(empty_inside)} empty row(s) inside the table skipped")
        df, names, dropped = _drop_spacers(df, names)
        if dropped:
            adjustments.append(
                f"{len(dropped)} empty column(s) without a name dropped "
                f"({', '.join(table_finder.column_letter(self.col0 + first + c) for c in dropped[:5])})"
            )
        df.columns = range(len(names))
        df.columns = names
        kept_cols = [c for c in range(n) if c not in set(dropped)]
        layout = TableLayout(
            header_row=guess.row + 1,
            header_rows=1 if guess.band is None else 2,
            first_row=(guess.band if guess.band is not None else guess.row) + 1,
            last_row=max(last_data_row, guess.row + 1),
            first_col=self.col0 + first + (kept_cols[0] if kept_cols else 0) + 1,
            last_col=self.col0 + first + (kept_cols[-1] if kept_cols else n - 1) + 1,
            rows_above=guess.rows_above,
            rows_below=rows_below + len(split.notes) + len(split.totals) + (1 if len(totals) > len(split.totals) else 0),
            adjustments=tuple(adjustments),
            totals=tuple(totals),
        )
        self.report(1.0, "Done")
        return _Table(df, warnings, layout)


def _drop_spacers(df: pd.DataFrame, names: list[Any]) -> tuple[pd.DataFrame, list[Any], list[int]]:
    empty = [bool(df.iloc[:, c].isna().all()) for c in range(df.shape[1])]
    dropped = table_finder.spacer_columns(names, empty)
    if not dropped:
        return df, names, []
    keep = [c for c in range(df.shape[1]) if c not in set(dropped)]
    return df.iloc[:, keep].copy(), [names[c] for c in keep], dropped
