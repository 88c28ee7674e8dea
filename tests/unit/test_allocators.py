"""Importing ``livechat`` sets the allocators up so freed memory goes back to the system.

Each case runs in a fresh interpreter: the settings act on process start-up (mimalloc
reads its options when pyarrow loads) and on every later allocation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MIMALLOC_", "MALLOC_"))}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**clean, **env}, timeout=120, check=True)


def _eager_commit(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "option 'arena_eager_commit'" in line]
    assert lines, f"mimalloc printed no options:\n{stderr[-2000:]}"
    return lines[0].rsplit(":", 1)[1].strip()


def test_pyarrows_mimalloc_does_not_commit_arenas_eagerly_once_livechat_is_imported() -> None:
    # MIMALLOC_VERBOSE makes mimalloc print the options it read when libarrow loaded.
    ours = _run("import livechat, pyarrow; pyarrow.default_memory_pool()", MIMALLOC_VERBOSE="1")
    before = _run("import pyarrow, livechat; pyarrow.default_memory_pool()", MIMALLOC_VERBOSE="1")
    assert _eager_commit(ours.stderr) == "0"
    assert _eager_commit(before.stderr) != "0", "pyarrow loaded first: the setting cannot apply"


def test_an_operators_own_mimalloc_setting_wins() -> None:
    result = _run("import livechat, pyarrow; pyarrow.default_memory_pool()",
                  MIMALLOC_VERBOSE="1", MIMALLOC_ARENA_EAGER_COMMIT="1")
    assert _eager_commit(result.stderr) == "1"


_FRAGMENTS = """
import ctypes, sys
if {tuned}:
    import livechat
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon"):
            return int(line.split()[1]) * 1024
def fill(n, size):
    blocks, pins = [], []
    for _ in range(n):
        blocks.append(libc.malloc(size))
        ctypes.memset(blocks[-1], 1, size)
        pins.append(libc.malloc(4096))  # a small block kept between them (fragmentation)
    return blocks
for b in fill(1, 30 << 20):  # a big block freed: glibc now keeps blocks up to 30 MB in its heap
    libc.free(b)
start = anon()
blocks = fill(40, 2 << 20)  # 80 MB of 2 MB blocks (a million-row column is 1-8 MB)
for b in blocks:
    libc.free(b)
print(anon() - start)
"""


def test_freed_blocks_of_a_few_mb_go_back_to_the_system() -> None:
    tuned = int(_run(_FRAGMENTS.format(tuned=True)).stdout)
    untuned = int(_run(_FRAGMENTS.format(tuned=False)).stdout)
    assert untuned > 60 << 20, f"glibc kept only {untuned >> 20} MB: this test no longer shows the problem"
    assert tuned < 8 << 20, f"{tuned >> 20} MB of freed blocks stayed resident"
