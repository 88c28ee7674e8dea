"""One copy of a loaded table: written once as an Arrow IPC file, memory-mapped by everyone.

``map_table`` turns a loaded table into a *mapped* one: the table as the SQL engine sees
it (``livechat.data.arrow_table.to_arrow``) is written uncompressed to
``<data dir>/tables/<key>/`` (one Arrow IPC file per column, ``livechat.data.arrow_files``)
and the app's DataFrame is rebuilt over the mapped files,
column by column and zero-copy where the bytes allow it (numbers, dates and pandas'
Arrow-backed text). The SQL worker maps the same file (``mapped_file`` tells the sandbox
where it is), so the operating system's page cache holds the table once for the app and
all its workers, and can drop clean pages under pressure instead of the app being killed.

Any table goes through here, whether parsed from an upload or restored from elsewhere
(a saved store), as long as it arrives as a ``LoadedTable``. The rebuilt frame has the
same columns, dtypes and values as the original (checked per column; a column that
cannot be shared is copied out of the original instead), so every tool answers the same.
When the file cannot be written (read-only or full disk) the table is returned as it was
and the sandbox streams it to its worker as before.

The files are deleted when the last frame mapping them is garbage-collected (a worker
that still maps them keeps its own pages until it exits; Linux keeps an unlinked file's
pages while they are mapped). Tables a stopped process left behind are swept (a day
old) the first time a process maps a table.

Thread affinity: any thread; the registry of mapped frames is guarded by a lock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from livechat.data.paths import data_dir
from livechat.data.arrow_files import open_table_folder, write_table_folder
from livechat.data.arrow_table import to_arrow
from livechat.data.load import LoadedTable

__all__ = ["map_table", "mapped_file", "release_parse_memory", "table_dir"]

logger = logging.getLogger(__name__)

# frame id -> (weak reference to the frame, its file); refcount per file for deletion.
_FRAMES: dict[int, tuple[weakref.ref[pd.DataFrame], Path]] = {}
_USERS: dict[Path, int] = {}
_LOCK = threading.Lock()
_SWEPT = False
_STALE_AFTER_S = 24 * 3600


def table_dir() -> Path:
    """The folder holding mapped tables (``<LIVECHAT_DATA_DIR>/tables``)."""
    return data_dir() / "tables"


def mapped_file(df: pd.DataFrame) -> Path | None:
    """The table folder ``df`` was rebuilt over by ``map_table``, or None.

    Only that very frame counts: a frame derived from it (a filter, a copy) has its own
    identity and gets None, so no tool ever scans a file for a different table.
    """
    with _LOCK:
        entry = _FRAMES.get(id(df))
    if entry is None or entry[0]() is not df:
        return None
    return entry[1] if entry[1].is_dir() else None


def map_table(table: LoadedTable, key: str) -> LoadedTable:
    """Return ``table`` with its frame rebuilt over a memory-mapped Arrow file.

    ``key`` names the table's content and reading options (the same key yields the same
    file; it is hashed into the file name). On any I/O failure the original table comes
    back unchanged (logged): the app then works as before, only without sharing.
    """
    path = table_dir() / hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    _sweep_once(path.parent)
    try:
        if not path.is_dir():
            write_table_folder(to_arrow(table.df), path)
        arrow = open_table_folder(path)
        df = _frame_over(arrow, table.df)
    except (OSError, pa.ArrowException) as exc:
        logger.warning("table %s kept in memory (the shared file is not usable: %s)", table.name, exc)
        return table
    _register(df, path)
    return dataclasses.replace(table, df=df)


def _sweep_once(folder: Path) -> None:
    """Delete files a stopped process left behind (its frames were never collected), once
    per process. Only old ones: another replica may share the folder, and even then its
    mappings survive the unlink (it only streams to a restarted worker instead)."""
    global _SWEPT
    with _LOCK:
        if _SWEPT:
            return
        _SWEPT = True
    cutoff = time.time() - _STALE_AFTER_S
    try:
        for leftover in folder.iterdir():
            if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
    except OSError:
        pass  # no folder yet, or not ours to clean


def release_parse_memory() -> None:
    """Hand memory freed after a parse back to the operating system.

    pyarrow's allocator (mimalloc or jemalloc) and glibc's malloc both keep freed pages
    for reuse; after a big load that is hundreds of MB the process no longer needs
    (measured: 1M x 20 CSV, RSS 900 MB -> 400 MB).
    """
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _frame_over(arrow: pa.Table, original: pd.DataFrame) -> pd.DataFrame:
    """A frame equal to ``original`` whose columns use ``arrow``'s buffers where possible."""
    columns = {}
    for position in range(original.shape[1]):
        source = original.iloc[:, position]
        columns[position] = _column_over(arrow.column(position), source)
    df = pd.DataFrame(columns, copy=False)
    df.columns = original.columns
    df.index = original.index
    return df


def _column_over(chunked: pa.ChunkedArray, source: pd.Series) -> pd.Series:
    """``source``'s values over the mapped column when that is exact; else a copy."""
    dtype = source.dtype
    shared: pd.Series | None = None
    if isinstance(dtype, np.dtype) and dtype.kind in "iufmM" and chunked.num_chunks == 1:
        shared = _numpy_over(chunked.chunk(0), dtype)
    elif isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and pa.types.is_large_string(chunked.type):
        try:
            shared = pd.Series(pd.array(chunked, dtype=dtype), copy=False)
        except (TypeError, ValueError, pa.ArrowException):
            shared = None
    if shared is not None and shared.dtype == dtype and len(shared) == len(source):
        shared.index = source.index
        return shared
    return source.copy(deep=True)


def _numpy_over(array: pa.Array, dtype: np.dtype) -> pd.Series | None:
    """A NumPy view of a fixed-width column's data buffer, or None when it differs.

    ``to_arrow`` marks NaN/NaT as null but leaves the value in the data buffer, so the
    buffer itself is the original column; that is checked (null slots hold NaN/NaT).
    """
    buffers = array.buffers()
    if len(buffers) != 2 or buffers[1] is None or array.type.bit_width != dtype.itemsize * 8:
        return None
    values = np.frombuffer(buffers[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)
    if array.null_count:
        if dtype.kind not in "fmM":
            return None  # an int column with nulls is not a plain NumPy column
        missing = np.isnan(values) if dtype.kind == "f" else np.isnat(values)
        if not np.array_equal(missing, array.is_null().to_numpy(zero_copy_only=False)):
            return None
    return pd.Series(values, copy=False)


def _register(df: pd.DataFrame, path: Path) -> None:
    frame_id = id(df)

    def _release(_ref: object) -> None:
        with _LOCK:
            if _FRAMES.get(frame_id, (None,))[0] is ref:
                del _FRAMES[frame_id]
            left = _USERS.get(path, 1) - 1
            if left > 0:
                _USERS[path] = left
                return
            _USERS.pop(path, None)
        shutil.rmtree(path, ignore_errors=True)  # no frame of this process maps it any more

    ref = weakref.ref(df, _release)
    with _LOCK:
        _FRAMES[frame_id] = (ref, path)
        _USERS[path] = _USERS.get(path, 0) + 1
