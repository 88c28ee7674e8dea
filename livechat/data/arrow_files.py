"""A table kept as a folder of Arrow IPC files, one per column, and how to map it back.

One file per column (``00000.arrow``, ``00001.arrow``…, each one uncompressed record
batch) so a table can be written one column at a time: writing a single file would need
every text column combined into one contiguous buffer at once, a copy of all the table's
text on top of the table (measured, 1M x 20: +118 MB at the load's peak). Reading maps
each file and puts the columns side by side without copying a byte.

A text column with few distinct values (at most 127: a region, a status) also gets a
second file, ``00001.dict.arrow``: the same column as a dictionary with one-byte indices,
which only the SQL worker maps. DuckDB converts Arrow text to its own strings on every
scan, so a GROUP BY over such a column was 1.3-1.7x slower over the mapped file than over
a table copied into DuckDB (issue 29); over the dictionary it groups by index, faster than
the copy (1M rows: 11.5 ms as mapped text, 8.1 ms copied in, 2.6 ms as a dictionary). The
cost is one byte per row on disk and in the page cache; the worker then never touches
that column's text pages. Written here rather than in the worker, which would need
``pyarrow.compute`` (6 MB of its own per worker) and private memory for the indices.

Only pyarrow here: the SQL worker (``livechat.tools.sql_worker``) maps tables with this
module and must stay small (no pandas). Any thread; ``write_table_folder`` writes on two
threads of its own, stopped before it returns.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

__all__ = ["DICTIONARY_MAX_VALUES", "open_table_folder", "write_table_folder"]

_COLUMN_FILE = "{:05d}.arrow"
_DICTIONARY_FILE = "{:05d}.dict.arrow"
DICTIONARY_MAX_VALUES = 127  # int8 indices
_DICTIONARY_SAMPLE_ROWS = 8192  # more distinct values than the cap in these: not tried


def open_table_folder(folder: str | os.PathLike[str], *, dictionaries: bool = False) -> pa.Table:
    """The table in ``folder``, memory-mapped read-only (no bytes copied); with
    ``dictionaries``, each column that has a dictionary file comes from that file."""
    folder = Path(folder)
    columns, names = [], []
    for path in sorted(folder.glob("[0-9]*.arrow")):
        if path.name.endswith(".dict.arrow"):
            continue
        encoded = path.with_name(path.name.replace(".arrow", ".dict.arrow"))
        part = _read(encoded if dictionaries and encoded.is_file() else path)
        columns.append(part.column(0))
        names.append(part.schema.names[0])
    return pa.Table.from_arrays(columns, names=names)


def _read(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()


def _write_column(table: pa.Table, position: int, folder: Path) -> None:
    column = table.column(position)
    # One contiguous array per column, so the app can view numbers as NumPy arrays in
    # place; only the columns being written have a combined copy at a time.
    array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    name = table.column_names[position]
    _write_file(folder / _COLUMN_FILE.format(position), name, array)
    encoded = _small_dictionary(array)
    if encoded is not None:
        _write_file(folder / _DICTIONARY_FILE.format(position), name, encoded)


def _write_file(path: Path, name: str, array: pa.Array) -> None:
    part = pa.table([array], names=[name])
    with pa.OSFile(str(path), "wb") as sink:
        with pa.ipc.new_file(sink, part.schema) as writer:
            writer.write_table(part, max_chunksize=max(1, part.num_rows))


def _small_dictionary(array: pa.Array) -> pa.Array | None:
    """``array`` as a dictionary with int8 indices when it is text with at most
    ``DICTIONARY_MAX_VALUES`` distinct values (nulls stay nulls); else None."""
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    import pyarrow.compute as pc  # here, not at the top: the SQL worker imports this module to read

    if pc.count_distinct(array.slice(0, _DICTIONARY_SAMPLE_ROWS)).as_py() > DICTIONARY_MAX_VALUES:
        return None  # ids, names, free text: the usual case, decided on a few rows
    encoded = pc.dictionary_encode(array)
    if len(encoded.dictionary) > DICTIONARY_MAX_VALUES:
        return None
    return encoded.cast(pa.dictionary(pa.int8(), array.type))


def write_table_folder(table: pa.Table, folder: Path) -> None:
    """Write ``table`` to ``folder`` column by column, atomically (a reader never sees a
    half-written table). A folder already there (another writer got there first) is kept.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".writing-", dir=folder.parent))
    try:
        # Two columns at a time: combining and writing release the GIL, so the page's load
        # waits about half as long for the files (two columns' copies at most at once).
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="table-write") as pool:
            for done in [pool.submit(_write_column, table, position, temp) for position in range(table.num_columns)]:
                done.result()
        try:
            os.replace(temp, folder)
        except OSError:
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
