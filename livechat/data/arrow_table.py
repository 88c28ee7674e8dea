"""The table as Arrow: what the SQL engine sees of a DataFrame, column for column.

One conversion shared by the SQL sandbox (which streams it to its worker) and the
file-backed table (``livechat.data.table_file``, which writes it once to disk so the app
and the worker map the same bytes), so both always agree on names, types and nulls.
Pure functions; any thread.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import pyarrow as pa

__all__ = ["sql_column_names", "text_array", "to_arrow"]

logger = logging.getLogger(__name__)


def sql_column_names(df: pd.DataFrame) -> list[str]:
    """The column names as the SQL table ``data`` has them: text, unique, non-empty.

    Names are kept as they are (spaces, capitals); a repeated name gets ``_2``, ``_3``...
    and an empty one becomes ``column_N``, because DuckDB needs unique names.
    """
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(df.columns, start=1):
        base = str(raw) if str(raw).strip() else f"column_{position}"
        name, suffix = base, 2
        while name.lower() in seen:  # DuckDB column names are case-insensitive
            name, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(name.lower())
        names.append(name)
    return names


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """Convert ``df`` to Arrow column by column, without touching ``df``.

    pandas 3 strings, categoricals, tz-aware datetimes and nullable Int64/boolean map
    directly; an object column that Arrow cannot type (mixed ints and text, say) is
    passed as text so one odd column does not make the whole table unavailable.
    """
    names = sql_column_names(df)
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for position, name in enumerate(names):
        column = df.iloc[:, position]
        try:
            arrays.append(pa.array(column, from_pandas=True))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            logger.info("column %r has mixed values; SQL sees it as text", name)
            arrays.append(text_array(column))
    return pa.Table.from_arrays(arrays, names=names)


def text_array(column: pd.Series) -> pa.Array:
    """``column``'s values as text (None, NaN and NaT as nulls): how a column Arrow cannot
    type is kept, for SQL here and in a stored snapshot (``livechat.data.snapshot``)."""
    return pa.array([_as_text(v) for v in column], type=pa.large_string())


def _as_text(value: Any) -> str | None:
    try:
        if value is None or value != value:  # None, NaN, NaT
            return None
    except (TypeError, ValueError):  # pandas.NA refuses comparison to bool
        return None
    return str(value)
