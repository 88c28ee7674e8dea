"""Know the budget: refuse, before parsing, a file the server's memory cannot hold.

A hosted app has a hard memory limit (Streamlit Community Cloud: 690 MB to 2.7 GB) and
is stopped for everyone when it goes over. So before a file is read, its cost is
estimated from what the file declares (bytes; an .xlsx sheet's declared dimensions; a
Parquet footer's uncompressed size) and weighed against the limit minus what the app's
process tree already holds. A file that would not fit raises ``MemoryBudgetError`` (a
``DataLoadError``, so the Data page shows its words and keeps the current table).

The limit is ``LIVECHAT_MEMORY_LIMIT_MB`` when set, else the container's cgroup limit
(v2 ``memory.max``, v1 ``memory.limit_in_bytes``), else none (nothing is refused).

The estimate is the *peak* a load adds (parse buffers and the finished frame together),
from factors measured with ``bench/bench_memory.py`` on the 1M x 20 benchmark CSV; it
errs on the large side. Pure functions over the bytes and ``/proc``/``/sys``; any thread.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from livechat.data.load import file_name_and_extension
from livechat.data.loaders.common import DataLoadError
from livechat.data.loaders.xlsx_dimensions import xlsx_dimensions

__all__ = [
    "MEMORY_LIMIT_ENV",
    "MemoryBudgetError",
    "check_fits",
    "estimate_load_bytes",
    "format_gb",
    "memory_limit_bytes",
]

logger = logging.getLogger(__name__)

MEMORY_LIMIT_ENV = "LIVECHAT_MEMORY_LIMIT_MB"
# Frame bytes per file byte, by format (text: numbers and words take about what their
# digits did; measured 1.08 for the benchmark CSV). Compressed containers expand more.
_FRAME_PER_BYTE = {".csv": 1.2, ".tsv": 1.2, ".txt": 1.2, ".json": 1.0, ".jsonl": 1.0,
                   ".xls": 1.5, ".ods": 10.0, ".xlsx": 10.0, ".xlsm": 10.0, ".parquet": 5.0}
_BYTES_PER_CELL = 12  # an .xlsx sheet's declared cell: 8-byte numbers, short text
# Peak added while loading, per byte of the finished frame (the frame itself included).
LOAD_PEAK_PER_FRAME = 2.5
_CGROUP_V2 = Path("/sys/fs/cgroup/memory.max")
_CGROUP_V1 = Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")
_NO_LIMIT_V1 = 1 << 60  # cgroup v1 writes "unlimited" as a number near 2**63


class MemoryBudgetError(DataLoadError):
    """Loading the file would take more memory than the server has free."""

    def __init__(self, message: str, *, filename: str | None, needed: int, free: int) -> None:
        super().__init__(message, filename=filename)
        self.needed = needed
        self.free = free


def memory_limit_bytes(env: dict[str, str] | None = None) -> int | None:
    """The memory the app may use: ``LIVECHAT_MEMORY_LIMIT_MB``, else the cgroup's, else None.

    A value that is not a positive number is ignored (logged), as if unset.
    """
    raw = (os.environ if env is None else env).get(MEMORY_LIMIT_ENV, "").strip()
    if raw:
        try:
            value = float(raw)
            if value > 0:
                return int(value * 2**20)
        except ValueError:
            pass
        logger.warning("%s=%r is not a positive number of MB; ignored", MEMORY_LIMIT_ENV, raw)
    return _cgroup_limit()


def _cgroup_limit() -> int | None:
    for path in (_CGROUP_V2, _CGROUP_V1):
        try:
            text = path.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text == "max":
            return None
        try:
            value = int(text)
        except ValueError:
            continue
        return value if 0 < value < _NO_LIMIT_V1 else None
    return None


def estimate_load_bytes(data: bytes, filename: str) -> int:
    """The peak memory loading ``data`` as ``filename`` would add, in bytes (an estimate)."""
    ext = file_name_and_extension(filename)[1]
    frame = len(data) * _FRAME_PER_BYTE.get(ext, 1.2)
    if ext in (".xlsx", ".xlsm"):
        cells = _declared_cells(data)
        if cells is not None:
            frame = cells * _BYTES_PER_CELL
    elif ext == ".parquet":
        size = _parquet_size(data)
        if size is not None:
            frame = size
    return int(frame * LOAD_PEAK_PER_FRAME)


def check_fits(data: bytes, filename: str, *, in_use: int, limit: int | None) -> None:
    """Raise ``MemoryBudgetError`` when loading ``data`` would pass ``limit``.

    ``in_use`` is what the app's process tree holds now; ``limit`` None means no limit.
    """
    if limit is None:
        return
    needed = estimate_load_bytes(data, filename)
    free = max(0, limit - in_use)
    if needed <= free:
        return
    name = file_name_and_extension(filename)[0]
    raise MemoryBudgetError(
        f"{name} needs about {format_gb(needed)} of memory to load; this server has "
        f"{format_gb(free)} free (of {format_gb(limit)}): try a smaller extract "
        "(fewer rows or columns), or remove other tables first.",
        filename=name, needed=needed, free=free,
    )


def format_gb(n_bytes: float) -> str:
    """``1.4 GB``, or ``350 MB`` under a gigabyte (decimal units, as hosts quote them)."""
    if n_bytes >= 1e9:
        return f"{n_bytes / 1e9:.1f} GB"
    return f"{max(n_bytes, 0) / 1e6:,.0f} MB"


def _declared_cells(data: bytes) -> int | None:
    try:
        sheets = xlsx_dimensions(data)
    except Exception:  # a damaged workbook: the loader says so in its own words
        return None
    if not sheets:
        return None
    return max(rows * columns for rows, columns in sheets.values())


def _parquet_size(data: bytes) -> int | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
    except (pa.ArrowException, OSError, ValueError):
        return None
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
