"""A loaded table as Parquet bytes plus a JSON description, and back (for the store).

``encode_table`` writes the cleaned DataFrame (never the raw upload) as Parquet with
Arrow's schema, so dtypes come back as they were: pandas' Arrow strings, datetimes with
their zone, nullable integers. Parquet has no second-resolution timestamps (they come
back in milliseconds), so each column's dtype is saved too and restored where it differs. Everything else a ``LoadedTable`` carries (display name,
sheets, warnings, encoding, column conversions, where the table was found) goes in a
JSON-ready dict. ``decode_table`` returns the very object the load path returns, so
the rest of the app cannot tell a restored table from a parsed one.

Raises ``SnapshotError`` (bytes that are not a table, a description that does not fit).
Keeps no state; called on the store writer's thread (encode) and page runs (decode).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from livechat.data.load import ColumnConversion, LoadedTable, TableLayout

__all__ = ["FORMAT", "SnapshotError", "decode_table", "encode_table"]

FORMAT = "parquet-1"
# LZ4: about as fast to write as no compression and 2-4x smaller on typical sheets
# (bench/bench_store.py prints the figures).
_COMPRESSION = "lz4"


class SnapshotError(ValueError):
    """Stored bytes or their description could not be read back as a table."""


def encode_table(table: LoadedTable) -> tuple[bytes, dict[str, Any]]:
    """``(parquet_bytes, description)`` of ``table``."""
    arrow = pa.Table.from_pandas(table.df, preserve_index=False)
    sink = pa.BufferOutputStream()  # Arrow's own buffer: no Python-level writes, no final copy
    # No column statistics: nothing ever filters a snapshot by them, and computing them
    # (min/max of every text column) was a quarter of the write.
    pq.write_table(arrow, sink, compression=_COMPRESSION, write_statistics=False)
    meta = {
        "format": FORMAT,
        "name": table.name,
        "sheets": list(table.sheets),
        "sheet": table.sheet,
        "warnings": list(table.warnings),
        "encoding": table.encoding,
        "encoding_choices": list(table.encoding_choices),
        "conversions": [asdict(c) for c in table.conversions],
        "layout": asdict(table.layout) if table.layout is not None else None,
        "dtypes": [str(t) for t in table.df.dtypes],
        "rows": int(table.df.shape[0]),
        "columns": int(table.df.shape[1]),
    }
    return sink.getvalue().to_pybytes(), meta


def decode_table(data: bytes, meta: dict[str, Any]) -> LoadedTable:
    """The ``LoadedTable`` that ``encode_table`` was given (an equal one)."""
    if meta.get("format") != FORMAT:
        raise SnapshotError(f"stored in an unknown format ({meta.get('format')!r})")
    try:
        # One block per column and the Arrow buffers freed as they convert: no consolidating
        # copy of the whole frame (0.19 s instead of 0.31 s for 1M x 20, and a lower peak).
        df = pq.read_table(pa.BufferReader(data)).to_pandas(split_blocks=True, self_destruct=True)
    except (pa.ArrowException, OSError) as exc:
        raise SnapshotError(f"its stored copy is damaged ({exc})") from exc
    if df.shape != (meta.get("rows"), meta.get("columns")):
        raise SnapshotError(f"its stored copy has {df.shape[0]:,} rows x {df.shape[1]:,} columns, "
                            f"not the {meta.get('rows')} x {meta.get('columns')} saved")
    saved = meta.get("dtypes") or []
    for position, wanted in enumerate(saved[: df.shape[1]]):
        if str(df.dtypes.iloc[position]) != wanted:
            try:  # e.g. datetime64[s] read back as datetime64[ms]
                df.isetitem(position, df.iloc[:, position].astype(wanted))
            except (TypeError, ValueError) as exc:
                raise SnapshotError(f"its column {df.columns[position]!r} cannot be read back as {wanted}") from exc
    try:
        return LoadedTable(
            df=df,
            name=str(meta["name"]),
            sheets=tuple(meta.get("sheets") or ()),
            sheet=meta.get("sheet"),
            warnings=tuple(meta.get("warnings") or ()),
            encoding=meta.get("encoding"),
            encoding_choices=tuple(meta.get("encoding_choices") or ()),
            conversions=tuple(_dataclass(ColumnConversion, c) for c in meta.get("conversions") or ()),
            layout=_dataclass(TableLayout, meta["layout"]) if meta.get("layout") else None,
        )
    except (KeyError, TypeError) as exc:
        raise SnapshotError(f"its stored description does not fit ({exc})") from exc


def _dataclass(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)`` with list fields turned back into the tuples the dataclass uses."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names})
