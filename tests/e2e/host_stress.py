"""A starved host, on purpose: busy loops on every core, and a browser frozen with SIGSTOP.

For the browser tests of a voice call that must survive both (issue 33) and for
``bench/bench_e2e.py --load``. Every process started here is stopped here (by pid).

Threads: the test's (or benchmark's) main thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

# A bounded busy loop: it ends on its own after the given seconds even if nobody stops it.
_BUSY = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def busy_loops(count: int, seconds: float, *, pin: bool = True) -> Iterator[list[subprocess.Popen]]:
    """``count`` busy-loop processes at the caller's priority for ``seconds`` (bounded).

    With ``pin``, loop i runs on core ``i % cores`` (one per core: "both cores" on a 2-core
    host). Each runs in its own session, like another program on the host: Linux's
    autogroup scheduler shares CPU between sessions first, so a loop started in the test's
    session would compete only with that session (the in-process emulator), not with the
    app and the browser as a neighbour does. On leaving, any loop still running is killed
    and every one is reaped.
    """
    cores = sorted(os.sched_getaffinity(0))
    procs: list[subprocess.Popen] = []
    try:
        for index in range(count):
            proc = subprocess.Popen([sys.executable, "-c", _BUSY, str(seconds)], start_new_session=True)
            procs.append(proc)
            if pin:
                with contextlib.suppress(OSError):  # it may have ended already
                    os.sched_setaffinity(proc.pid, {cores[index % len(cores)]})
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for proc in procs:
            proc.wait(timeout=10)


def wait_for_loops(procs: list[subprocess.Popen], timeout: float) -> None:
    """Wait until the loops ended by themselves (they are bounded)."""
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))


def browser_pids(profile_dir: Path) -> list[int]:
    """Chromium's processes for the browser using ``profile_dir``: its main process and
    every descendant (zygotes, renderers, the network and audio services), from /proc."""
    parents: dict[int, int] = {}
    roots: list[int] = []
    marker = f"--user-data-dir={profile_dir}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:  # it exited meanwhile
            continue
        parents[pid] = int(stat[stat.rindex(b")") + 2:].split()[1])  # field 4, after "(comm)"
        if marker in cmdline and b"chrom" in cmdline.split(b"\0", 1)[0]:
            roots.append(pid)
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted(found)


@contextlib.contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """SIGSTOP ``pids`` (a frozen tab, a laptop lid); SIGCONT them on leaving, whatever happens."""
    stopped: list[int] = []
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def load_average() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]
