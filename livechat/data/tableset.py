"""Several tables at once: every non-empty sheet of a workbook, several files in one upload.

``load_table_set`` reads each file with ``livechat.data.load.load_table`` (one call per
sheet for workbooks), names each table for SQL (``livechat.data.sql_names``) and applies
the upload limits to the whole set: MAX_UPLOAD_MB for all files together, MAX_COLUMNS per
table (``load_table``), MAX_CELLS for all tables together, at most MAX_TABLES tables. A
file or sheet that fails is named in ``TableSetLoad.failures`` with the loader's own
message while the rest still loads; only when nothing at all loads does it raise
``TableSetLoadError``.

The first table is also the SQL alias ``data`` (``DATA_ALIAS``), so single-table questions
and prompts keep working.

Called from the Streamlit script thread (uploads) and tests; keeps no state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from livechat.data.load import (
    MAX_CELLS,
    MAX_UPLOAD_BYTES,
    DataLoadError,
    LoadedTable,
    is_workbook,
    load_table,
)
from livechat.data.loaders.common import fmt_int, fmt_mb
from livechat.data.sql_names import unique_sql_names
from livechat.data.workbook import nonempty_sheet_names

__all__ = [
    "DATA_ALIAS",
    "MAX_TABLES",
    "NamedTable",
    "TableFailure",
    "TableLoader",
    "TableSetLoad",
    "TableSetLoadError",
    "load_table_set",
]

logger = logging.getLogger(__name__)

DATA_ALIAS = "data"
MAX_TABLES = 20

# load_table's signature (the UI passes its cached version): bytes, file name, sheet.
TableLoader = Callable[[bytes, str, str | None], LoadedTable]


@dataclass(frozen=True, eq=False)
class NamedTable:
    """One table of a set: its SQL name, the loaded table and where it came from."""

    sql_name: str
    table: LoadedTable
    source: str  # the uploaded file's name
    sheet: str | None  # the worksheet, for workbooks

    @property
    def rows(self) -> int:
        return int(self.table.df.shape[0])

    @property
    def columns(self) -> int:
        return int(self.table.df.shape[1])


@dataclass(frozen=True)
class TableFailure:
    """A file or sheet that was not loaded, and why (the loader's words)."""

    source: str
    sheet: str | None
    message: str


@dataclass(frozen=True, eq=False)
class TableSetLoad:
    """What an upload of one or more files produced."""

    tables: tuple[NamedTable, ...]
    failures: tuple[TableFailure, ...]
    notes: tuple[str, ...]  # limits that left tables out (e.g. "the first 20 …")


class TableSetLoadError(DataLoadError):
    """No table of the upload could be loaded; ``failures`` says why, file by file."""

    def __init__(self, failures: Sequence[TableFailure], notes: Sequence[str] = ()) -> None:
        reasons = " ".join(f.message for f in failures) or "No file was given."
        super().__init__(" ".join([reasons, *notes]).strip(),
                         filename=failures[0].source if failures else None)
        self.failures = tuple(failures)


def _default_loader(data: bytes, filename: str, sheet: str | None) -> LoadedTable:
    return load_table(data, filename, sheet=sheet)


def load_table_set(
    files: Iterable[tuple[str, bytes]],
    *,
    loader: TableLoader = _default_loader,
    max_tables: int = MAX_TABLES,
    max_total_bytes: int = MAX_UPLOAD_BYTES,
    max_total_cells: int = MAX_CELLS,
) -> TableSetLoad:
    """Load every ``(filename, bytes)`` as one set of named tables, in upload order.

    Workbooks give one table per non-empty sheet. Raises ``TableSetLoadError`` only when
    no table loaded; otherwise failures and limit notes come back with the tables.
    """
    loaded: list[tuple[LoadedTable, str, str | None, str]] = []  # table, source, sheet, raw name
    failures: list[TableFailure] = []
    notes: list[str] = []
    total_bytes = total_cells = 0
    left_out: list[str] = []
    for filename, data in files:
        if total_bytes + len(data) > max_total_bytes:
            failures.append(TableFailure(filename, None, (
                f"{filename} was not loaded: with it the upload would be "
                f"{fmt_mb(total_bytes + len(data))}; the limit is {fmt_mb(max_total_bytes)} "
                "for all files together.")))
            continue
        total_bytes += len(data)
        for sheet, raw_name in _parts(data, filename):
            if len(loaded) >= max_tables:
                left_out.append(f"{filename} — {sheet}" if sheet else filename)
                continue
            try:
                table = loader(data, filename, sheet)
            except DataLoadError as exc:
                failures.append(TableFailure(filename, sheet, str(exc)))
                continue
            rows, cols = table.df.shape
            if total_cells + rows * cols > max_total_cells:
                failures.append(TableFailure(filename, sheet, (
                    f"{table.name} was not loaded: its {fmt_int(rows * cols)} cells would bring "
                    f"the tables to {fmt_int(total_cells + rows * cols)} cells; the limit is "
                    f"{fmt_int(max_total_cells)} cells for all tables together.")))
                continue
            total_cells += rows * cols
            loaded.append((table, filename, table.sheet, raw_name or _stem(filename)))
    if left_out:
        shown = ", ".join(left_out[:5]) + (f" and {len(left_out) - 5} more" if len(left_out) > 5 else "")
        notes.append(f"Only the first {max_tables} tables were loaded; left out: {shown}.")
    if not loaded:
        raise TableSetLoadError(failures, notes)
    names = unique_sql_names([raw for _, _, _, raw in loaded], reserved=(DATA_ALIAS,))
    tables = tuple(NamedTable(name, table, source, sheet)
                   for name, (table, source, sheet, _) in zip(names, loaded, strict=True))
    logger.info("table set: %d table(s), %d failure(s)", len(tables), len(failures))
    return TableSetLoad(tables=tables, failures=tuple(failures), notes=tuple(notes))


def _parts(data: bytes, filename: str) -> list[tuple[str | None, str | None]]:
    """(sheet, raw SQL name) to read from one file: every non-empty sheet of a workbook.

    A workbook with one non-empty sheet is named after the file; with several, each
    table after its sheet. Other formats: one table named after the file.
    """
    if not is_workbook(filename):
        return [(None, None)]
    sheets = nonempty_sheet_names(data, filename)
    if not sheets:  # unreadable, or no data: load_table says which, in the analyst's words
        return [(None, None)]
    if len(sheets) == 1:
        return [(sheets[0], None)]
    return [(sheet, sheet) for sheet in sheets]


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[:dot] if dot > 0 else base
