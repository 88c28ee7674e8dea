"""Keep Python's full garbage collections small in the server process.

A full collection walks every object the collector tracks: about 280,000 once pandas,
Altair, google-genai and aiortc are loaded, ~100 ms holding the GIL. Streamlit ran one
after every script run (``runner.postScriptGC``), and the Talk page's live panel reruns
every 0.4 s during a call, so the media loop that paces the reply's 20 ms frames stalled
for ~100 ms two or three times a second: Chrome's jitter buffer raised its target delay
to cover the late packets, and the reply reached the ear ~160 ms later than it had to
(issue 32; ``bench_e2e``: first reply chunk -> played out p95 348 ms with it, 56 ms
without). ``.streamlit/config.toml`` turns Streamlit's collection off; this module
moves what exists once the app's modules are loaded (modules, classes, functions: alive
for the life of the process) into the permanent generation (``gc.freeze``), so the full
collections Python still runs by itself walk only the objects made since.

Objects frozen here are still freed by reference counting; only a reference cycle among
them would stay, and they are the process's imports. Only in a real Streamlit server:
under ``AppTest`` (the app tests, ``bench_memory``) the process is a test run whose
objects are not the app's. Any thread; once per ``stage``.
"""

from __future__ import annotations

import gc
import logging
import threading

__all__ = ["freeze_loaded", "freeze_loaded_in_server"]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_frozen: set[str] = set()


def freeze_loaded(stage: str) -> bool:
    """Freeze everything tracked now, once per ``stage`` per process; True if it did."""
    with _lock:
        if stage in _frozen:
            return False
        _frozen.add(stage)
        gc.collect()  # what is already garbage goes first, not into the permanent generation
        gc.freeze()
    logger.info("gc: %s loaded; %d objects frozen", stage, gc.get_freeze_count())
    return True


def freeze_loaded_in_server(stage: str) -> bool:
    """``freeze_loaded(stage)`` when this process is a Streamlit server; else False."""
    try:
        from streamlit.runtime import Runtime

        # AppTest installs a MagicMock(spec=Runtime) as the instance: not a server.
        if not Runtime.exists() or type(Runtime.instance()) is not Runtime:
            return False
    except Exception:
        return False
    return freeze_loaded(stage)
