"""A table kept as a folder of Arrow IPC files, one per column, and how to map it back.

One file per column (``00000.arrow``, ``00001.arrow``…, each one uncompressed record
batch) so a table can be written one column at a time: writing a single file would need
every text column combined into one contiguous buffer at once, a copy of all the table's
text on top of the table (measured, 1M x 20: +118 MB at the load's peak). Reading maps
each file and puts the columns side by side without copying a byte.

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

__all__ = ["open_table_folder", "write_table_folder"]

_COLUMN_FILE = "{:05d}.arrow"


def open_table_folder(folder: str | os.PathLike[str]) -> pa.Table:
    """The table in ``folder``, memory-mapped read-only (no bytes copied)."""
    folder = Path(folder)
    columns, names = [], []
    for path in sorted(folder.glob("*.arrow")):
        part = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
        columns.append(part.column(0))
        names.append(part.schema.names[0])
    return pa.Table.from_arrays(columns, names=names)


def _write_column(table: pa.Table, position: int, folder: Path) -> None:
    column = table.column(position)
    # One contiguous array per column, so the app can view numbers as NumPy arrays in
    # place; only the columns being written have a combined copy at a time.
    array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    part = pa.table([array], names=[table.column_names[position]])
    with pa.OSFile(str(folder / _COLUMN_FILE.format(position)), "wb") as sink:
        with pa.ipc.new_file(sink, part.schema) as writer:
            writer.write_table(part, max_chunksize=max(1, part.num_rows))


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
