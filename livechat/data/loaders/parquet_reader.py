"""Parquet files into a DataFrame.

The footer is read first so the column and cell limits are checked before any data
is decoded.
"""

from __future__ import annotations

import logging

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from livechat.data.loaders import magic
from livechat.data.loaders.common import DataLoadError, Limits, ReadResult, check_cells, check_columns

logger = logging.getLogger(__name__)


def read_parquet(data: bytes, name: str, *, limits: Limits) -> ReadResult:
    """Read a whole Parquet file; a named or non-trivial index becomes columns."""
    if not data.startswith(b"PAR1"):
        kind = magic.sniff_kind(data)
        what = f"it is {magic.describe(kind)}" if kind else "it does not start with the Parquet marker"
        raise DataLoadError(f"{name} is not a Parquet file: {what}.", filename=name)
    if not data.endswith(b"PAR1"):
        raise DataLoadError(
            f"{name} is truncated or damaged: a Parquet file ends with a footer, and this "
            "one has none. Upload the complete file.",
            filename=name,
        )
    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
        n_columns = len(pf.schema_arrow.names)
        check_columns(name, n_columns, limits)
        check_cells(name, pf.metadata.num_rows, n_columns, limits)
        table = pf.read()
        df = table.to_pandas(split_blocks=True, self_destruct=True, date_as_object=False)
    except DataLoadError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        logger.info("%s: pyarrow.parquet failed: %r", name, exc)
        raise DataLoadError(
            f"{name} could not be read as Parquet; the file looks damaged "
            f"({type(exc).__name__}: {str(exc)[:120]}).",
            filename=name,
        ) from exc
    if not isinstance(df.index, pd.RangeIndex):
        # A pandas-written file may carry its index; show it as ordinary columns.
        df = df.reset_index()
    return ReadResult(df)
