"""The background writer: every store write leaves the page run and the audio path here.

The shape of sentry-python's transport worker (and CPython's ``QueueListener``): one
thread, a bounded queue, ``submit`` that never blocks the caller (``put_nowait``), a
sentinel to stop, ``flush(timeout)`` at exit. Unlike a telemetry worker a dropped write
is counted and shown (``StoreStatus.dropped``): this is the analyst's data.

Keyed jobs coalesce: a record saved three times before the writer got to it is written
once, with the latest snapshot (``submit(job, key=...)``). When the store is unreachable
or refuses a write (full disk, locked, down), the job is parked, the status says why,
and the writer tries again every ``retry_s`` seconds; once the store answers, parked jobs
run in order. The retention sweep runs on this thread too: at start and every
``sweep_every_s`` seconds.

Threads: ``submit``, ``status``, ``read`` from any thread; jobs run on the
``livechat-store-writer`` thread only; ``close`` from the owner (shutdown).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from livechat.store.repository import BlobMissingError, ConversationStore, StoreError

__all__ = ["Job", "StoreStatus", "StoreWriter"]

logger = logging.getLogger(__name__)

Job = Callable[[ConversationStore], Any]
T = TypeVar("T")

DEFAULT_MAX_QUEUE = 256
DEFAULT_RETRY_S = 10.0
DEFAULT_SWEEP_EVERY_S = 3600.0
_STOP = object()


@dataclass(frozen=True)
class StoreStatus:
    """Whether writes reach the store, and if not why; writes lost so far."""

    saving: bool
    reason: str | None
    dropped: int
    pending: int


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


class StoreWriter:
    """Runs store jobs on one background thread; see the module docstring."""

    def __init__(self, opener: Callable[[], ConversationStore], *, keep_s: float | None = None,
                 max_queue: int = DEFAULT_MAX_QUEUE, retry_s: float = DEFAULT_RETRY_S,
                 sweep_every_s: float = DEFAULT_SWEEP_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._opener = opener
        self._keep_s = keep_s
        self._max = max_queue
        self._retry_s = retry_s
        self._sweep_every = sweep_every_s
        self._clock = clock
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._keyed: dict[str, Job] = {}
        self._parked: deque[tuple[str | None, Job]] = deque()
        self._store: ConversationStore | None = None
        self._reason: str | None = "the store has not been opened yet"
        self._dropped = 0
        self._next_retry = 0.0
        self._next_sweep = 0.0
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ owner

    def start(self) -> StoreWriter:
        """Open the store now (so the first page can read it), then start the thread."""
        self._connect()
        self._thread = threading.Thread(target=self._run, name="livechat-store-writer", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued (within ``timeout``), stop the thread, close the store.

        Returns True when everything queued was written."""
        if self._closed:
            return True
        self._closed = True
        flushed = self.flush(timeout)
        if self._thread is not None:
            try:
                self._queue.put(_STOP, timeout=max(0.1, timeout))
            except queue.Full:
                logger.warning("Store writer: queue still full at close")
            self._thread.join(timeout)
        with self._lock:
            store, self._store = self._store, None
            lost = len(self._parked) + len(self._keyed)
        if lost:
            logger.warning("Store writer closed with %d write(s) not done", lost)
        if store is not None:
            store.close()
        return flushed and not lost

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every job submitted before this call has run (or was parked)."""
        if self._thread is None or not self._thread.is_alive():
            return self._queue.empty()
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.done.wait(timeout)

    # ------------------------------------------------------------------ any thread

    def submit(self, job: Job, *, key: str | None = None) -> bool:
        """Queue ``job`` without blocking; False (and counted) when the queue is full.

        With ``key``, a job still waiting under the same key is replaced by this one."""
        with self._lock:
            if self._closed:
                self._dropped += 1
                return False
            if key is not None and key in self._keyed:
                self._keyed[key] = job
                return True
            try:
                self._queue.put_nowait(key if key is not None else job)
            except queue.Full:
                self._dropped += 1
                logger.warning("Store writer: queue full, a write was dropped (%d so far)", self._dropped)
                return False
            if key is not None:
                self._keyed[key] = job
            return True

    def status(self) -> StoreStatus:
        """Saving or not (and why), writes dropped, writes waiting."""
        with self._lock:
            return StoreStatus(saving=self._reason is None, reason=self._reason, dropped=self._dropped,
                               pending=self._queue.qsize() + len(self._parked))

    def read(self, fn: Callable[[ConversationStore], T], default: T) -> T:
        """``fn(store)`` on the caller's thread, or ``default`` when the store is down.

        A failing read marks the store down (the writer retries), like a failing write; a
        missing table (``BlobMissingError``) is the caller's to report and is raised."""
        with self._lock:
            store = self._store if self._reason is None else None
        if store is None:
            return default
        try:
            return fn(store)
        except BlobMissingError:
            raise
        except StoreError as exc:
            self._down(exc.reason)
            return default

    # ------------------------------------------------------------------ the writer thread

    def _connect(self) -> bool:
        with self._lock:
            store = self._store
        try:
            if store is None:
                store = self._opener()
            else:
                store.ping()
        except StoreError as exc:
            self._down(exc.reason)
            return False
        with self._lock:
            self._store, self._reason = store, None
        logger.info("Store: saving conversations")
        return True

    def _down(self, reason: str) -> None:
        with self._lock:
            if self._reason != reason:
                logger.warning("Store: conversations are not being saved: %s", reason)
            self._reason = reason
            self._next_retry = self._clock() + self._retry_s

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._wait_s())
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            self._housekeeping()
            if isinstance(item, _Flush):
                item.done.set()
            elif isinstance(item, str):
                with self._lock:
                    job = self._keyed.pop(item, None)
                if job is not None:
                    self._do(item, job)
            elif item is not None:
                self._do(None, item)

    def _wait_s(self) -> float:
        with self._lock:
            due = self._next_retry if self._reason is not None else self._next_sweep
        return min(max(0.05, due - self._clock()), 60.0)

    def _housekeeping(self) -> None:
        """Reconnect when due (then run the parked jobs), sweep when due."""
        now = self._clock()
        with self._lock:
            down, retry_due = self._reason is not None, now >= self._next_retry
        if down and retry_due and self._connect():
            self._replay()
        with self._lock:
            sweep = self._reason is None and self._keep_s is not None and now >= self._next_sweep
            if sweep:
                self._next_sweep = now + self._sweep_every
        if sweep:
            self._do(None, lambda store: store.sweep(keep_s=self._keep_s))

    def _replay(self) -> None:
        while True:
            with self._lock:
                if not self._parked or self._reason is not None:
                    return
                key, job = self._parked.popleft()
                if key is not None and key in self._keyed:
                    continue  # a newer version of this write is queued
            self._do(key, job)

    def _do(self, key: str | None, job: Job) -> None:
        with self._lock:
            store = self._store if self._reason is None else None
        if store is None:
            self._park(key, job)
            return
        try:
            job(store)
        except StoreError as exc:
            self._down(exc.reason)
            self._park(key, job)
        except Exception:  # a bug in a job: logged and counted, never retried forever
            logger.exception("Store writer: a write failed")
            with self._lock:
                self._dropped += 1

    def _park(self, key: str | None, job: Job) -> None:
        with self._lock:
            self._parked.append((key, job))
            while len(self._parked) > self._max:
                self._parked.popleft()
                self._dropped += 1
