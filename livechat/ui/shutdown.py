"""Restarts that end calls cleanly: what a replica does on SIGTERM.

A restart (a deploy, a scale-in, ``systemctl restart``) sends SIGTERM. Left to itself,
Streamlit stops its server at once and every running call is cut mid-word. Instead:

1. the replica stops accepting voice sessions (``draining()``: the Talk page offers no
   START and refuses typed questions, with a message);
2. every running conversation is told (a transcript notice, and the badge reads
   ``Session: closed``: ``talk`` renders that while draining);
3. every voice bridge is closed (its Live session ends with a normal 1000 close) and
   every WebRTC stream's peer connection is closed, all in parallel within
   ``CLOSE_BOUND_S``;
4. the page gets a moment (``NOTICE_GRACE_S``) to show the notice; then the SQL workers
   and the built-in emulator are stopped, and Streamlit's own SIGTERM handler runs, which
   stops the server; the process exits 0.

A second SIGTERM during the drain goes straight to Streamlit's handler.

The handler is installed once per process (``install()``, from the app shell's first
run). Python only lets the main thread set signal handlers, and Streamlit's main thread
runs its asyncio event loop, so the installation is scheduled on that loop.

Threads: ``register_*``, ``draining``, ``acknowledge`` run on session script threads;
the signal handler runs on the main thread and only starts the ``livechat-drain``
thread, which does the work and never blocks the event loop.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "CLOSE_BOUND_S",
    "DRAINING_MESSAGE",
    "SHUTDOWN_NOTICE",
    "Drain",
    "acknowledge",
    "draining",
    "install",
    "register_bridge",
    "register_closer",
    "register_stream",
    "register_toolbox",
]

# The bound: Live connections and WebRTC streams closed within 5 s of SIGTERM.
CLOSE_BOUND_S = 5.0
# Time for each page's next poll (every 0.4 s) to show the notice before the server stops.
NOTICE_GRACE_S = 2.0
# After the last page acknowledged: its delta still has to travel to the browser.
DELIVERY_S = 0.5

SHUTDOWN_NOTICE = ("This server is restarting, so your call was ended. "
                   "Reload the page in a moment to continue (your tables and this conversation are kept, "
                   "unless the page says conversations are not being saved).")
DRAINING_MESSAGE = ("This server is restarting and takes no new voice sessions. "
                    "Reload the page in a moment to continue.")


class Drain:
    """One process's shutdown state and the resources to end (thread-safe).

    Holds bridges, streams and toolboxes weakly: a browser session that ends on its own
    drops them, and the drain never keeps one alive.
    """

    def __init__(self, *, close_bound_s: float = CLOSE_BOUND_S, notice_grace_s: float = NOTICE_GRACE_S,
                 delivery_s: float = DELIVERY_S) -> None:
        self._lock = threading.Lock()
        self._bridges: weakref.WeakSet[Any] = weakref.WeakSet()
        self._streams: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._toolboxes: weakref.WeakSet[Any] = weakref.WeakSet()
        self._closers: list[Callable[[], Any]] = []  # run last (the store writer's flush)
        self._acknowledged: weakref.WeakSet[Any] = weakref.WeakSet()
        self._draining = threading.Event()
        self._closed = threading.Event()
        self._all_told = threading.Condition(self._lock)
        self._to_tell: list[weakref.ReferenceType[Any]] = []
        self._close_bound = close_bound_s
        self._notice_grace = notice_grace_s
        self._delivery = delivery_s

    # ---- registration (script threads)

    def register_bridge(self, bridge: Any) -> None:
        """Track a browser session's VoiceBridge (anything with ``close(timeout)``)."""
        with self._lock:
            self._bridges.add(bridge)

    def register_stream(self, bridge: Any, context: Any) -> None:
        """Track the streamlit-webrtc context whose peer connection carries ``bridge``'s audio."""
        with self._lock:
            self._streams[bridge] = weakref.ref(context)

    def register_toolbox(self, toolbox: Any) -> None:
        """Track a ToolBox (its SQL worker is stopped at the end of the drain)."""
        with self._lock:
            self._toolboxes.add(toolbox)

    def register_closer(self, closer: Callable[[], Any]) -> None:
        """Call ``closer()`` at the end of the drain (held strongly: process-wide resources)."""
        with self._lock:
            self._closers.append(closer)

    # ---- state

    def draining(self) -> bool:
        """True from SIGTERM on: no new voice session may start (any thread)."""
        return self._draining.is_set()

    def acknowledge(self, bridge: Any) -> bool:
        """A page showed the notice for ``bridge``'s session; True the first time (script thread)."""
        with self._lock:
            if bridge in self._acknowledged:
                return False
            self._acknowledged.add(bridge)
            self._all_told.notify_all()
            return True

    # ---- the drain (the drain thread)

    def begin(self) -> None:
        """Refuse new voice sessions from now on (any thread; the signal handler calls it)."""
        self._draining.set()

    def run(self, *, stop_emulator: Callable[[], None] | None = None) -> dict[str, Any]:
        """End everything; return what was done (counts and seconds) for the log and tests."""
        started = time.monotonic()
        self.begin()
        with self._lock:
            bridges = [b for b in list(self._bridges) if not getattr(b, "closed", False)]
            streams = [(b, ref()) for b, ref in list(self._streams.items())]
            self._to_tell = [weakref.ref(b) for b in bridges]
        contexts = [c for _, c in streams if c is not None]
        logger.info("SIGTERM: draining %d voice bridge(s) and %d stream(s)", len(bridges), len(contexts))
        per_item = max(0.5, self._close_bound - 0.5)
        with ThreadPoolExecutor(max_workers=max(1, len(bridges) + len(contexts)),
                                thread_name_prefix="livechat-drain-close") as pool:
            futures = [pool.submit(_close_bridge, b, per_item) for b in bridges]
            futures += [pool.submit(_stop_stream, c, per_item) for c in contexts]
            done, pending = wait(futures, timeout=self._close_bound)
        closed_s = time.monotonic() - started
        if pending:
            logger.warning("SIGTERM: %d close(s) still running after %.1f s", len(pending), self._close_bound)
        self._closed.set()
        told = self._wait_until_told(bridges)
        with self._lock:
            toolboxes = list(self._toolboxes)
        for toolbox in toolboxes:
            try:
                toolbox.close()
            except Exception:  # one worker that will not stop must not keep the others
                logger.exception("SIGTERM: a SQL worker did not stop")
        if stop_emulator is not None:
            try:
                stop_emulator()
            except Exception:
                logger.exception("SIGTERM: the offline emulator did not stop")
        with self._lock:
            closers = list(self._closers)
        for closer in closers:
            try:
                closer()
            except Exception:
                logger.exception("SIGTERM: a closer failed")
        summary = {"bridges": len(bridges), "streams": len(contexts), "closed_s": round(closed_s, 2),
                   "told": told, "toolboxes": len(toolboxes), "total_s": round(time.monotonic() - started, 2)}
        logger.info("SIGTERM: drained %s", summary)
        return summary

    def _wait_until_told(self, bridges: list[Any]) -> int:
        """Wait (bounded) until every drained bridge's page showed the notice; how many did.

        A page whose connection is already closed (a closed tab) is not waited for: it
        cannot show anything, and a restart with nobody watching should not take longer."""
        bridges = [b for b in bridges if _page_connected(b) is not False]
        deadline = time.monotonic() + self._notice_grace
        with self._lock:
            while True:
                told = sum(1 for b in bridges if b in self._acknowledged)
                remaining = deadline - time.monotonic()
                if told == len(bridges) or remaining <= 0:
                    break
                self._all_told.wait(remaining)
        if bridges:
            time.sleep(self._delivery)  # the last page's update is still on its way to the browser
        return told


