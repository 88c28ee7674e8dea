"""Allocator settings so memory a big table's work frees goes back to the system.

Issue 29 measures the whole process tree as a container limit sees it (resident pages).
Two allocators kept pages the app had freed:

- pyarrow's default pool (mimalloc) commits its arenas eagerly and then never purges
  them: after parsing and mapping a 1M x 20 CSV, 26 MB stayed resident with nothing
  allocated (``pyarrow.total_allocated_bytes() == 0``); with
  ``MIMALLOC_ARENA_EAGER_COMMIT=0`` it was 0-2 MB, at the same parse speed. mimalloc
  reads its options once, when ``libarrow`` loads, so the variable must be in the
  environment before anything imports pyarrow (pandas does): ``configure`` runs when
  the ``livechat`` package is first imported, and the SQL worker inherits it.
- glibc's malloc raises its mmap threshold after freeing a big block (up to 32 MB), so
  later blocks of a few MB (pandas and NumPy temporaries of a million rows) land in its
  arenas and stay there, fragmented, after they are freed. A fixed threshold keeps such
  blocks in their own mappings, unmapped when freed; a fixed trim threshold gives a
  freed top of an arena back at once.

A setting already in the environment wins (``setdefault``): an operator can still tune
mimalloc. Any thread, once per process (importing ``livechat`` calls ``configure``).
"""

from __future__ import annotations

import ctypes
import logging
import os

__all__ = ["MALLOC_MMAP_THRESHOLD", "MALLOC_TRIM_THRESHOLD", "MIMALLOC_SETTINGS", "configure"]

logger = logging.getLogger(__name__)

MIMALLOC_SETTINGS = {"MIMALLOC_ARENA_EAGER_COMMIT": "0"}
MALLOC_MMAP_THRESHOLD = 1 << 20  # blocks of 1 MB and more: a mapping of their own
MALLOC_TRIM_THRESHOLD = 8 << 20  # a free top of an arena over 8 MB goes back at once
_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3


def configure() -> None:
    """Set the allocators up (see the module docstring); safe to call more than once."""
    for name, value in MIMALLOC_SETTINGS.items():
        os.environ.setdefault(name, value)
    _tune_glibc_malloc()


def _tune_glibc_malloc() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return
    for parameter, value in ((_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)):
        if mallopt(parameter, value) != 1:
            logger.info("mallopt(%d, %d) was refused; the default malloc settings stay", parameter, value)
