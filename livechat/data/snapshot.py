"""A loaded table as Arrow IPC bytes plus a JSON description, and back (for the store).

``encode_table`` writes the cleaned DataFrame (never the raw upload) as one Arrow IPC
stream, its buffers compressed with Zstandard, with pandas' own metadata in the schema, so
dtypes come back exactly as they were: pandas' Arrow strings, datetimes with their unit
and zone, nullable integers, categoricals. Why IPC rather than Parquet: a restore is the
analyst's wait on a reload, and IPC has no pages to decode (decompress, and pandas takes
numbers and strings as they are, zero-copy), so 1M x 20 restores in about 0.3 s of CPU
against 0.45 s from Parquet, and it is stored smaller (60 MB against 65 MB).
bench/bench_store.py prints the figures. Everything else a ``LoadedTable`` carries
(display name, sheets, warnings, encoding, column conversions, where the table was
found) goes in a JSON-ready dict, with an xxHash3 checksum of the bytes: IPC does not
check its content, so without it a flipped byte could come back as a wrong value
instead of an error. ``decode_table`` returns the very object the load path returns, so
the rest of the app cannot tell a restored table from a parsed one.

Tables stored by earlier releases (``parquet-1``: Parquet, LZ4, no checksum) still decode.

A column Arrow cannot type (mixed numbers and text in one object column, as some
workbooks have) is stored as its text, the way the SQL engine already sees it
(``livechat.data.arrow_table``), and comes back as text.

Raises ``SnapshotError`` (bytes that are not a table, a checksum that does not match, a
description that does not fit). Keeps no state; called on the store writer's thread
(encode) and page runs (decode).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from livechat.data.arrow_table import text_array
from livechat.data.load import ColumnConversion, LoadedTable, TableLayout

__all__ = ["FORMAT", "SnapshotError", "decode_table", "encode_table"]

FORMAT = "arrow-ipc-1"
_PARQUET = "parquet-1"  # earlier releases' format: read, never written
# Zstandard (level 1) rather than LZ4: LZ4 decompresses faster but leaves the table 1.8x
# bigger (1M x 20: 108 MB against 60 MB), and the database's reading and writing of the
# extra bytes cost more than the slower decompression saves (measured on both engines:
# restore the same, PostgreSQL's save 2x slower with LZ4).
_COMPRESSION = "zstd"
_CHECKSUM = "xxh3_64"


class SnapshotError(ValueError):
    """Stored bytes or their description could not be read back as a table."""


def encode_table(table: LoadedTable) -> tuple[memoryview, dict[str, Any]]:
    """``(ipc_bytes, description)`` of ``table`` (the bytes as a view of Arrow's buffer:
    not copied into a ``bytes`` object, which would hold the table's size twice)."""
    # One record batch: every column decodes to one contiguous array, which pandas and the
    # mapped table file (livechat.data.table_file) then use as is. A parsed CSV's text
    # columns come in dozens of chunks, and a batch ends at every chunk boundary: restored
    # like that, pandas would copy every column to join them (measured, 1M x 20: 47
    # batches, decode 2x slower). Joining them here costs the writer ~20 ms.
    arrow = _arrow_of(table.df).combine_chunks()
    try:
        data = _ipc_bytes(arrow, pa.allocate_buffer(_size_bound(arrow)))
    except (pa.ArrowException, OSError):  # past the bound (it should not be): a growing buffer
        data = _ipc_bytes(arrow, None)
    del arrow
    meta = {
        "format": FORMAT,
        "checksum": f"{_CHECKSUM}:{xxhash.xxh3_64_hexdigest(data)}",
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
    return data, meta


def _ipc_bytes(arrow: pa.Table, into: pa.Buffer | None) -> memoryview:
    """``arrow`` as one compressed IPC stream, written into ``into`` (or a growing buffer)."""
    options = pa.ipc.IpcWriteOptions(compression=_COMPRESSION)
    sink = pa.BufferOutputStream() if into is None else pa.FixedSizeBufferWriter(into)
    with pa.ipc.new_stream(sink, arrow.schema, options=options) as writer:
        writer.write_table(arrow, max_chunksize=max(1, arrow.num_rows))
    if into is None:
        return memoryview(sink.getvalue())
    return memoryview(into.slice(0, sink.tell()))


def _size_bound(arrow: pa.Table) -> int:
    """More bytes than ``arrow``'s compressed stream can take (Zstandard adds well under 1%
    to data it cannot shrink, plus a few bytes per buffer and the schema). Written into a
    buffer of that size at once, the stream is not copied each time a growing buffer
    doubles (measured, 1M x 20: 0.13 s less, on the writer thread); the pages past the
    end are never touched, so they cost no memory."""
    buffers = sum(len(chunk.buffers()) for column in arrow.columns for chunk in column.chunks)
    return int(arrow.nbytes * 1.01) + 64 * buffers + (1 << 20)


def _arrow_of(df: pd.DataFrame) -> pa.Table:
    """``df`` as Arrow with pandas' metadata; a column Arrow cannot type goes as text."""
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass  # some object column mixes types: find it below (the common path skips this)
    frame = df.copy(deep=False)
    for position in range(df.shape[1]):
        column = df.iloc[:, position]
        if column.dtype != object:
            continue
        try:
            pa.array(column, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            frame.isetitem(position, pd.Series(text_array(column).to_pylist(), index=df.index, dtype=object))
    return pa.Table.from_pandas(frame, preserve_index=False)


def decode_table(data: bytes | bytearray | memoryview, meta: dict[str, Any]) -> LoadedTable:
    """The ``LoadedTable`` that ``encode_table`` was given (an equal one)."""
    stored_as = meta.get("format")
    if stored_as == FORMAT:
        df = _read_ipc(data, meta)
    elif stored_as == _PARQUET:
        df = _read_parquet(data)
    else:
        raise SnapshotError(f"stored in an unknown format ({stored_as!r})")
    if df.shape != (meta.get("rows"), meta.get("columns")):
        raise SnapshotError(f"its stored copy has {df.shape[0]:,} rows x {df.shape[1]:,} columns, "
                            f"not the {meta.get('rows')} x {meta.get('columns')} saved")
    saved = meta.get("dtypes") or []
    for position, wanted in enumerate(saved[: df.shape[1]]):
        if str(df.dtypes.iloc[position]) != wanted:
            try:  # Parquet: datetime64[s] read back as datetime64[ms]
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


def _read_ipc(data: bytes | bytearray | memoryview, meta: dict[str, Any]) -> pd.DataFrame:
    algorithm, _, expected = str(meta.get("checksum") or "").partition(":")
    if algorithm != _CHECKSUM:
        raise SnapshotError(f"its stored description has no usable checksum ({meta.get('checksum')!r})")
    if xxhash.xxh3_64_hexdigest(data) != expected:
        raise SnapshotError("its stored copy is damaged (the checksum does not match)")
    try:
        arrow = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        # Numbers and strings are views of the decoded buffers; split_blocks keeps one
        # block per column (no consolidating copy) and self_destruct drops Arrow's
        # reference to each column as it converts.
        return arrow.to_pandas(split_blocks=True, self_destruct=True)
    except (pa.ArrowException, OSError) as exc:
        raise SnapshotError(f"its stored copy is damaged ({exc})") from exc


def _read_parquet(data: bytes | bytearray | memoryview) -> pd.DataFrame:
    try:
        return pq.read_table(pa.BufferReader(data)).to_pandas(split_blocks=True, self_destruct=True)
    except (pa.ArrowException, OSError) as exc:
        raise SnapshotError(f"its stored copy is damaged ({exc})") from exc


def _dataclass(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)`` with list fields turned back into the tuples the dataclass uses."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names})
