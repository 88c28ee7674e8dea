"""Which sheets of an Excel workbook hold data, without reading them whole.

``load_table`` reads one sheet at a time; a table set (``livechat.data.tableset``) asks
here first which sheets are worth reading. For .xlsx/.xlsm, openpyxl's read-only mode
streams rows, so a sheet is known to be non-empty at its first value and an empty one
costs nothing; .xls and .ods (whose files are small by nature) are opened with calamine,
which parses a sheet whole to know its size.

Pure function; any thread.
"""

from __future__ import annotations

import io
import warnings

import python_calamine
from openpyxl import load_workbook

__all__ = ["nonempty_sheet_names"]


def nonempty_sheet_names(data: bytes, filename: str = "book.xlsx") -> tuple[str, ...] | None:
    """The titles of the worksheets with at least one value, in workbook order.

    Returns None when the bytes cannot be opened as a workbook: the caller then lets
    ``load_table`` read the file, whose error message says what is wrong with it.
    """
    if filename.lower().endswith((".xls", ".ods")):
        return _calamine_nonempty(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions: irrelevant to values
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many types for damaged files
        return None
    try:
        return tuple(ws.title for ws in wb.worksheets if _has_value(ws))
    except Exception:  # noqa: BLE001 - a damaged sheet: let load_table explain it
        return None
    finally:
        wb.close()


def _has_value(ws: object) -> bool:
    for row in ws.iter_rows(values_only=True):  # type: ignore[attr-defined]
        if any(v is not None and v != "" for v in row):
            return True
    return False


def _calamine_nonempty(data: bytes) -> tuple[str, ...] | None:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        return tuple(n for n in workbook.sheet_names if workbook.get_sheet_by_name(n).height > 0)
    except BaseException as exc:  # noqa: BLE001 - calamine raises Rust panics (BaseException) on damage
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return None
