"""The background asyncio loop that every Live session of the process runs on.

Why one loop for all sessions, not a thread and a loop each: every Live session is I/O
plus small bursts of Python (the SDK's message building and parsing, TLS, websocket
framing), and all of that holds the one GIL. With a thread per session, each burst is a
thread that must win the GIL from the others and from the WebRTC media thread; at 50
concurrent voice sessions that hand-off dominated (33,000 context switches a second,
0.8 of a core in the app process, replies' first audio p95 60-120 ms late). On one
loop the same work is a queue of callbacks run back to back: 0.4 of a core and p95
within 32 ms each way (``bench/bench_sessions.py``, README "Figures"). What the
per-session thread was for still holds: a session outlives Streamlit reruns and ends with
its stream or browser session, because it lives here, not in the script thread.

Lifetime: the loop's thread (``livechat-live-loop``) starts with the first session that
``acquire``s the loop and ends after the last one ``release``s it, so an idle app has no
such thread and leak tests see the thread count back at its baseline. A session acquired
while the previous loop is winding down gets a fresh loop and thread.

Rule for code on this loop: never block. Anything slow or CPU-heavy (tools, SQL) runs in
a thread pool and is awaited; a blocking call here would stall every session's audio.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

__all__ = ["SharedLoop", "live_loop"]

logger = logging.getLogger(__name__)

THREAD_NAME = "livechat-live-loop"


class SharedLoop:
    """A reference-counted asyncio loop on its own daemon thread (see module docstring)."""

    def __init__(self, thread_name: str = THREAD_NAME) -> None:
        self._thread_name = thread_name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._users = 0
        # Threads of loops whose last user has gone; they finish cleaning up on their own.
        self._retiring: list[threading.Thread] = []

    @property
    def users(self) -> int:
        """How many acquisitions of the current loop have not been released (any thread)."""
        with self._lock:
            return self._users

    def acquire(self) -> asyncio.AbstractEventLoop:
        """Return the running shared loop, starting its thread if needed (any thread).

        Every ``acquire`` must be paired with one ``release(loop)`` of the loop it returned.
        """
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=self._serve, args=(loop,),
                                          name=self._thread_name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            self._users += 1
            return self._loop

    def release(self, loop: asyncio.AbstractEventLoop) -> None:
        """Give back one acquisition of ``loop`` (any thread, the loop's own included).

        When the last user releases it, the loop stops: its thread cancels whatever is
        left on it, shuts down its executor and async generators, closes it and ends.
        """
        with self._lock:
            if loop is not self._loop or self._users <= 0:
                raise RuntimeError("release() of a loop this SharedLoop did not hand out")
            self._users -= 1
            if self._users:
                return
            thread = self._thread
            self._loop = self._thread = None
            self._retiring = [t for t in self._retiring if t.is_alive()]
            if thread is not None:
                self._retiring.append(thread)
        loop.call_soon_threadsafe(loop.stop)

    def is_loop_thread(self) -> bool:
        """True when called on a thread that runs (or ran) one of this object's loops."""
        current = threading.current_thread()
        with self._lock:
            return current is self._thread or current in self._retiring

    def join_retired(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the threads of released loops to end (any thread).

        True when none is left. The loop threads themselves are skipped (they cannot wait
        for themselves).
        """
        deadline = time.monotonic() + timeout
        current = threading.current_thread()
        with self._lock:
            threads = [t for t in self._retiring if t is not current]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._retiring = [t for t in self._retiring if t.is_alive()]
            return not any(t is not current for t in self._retiring)

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        """Thread body: run the loop until its last user releases it, then tear it down."""
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                # Each session cancels and awaits its own tasks; what is left here belongs
                # to libraries (a keepalive, a finaliser) and must not outlive the loop.
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            except Exception:  # never leave the thread with an exception and no trace
                logger.exception("shared live loop: teardown failed")
            finally:
                asyncio.set_event_loop(None)
                loop.close()


# The process's one shared loop for Live sessions (LiveSession's default).
live_loop = SharedLoop()