def _page_connected(bridge: Any) -> bool | None:
    probe = getattr(bridge, "page_connected", None)
    try:
        return probe() if probe is not None else None
    except Exception:  # a probe of a torn-down session: no sign either way
        return None


def _close_bridge(bridge: Any, timeout: float) -> None:
    try:
        bridge.close(timeout)
    except Exception:
        logger.exception("SIGTERM: a voice bridge did not close")


def _stop_stream(context: Any, timeout: float) -> None:
    # streamlit-webrtc 0.79 offers no public "close this stream" on the context; its
    # worker's stop() closes the aiortc peer connection (what the STOP button does).
    get_worker = getattr(context, "_get_worker", None)
    worker = get_worker() if callable(get_worker) else None
    if worker is None:
        return
    try:
        worker.stop(timeout=timeout)
    except Exception:
        logger.exception("SIGTERM: a WebRTC stream did not stop")


# ----------------------------------------------------------------------------- the process's drain

_drain = Drain()
_install_lock = threading.Lock()
_installed = False


def register_bridge(bridge: Any) -> None:
    """See ``Drain.register_bridge`` (the process-wide drain)."""
    _drain.register_bridge(bridge)


def register_stream(bridge: Any, context: Any) -> None:
    """See ``Drain.register_stream`` (the process-wide drain)."""
    _drain.register_stream(bridge, context)


def register_toolbox(toolbox: Any) -> None:
    """See ``Drain.register_toolbox`` (the process-wide drain)."""
    _drain.register_toolbox(toolbox)


def register_closer(closer: Callable[[], Any]) -> None:
    """See ``Drain.register_closer`` (the process-wide drain)."""
    _drain.register_closer(closer)


def draining() -> bool:
    """True once this process got SIGTERM."""
    return _drain.draining()


def acknowledge(bridge: Any) -> bool:
    """See ``Drain.acknowledge`` (the process-wide drain)."""
    return _drain.acknowledge(bridge)


def install() -> None:
    """Install the SIGTERM drain once per process (any thread; idempotent).

    Scheduled on Streamlit's event loop, which runs on the main thread (the only thread
    allowed to set a signal handler). Outside a running Streamlit server it does nothing.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        loop = _streamlit_loop()
        if loop is None:
            return
        _installed = True
    loop.call_soon_threadsafe(_install_on_main_thread, loop)


def _streamlit_loop() -> Any:
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return None
        # Runtime's event loop (private in Streamlit 1.67): the main thread's asyncio loop.
        return Runtime.instance()._get_async_objs().eventloop
    except Exception:
        logger.warning("No Streamlit event loop found; SIGTERM will stop the server without draining")
        return None


def _install_on_main_thread(loop: Any) -> None:
    previous = signal.getsignal(signal.SIGTERM)

    def chain() -> None:
        if callable(previous):
            previous(signal.SIGTERM, None)
        else:  # SIG_DFL: nobody else handles it
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        if _drain.draining():  # a second SIGTERM: stop now
            chain()
            return
        _drain.begin()  # before the thread starts: the next page run already sees it
        threading.Thread(target=_drain_then_stop, args=(loop, chain), name="livechat-drain", daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    logger.info("SIGTERM drain installed (pid %d)", os.getpid())


def _drain_then_stop(loop: Any, chain: Callable[[], None]) -> None:
    try:
        from livechat.ui.runtime import stop_offline_emulator

        _drain.run(stop_emulator=stop_offline_emulator)
    except Exception:
        logger.exception("SIGTERM: the drain failed; stopping anyway")
    finally:
        loop.call_soon_threadsafe(chain)
