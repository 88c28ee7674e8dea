"""Shared pieces of the format readers: the error type, limits, the reader result.

Kept apart from `livechat.data.load` so the readers can raise the same `DataLoadError`
without importing the entry point (which imports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from livechat.data.loaders.table_finder import TableLayout


# Cell texts read as missing: pandas' default na_values (pandas._libs.parsers.STR_NA_VALUES,
# copied here rather than imported from a private module), so every reader agrees with
# what an analyst would get from pd.read_csv.
NULL_MARKERS: tuple[str, ...] = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)


class DataLoadError(ValueError):
    """A file could not be turned into a table.

    The message is written for the analyst who uploaded the file: it names the file
    and the rule that was broken, with the offending value.
    """

    def __init__(self, message: str, *, filename: str | None = None) -> None:
        super().__init__(message)
        self.filename = filename


@dataclass(frozen=True)
class Limits:
    """Shape limits a loaded table must respect (see `livechat.data.load`)."""

    max_columns: int
    max_cells: int


@dataclass
class ReadResult:
    """What a format reader hands back to `load_table` before the common clean-up."""

    df: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    sheets: tuple[str, ...] = ()
    sheet: str | None = None
    # Text formats: the codec the bytes were read with, and the codecs to offer instead.
    encoding: str | None = None
    encoding_choices: tuple[str, ...] = ()
    # Delimited text: the delimiter and the decimal mark the sniffed cells show ("," "." None),
    # evidence for the number and date conventions of the file's text columns.
    delimiter: str | None = None
    decimal_mark: str | None = None
    layout: TableLayout | None = None  # where the table was found (sheets and delimited text)


def fmt_int(n: int) -> str:
    """1234567 -> '1,234,567' (analyst-facing counts)."""
    return f"{n:,}"


def fmt_mb(n_bytes: int) -> str:
    """Bytes as MB with one decimal, the unit Streamlit's upload limit uses (MiB)."""
    return f"{n_bytes / (1024 * 1024):,.1f} MB"


def check_columns(name: str, n_columns: int, limits: Limits) -> None:
    """Raise if a table would have more columns than allowed."""
    if n_columns > limits.max_columns:
        raise DataLoadError(
            f"{name} has {fmt_int(n_columns)} columns; the limit is "
            f"{fmt_int(limits.max_columns)} columns. Remove unused columns and upload again.",
            filename=name,
        )


def check_cells(name: str, n_rows: int, n_columns: int, limits: Limits) -> None:
    """Raise if rows × columns exceeds the cell limit."""
    cells = n_rows * n_columns
    if cells > limits.max_cells:
        raise DataLoadError(
            f"{name} has {fmt_int(n_rows)} rows × {fmt_int(n_columns)} columns = "
            f"{fmt_int(cells)} cells; the limit is {fmt_int(limits.max_cells)} cells. "
            "Upload a filtered or aggregated extract.",
            filename=name,
        )
