"""The uplink watchdog: a bridge-owned thread that looks at the stream while the page is gone.

The Talk page's fragment stops running when the tab closes, and Streamlit keeps a
disconnected session for minutes (aiortc itself takes ~30 s to notice), so the bridge
looks itself (is the browser gone, are frames late, has the stall bound passed; see
``livechat.voice.stream``): one named daemon thread per stream (``<name>-watchdog``) calls
``tick`` every ``interval_s`` until ``tick`` returns False or :meth:`UplinkWatchdog.stop`
is called. ``start``/``stop`` belong to the script thread (and ``close()`` from any
thread); ``stop`` sets the stop event and joins, bounded, never joining itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["UplinkWatchdog"]

logger = logging.getLogger(__name__)


class UplinkWatchdog:
    """Owns the watchdog thread of the current stream (at most one at a time)."""

    def __init__(
        self,
        *,
        name: str,
        interval_s: float | None,
        join_timeout_s: float,
        tick: Callable[[], bool],
    ) -> None:
        self._name = name
        # None: no watchdog thread; only the page's check_stream() looks.
        self._interval = interval_s
        self._join_timeout = join_timeout_s
        self._tick = tick
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        """Start the watchdog of a new stream, replacing a previous one (script thread)."""
        if self._interval is None:
            return
        self.stop()
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(stop,),
                                  name=f"{self._name}-watchdog", daemon=True)
        self._thread, self._stop = thread, stop
        thread.start()

    def stop(self) -> None:
        """Stop and join the current watchdog, if any (script thread, or close())."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._join_timeout)
            if thread.is_alive():
                logger.warning("voice bridge %s: watchdog still running after %.1f s",
                               self._name, self._join_timeout)

    def _run(self, stop: threading.Event) -> None:
        """Thread body: tick until ``stop`` is set or ``tick`` says there is nothing to watch."""
        interval = self._interval or 0.1
        while not stop.wait(interval):
            if not self._tick():
                return
