"""Excel workbooks (.xlsx, .xlsm) into a DataFrame, one sheet at a time.

openpyxl in read-only mode streams rows, so the cell limit is enforced while reading
rather than after building a huge list. Cached formula results are read (data_only),
since the formulas themselves mean nothing to the analyst's questions.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterable
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from livechat.data.loaders import magic
from livechat.data.loaders.common import DataLoadError, Limits, ReadResult, check_cells, check_columns

logger = logging.getLogger(__name__)


def read_excel(data: bytes, name: str, *, sheet: str | None, limits: Limits) -> ReadResult:
    """Read one sheet (the named one, else the first non-empty one)."""
    _check_container(data, name)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported extensions (data validation, slicers);
            # they do not affect cell values.
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of types for damaged files
        raise _damaged(name, exc) from exc
    try:
        sheets = tuple(ws.title for ws in wb.worksheets)
        if not sheets:
            raise DataLoadError(f"{name} has no worksheets (only charts).", filename=name)
        chosen = _choose_sheet(wb, name, sheets, sheet)
        try:
            header, rows = _read_rows(wb[chosen].iter_rows(values_only=True), name, limits)
        except DataLoadError:
            raise
        except Exception as exc:
            raise _damaged(name, exc) from exc
    finally:
        wb.close()
    if not header:
        raise DataLoadError(f"{name}: sheet '{chosen}' is empty.", filename=name)
    df = pd.DataFrame.from_records(rows, columns=range(len(header)), nrows=len(rows))
    df.columns = header
    return ReadResult(df, [], sheets=sheets, sheet=chosen)


def _check_container(data: bytes, name: str) -> None:
    kind = magic.sniff_kind(data)
    if kind == magic.XLSX:
        return
    if kind == magic.OLE2:
        if magic.is_encrypted_ole2(data):
            raise DataLoadError(
                f"{name} is password-protected (encrypted). Open it in Excel, remove the "
                "password (File › Info › Protect Workbook), save, and upload it again.",
                filename=name,
            )
        raise DataLoadError(
            f"{name} is not an .xlsx workbook: it is an old-style Office file, either a "
            "password-protected workbook or an Excel 97-2003 .xls file. Remove any password "
            "and save it as .xlsx, then upload it again.",
            filename=name,
        )
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


def _damaged(name: str, exc: BaseException) -> DataLoadError:
    logger.info("%s: openpyxl failed: %r", name, exc)
    return DataLoadError(
        f"{name} could not be opened as an Excel workbook; it looks damaged or truncated "
        f"({type(exc).__name__}: {str(exc)[:120]}). Re-save it in Excel and upload it again.",
        filename=name,
    )


def _choose_sheet(wb: Workbook, name: str, sheets: tuple[str, ...], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in sheets:
            listed = ", ".join(f"'{s}'" for s in sheets)
            raise DataLoadError(
                f"{name} has no sheet named '{wanted}'; its sheets are {listed}.", filename=name
            )
        return wanted
    for title in sheets:
        if any(_has_value(row) for row in wb[title].iter_rows(values_only=True)):
            return title
    raise DataLoadError(f"{name} contains no data: every sheet is empty.", filename=name)


def _has_value(row: Iterable[Any]) -> bool:
    return any(v is not None and v != "" for v in row)


def _read_rows(
    rows: Iterable[tuple[Any, ...]], name: str, limits: Limits
) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """Header = first non-empty row. Empty rows are dropped, trailing empty columns
    trimmed (read-only mode reports the formatted range, often wider than the data)."""
    header: list[Any] | None = None
    body: list[tuple[Any, ...]] = []
    width = 0
    for row in rows:
        last = _last_value_index(row)
        if last < 0:
            continue
        if header is None:
            header = list(row[: last + 1])
            width = last + 1
            check_columns(name, width, limits)
            continue
        if last + 1 > width:
            width = last + 1
            check_columns(name, width, limits)
        body.append(row)
        if len(body) % 4096 == 0:
            check_cells(name, len(body), width, limits)
    if header is None:
        return [], []
    check_cells(name, len(body), width, limits)
    header += [None] * (width - len(header))
    body = [tuple(r[:width]) + (None,) * (width - len(r)) for r in body]
    return header, body


def _last_value_index(row: tuple[Any, ...]) -> int:
    for i in range(len(row) - 1, -1, -1):
        v = row[i]
        if v is not None and v != "":
            return i
    return -1
