"""The one entry point for data: uploaded bytes in, a clean DataFrame out.

`load_table` picks a reader by file extension (after checking the bytes really are
that kind of file), applies the same clean-up to every format (column names, one dtype
per column, date detection) and enforces the size and shape limits. Anything it cannot
read raises `DataLoadError` with a message written for the analyst; anything it read
with compromises comes back with `LoadedTable.warnings`.

Called from the Streamlit script thread (on upload) and from tests and benchmarks; it
keeps no state; the only threads it starts are the CSV reader's parse threads
(``csv-part``), stopped before it returns (pyarrow also uses its own pool).

Decision: a file with a header but no data rows is an error ("has a header but no
rows"), not an empty table: there is nothing to talk about, and every later stage
(summary, SQL tools, charts) can rely on at least one row.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

import pandas as pd

from livechat.data.loaders import codepage, magic
from livechat.data.loaders.codepage import label as encoding_label
from livechat.data.loaders.common import (
    DataLoadError,
    Limits,
    ReadResult,
    check_cells,
    check_columns,
    fmt_mb,
)
from livechat.data.loaders.csv_reader import read_delimited
from livechat.data.loaders.excel_reader import Progress, read_excel, sheet_names
from livechat.data.loaders.table_finder import TableLayout
from livechat.data.loaders.json_reader import read_json
from livechat.data.loaders.numbers import ColumnConversion, convert_number_columns
from livechat.data.loaders.parquet_reader import read_parquet
from livechat.data.loaders.tidy import clean_column_names, normalise_object_columns, parse_text_dates

__all__ = [
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_MB",
    "EXCEL_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "ColumnConversion",
    "DataLoadError",
    "LoadedTable",
    "Progress",
    "TableLayout",
    "content_digest",
    "encoding_label",
    "is_workbook",
    "list_sheets",
    "load_table",
]

logger = logging.getLogger(__name__)

MAX_UPLOAD_MB: int = 200  # must equal server.maxUploadSize in .streamlit/config.toml
MAX_UPLOAD_BYTES: int = MAX_UPLOAD_MB * 1024 * 1024  # Streamlit counts MB as MiB
MAX_COLUMNS: int = 2_000
MAX_CELLS: int = 50_000_000
SUPPORTED_EXTENSIONS: tuple[str, ...] = (
    ".csv",
    ".tsv",
    ".txt",
    ".xlsx",
    ".xlsm",
    ".xls",
    ".ods",
    ".parquet",
    ".json",
    ".jsonl",
)

_TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", ".json", ".jsonl")
# Workbooks: every sheet may be a table (one definition; the table set and the UI ask here).
EXCEL_EXTENSIONS: tuple[str, ...] = (".xlsx", ".xlsm", ".xls", ".ods")
_LIMITS = Limits(max_columns=MAX_COLUMNS, max_cells=MAX_CELLS)
# What to suggest when a text-named file is really a container.
_RENAME_HINTS = {
    magic.XLSX: "Rename it to .xlsx and upload it again.",
    magic.ODS: "Rename it to .ods and upload it again.",
    magic.PARQUET: "Rename it to .parquet and upload it again.",
    magic.ZIP: "Unzip it and upload the file inside.",
    magic.GZIP: "Decompress it and upload the file inside.",
    magic.OLE2: (
        "If it is an Excel 97-2003 workbook, rename it to .xls; if it has a password, "
        "remove it and save it as .xlsx. Then upload it again."
    ),
    magic.PDF: "Export the table as CSV or Excel instead.",
}


@dataclass(frozen=True, eq=False)
class LoadedTable:
    """A table ready for display, summary and SQL.

    `name` is the display name: the file name without its folder, plus " — <sheet>"
    for Excel. `sheets` lists an Excel file's worksheets (() for other formats) and
    `sheet` is the one loaded. `warnings` are analyst-readable notes about anything
    the loader changed or guessed (renamed columns, skipped rows, encoding).

    Text files: `encoding` is the Python codec the bytes were read with and
    `encoding_choices` the codecs the Data page offers instead (the detector's
    candidates first); both empty for other formats. `conversions` lists the text
    columns read as numbers ("1.234,56" as 1234.56) or as dates by the file's convention.
    `layout` says where the table was found in a sheet or delimited file (titles,
    notes and totals skipped, headers combined: `layout.adjustments`); None for
    Parquet and JSON.
    """

    df: pd.DataFrame
    name: str
    sheets: tuple[str, ...]
    sheet: str | None
    warnings: tuple[str, ...]
    encoding: str | None = None
    encoding_choices: tuple[str, ...] = ()
    conversions: tuple[ColumnConversion, ...] = ()
    layout: TableLayout | None = None


def content_digest(data: bytes) -> str:
    """SHA-256 hex digest of the file bytes (the UI's cache key for a loaded table)."""
    return hashlib.sha256(data).hexdigest()


def load_table(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    header_row: int | None = None,
    progress: Progress | None = None,
) -> LoadedTable:
    """Read an uploaded file into a LoadedTable.

    `filename` picks the format by extension (case-insensitive); `sheet` chooses an
    Excel worksheet (default: the first non-empty one) and is ignored for other
    formats. `encoding` (a Python codec name, e.g. "cp1251") reads a delimited text
    file with that encoding instead of the detected one; ignored for other formats.
    `header_row` (1-based row of the sheet, or line of a delimited file) overrides where
    the column names are read from; by default the table is found below any title and
    note rows. `progress(fraction, stage)` is called on this thread while a workbook is
    read. Raises DataLoadError for files over `max_bytes`, unsupported or unreadable
    files, tables without rows, and tables over MAX_COLUMNS columns or MAX_CELLS cells.
    """
    if header_row is not None and (isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1):
        raise DataLoadError(
            f"the header row must be a row number from 1, got {header_row!r}", filename=filename
        )
    name = _base_name(filename)
    ext = _extension(name)
    if ext not in SUPPORTED_EXTENSIONS:
        shown = ext or "no extension"
        raise DataLoadError(
            f"{name}: files of type '{shown}' are not supported. Supported types: "
            f"{', '.join(SUPPORTED_EXTENSIONS)}.",
            filename=name,
        )
    if len(data) > max_bytes:
        raise DataLoadError(
            f"{name} is {fmt_mb(len(data))}; the upload limit is {fmt_mb(max_bytes)}. "
            "Upload a smaller extract.",
            filename=name,
        )
    if len(data) == 0:
        raise DataLoadError(f"{name} is empty (0 bytes).", filename=name)
    if not isinstance(data, bytes):
        data = bytes(data)  # bytearray/memoryview from callers; readers expect bytes

    try:
        result = _read(data, name, ext, sheet, encoding, header_row, progress)
        display = f"{name} — {result.sheet}" if result.sheet is not None else name
        df, notes, conversions = _tidy(result, display)
    except DataLoadError:
        raise
    except MemoryError as exc:
        raise DataLoadError(
            f"{name} is too large to load in this server's memory ({fmt_mb(len(data))}).",
            filename=name,
        ) from exc
    except Exception as exc:
        # A reader bug or an input no reader anticipated. The analyst still gets a
        # DataLoadError; the traceback goes to the log.
        logger.exception("unexpected error while loading %s", name)
        raise DataLoadError(
            f"{name} could not be read (unexpected {type(exc).__name__}: {str(exc)[:160]}).",
            filename=name,
        ) from exc
    logger.info("loaded %s: %d rows × %d columns, %d warning(s)", display, *df.shape, len(notes))
    return LoadedTable(
        df=df,
        name=display,
        sheets=result.sheets,
        sheet=result.sheet,
        warnings=tuple(notes),
        encoding=result.encoding,
        encoding_choices=_encoding_choices(result),
        conversions=conversions,
        layout=result.layout,
    )


def _encoding_choices(result: ReadResult) -> tuple[str, ...]:
    """The codecs to offer for a text file: the detector's first, the one used included."""
    if result.encoding is None:
        return ()
    choices = dict.fromkeys((result.encoding, *result.encoding_choices, *codepage.CHOICES))
    return tuple(choices)


def list_sheets(data: bytes, filename: str) -> tuple[str, ...]:
    """The worksheet names of a workbook, without reading any sheet's cells; () for
    formats without sheets. Raises DataLoadError for a workbook that cannot be opened."""
    name = _base_name(filename)
    if not is_workbook(name):
        return ()
    return sheet_names(bytes(data), name)


def _read(
    data: bytes,
    name: str,
    ext: str,
    sheet: str | None,
    encoding: str | None,
    header_row: int | None,
    progress: Progress | None,
) -> ReadResult:
    if ext in EXCEL_EXTENSIONS:
        return read_excel(
            data, name, sheet=sheet, limits=_LIMITS, header_row=header_row, progress=progress
        )
    if ext == ".parquet":
        return read_parquet(data, name, limits=_LIMITS)
    kind = magic.sniff_kind(data)
    if kind is not None:
        raise DataLoadError(
            f"{name} is not a text file: it is {magic.describe(kind)}. {_RENAME_HINTS[kind]}",
            filename=name,
        )
    if ext in (".json", ".jsonl"):
        return read_json(data, name, lines=ext == ".jsonl", limits=_LIMITS)
    return read_delimited(
        data, name, prefer_tab=ext == ".tsv", limits=_LIMITS, encoding=encoding, header_row=header_row
    )


def _tidy(
    result: ReadResult, display: str
) -> tuple[pd.DataFrame, list[str], tuple[ColumnConversion, ...]]:
    df = result.df
    notes = list(result.warnings)
    n_rows, n_columns = df.shape
    if n_columns == 0:
        raise DataLoadError(f"{display} contains no columns.", filename=display)
    check_columns(display, n_columns, _LIMITS)
    if n_rows == 0:
        raise DataLoadError(
            f"{display} has a header but no rows: there is no data to analyse.",
            filename=display,
        )
    check_cells(display, n_rows, n_columns, _LIMITS)
    names, name_notes = clean_column_names(list(df.columns))
    df.columns = names
    df, object_notes = normalise_object_columns(df)
    df, numbers = convert_number_columns(df, reader_mark=result.decimal_mark)
    # Dates follow the numbers' evidence: a file writing decimal commas is European,
    # so "03.04.2024" and "03/04/2024" are day first there.
    date_conversions: list[ColumnConversion] = []
    df, date_notes = parse_text_dates(
        df, day_first=True if numbers.decimal_mark == "," else None, decided=date_conversions
    )
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0:
        df = df.reset_index(drop=True)
    notes = notes + name_notes + object_notes + list(numbers.warnings) + date_notes
    return df, notes, numbers.conversions + tuple(date_conversions)


def _base_name(filename: str) -> str:
    """The file name without any folder (browsers may send either slash style)."""
    base = re.split(r"[\\/]", filename.strip())[-1].strip()
    return base or "the file"


def file_name_and_extension(filename: str) -> tuple[str, str]:
    """The file name without folders, and its extension in lower case ("" for none)."""
    name = _base_name(filename)
    return name, _extension(name)


def is_workbook(name: str) -> bool:
    """Whether a file name is a workbook's (whose sheets may each be a table)."""
    return _extension(name) in EXCEL_EXTENSIONS


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""
