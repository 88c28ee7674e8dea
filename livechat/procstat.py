"""Memory of a process, read from ``/proc`` (Linux): the SQL worker sizes its address-space
cap with it; the SQL security tests and the benchmarks measure peak memory with it; the
app weighs a load against its memory limit with ``tree_memory_bytes`` (itself and its
children: SQL workers, the built-in emulator).

RSS counts a page shared by two processes (a memory-mapped table) in each of them;
PSS (proportional set size) splits it between them, so the PSS of a process tree sums to
what the tree really holds. Tree figures use PSS for that reason.

Thread affinity: any thread. ``PeakRss`` samples on a thread of its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _statm_field(pid: int | str, index: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[index]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0  # the process is gone (e.g. a SQL worker just killed or replaced)


def rss_bytes(pid: int | str | None = "self") -> int:
    """Resident memory of ``pid`` (default: this process); 0 for None or a process that is gone."""
    return 0 if pid is None else _statm_field(pid, 1)


def address_space_bytes(pid: int | str = "self") -> int:
    """Virtual memory size of ``pid`` (what RLIMIT_AS counts); 0 for a process that is gone."""
    return _statm_field(pid, 0)


def pss_bytes(pid: int | str | None = "self") -> int:
    """Proportional set size of ``pid`` (shared pages split among their users); 0 if gone."""
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return rss_bytes(pid)  # no smaps_rollup (old kernel, or the process is gone)


def tree_pids(root: int | None = None) -> list[int]:
    """``root`` (default: this process) and all its descendants, read from ``/proc``."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                # The name (field 2) may hold spaces and parentheses: split after the last ")".
                ppid = int(stat.read().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def tree_memory_bytes(root: int | None = None) -> int:
    """What ``root``'s process tree holds in memory: the sum of its processes' PSS."""
    return sum(pss_bytes(pid) for pid in tree_pids(root))


class PeakRss:
    """Samples the summed RSS of ``pids()`` every ``interval_s`` until the ``with`` block ends.

    ``pids`` is called at every sample, so a worker replaced mid-measurement is followed.
    ``baseline`` is taken on entry; ``peak`` is the largest sum seen (``added`` = peak - baseline).
    """

    def __init__(self, pids: Callable[[], Iterable[int | None]], *, interval_s: float = 0.005) -> None:
        self._pids = pids
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.baseline = 0
        self.peak = 0

    def total(self) -> int:
        """The summed RSS right now."""
        return sum(rss_bytes(pid) for pid in self._pids())

    @property
    def added(self) -> int:
        return self.peak - self.baseline

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.peak = max(self.peak, self.total())

    def __enter__(self) -> PeakRss:
        self.baseline = self.peak = self.total()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            raise RuntimeError("the RSS sampler thread did not stop within 5 s")
