"""Keep an upload's bytes on disk instead of in memory, still readable as bytes.

Once a table is loaded the app needs the original file only if the analyst asks to read
it again another way (another sheet, encoding or header row). ``spill_bytes`` writes the
bytes to ``<data dir>/uploads/``, memory-maps them read-only and unlinks the file at
once: the returned ``mmap`` reads like ``bytes`` (hashing, slicing, ``bytes(...)``), its
pages are clean page cache the system can drop under pressure, and the disk space is
freed when the mapping is garbage-collected. Nothing is left to clean up, even after a
crash (an unlinked file has no name to leak).

Any thread.
"""

from __future__ import annotations

import logging
import mmap
import os
import tempfile

from livechat.data.paths import data_dir

__all__ = ["spill_bytes"]

logger = logging.getLogger(__name__)


def spill_bytes(data: bytes) -> bytes | mmap.mmap:
    """``data`` as a read-only mapping of an unlinked file; ``data`` itself when that fails
    (no writable disk, or empty data)."""
    if not data:
        return data
    folder = data_dir() / "uploads"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, path = tempfile.mkstemp(prefix="upload-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as sink:
                sink.write(data)
            with open(path, "rb") as source:
                mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        finally:
            os.unlink(path)
    except OSError as exc:
        logger.warning("upload kept in memory (cannot spill it to %s: %s)", folder, exc)
        return data
    return mapped
