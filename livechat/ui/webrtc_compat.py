"""Compatibility shim for two streamlit-webrtc 0.79 internals (like the library's own ``_compat.py``).

1. **The script-run counter that resets a live stream.** ``streamlit_webrtc.component``
   resets a context it believes was "not rendered for 1 script runs": in
   ``_get_or_create_context`` it compares ``get_script_run_count(session_info)`` with
   ``context._last_rendered_run_count + 1``. Streamlit increments that count on its
   event-loop thread when a ``script_finished`` message is *sent*, so the fast rerun the
   library itself requests ("Rerun to send the SDP answer") can read a stale count; two
   runs later the check fires and stops a worker that has just connected: ICE
   "connected", then "closed", and no audio frame ever arrives (shared/E2E.md counted
   8 failures in 86 fresh starts; a spike with this shim passed 14 of 14).

   We replace the module's ``get_script_run_count`` with a counter kept in the
   session's slots (``livechat.ui.slots.PAGE_RUN_COUNT``) and advanced synchronously on the script thread: by
   ``RUN_COUNT_STEP`` (2) for every full script run that does **not** render the voice
   component, and not at all across runs that do (fragment runs never touch it). The
   library's own "navigated away and came back: reset the stale state" behaviour is
   kept (two runs elsewhere make the check fire), the race is gone (Talk-page runs
   never move the counter). ``app.py`` reports each full run with ``note_page_run``.

   Side effect, deliberate: ``_restore_snapshot_if_needed`` (a workaround for *several*
   webrtc components on one page losing their values across ``rerun()``) only restores
   when the count moved by exactly one, which ours never does. The Talk page has one
   component, so there is nothing to restore.

2. **Session lookup under a mocked runtime.** ``session_info.get_this_session_info``
   returns None when there is no session, catching ``NoSessionError`` and
   ``RuntimeError``; under ``streamlit.testing.v1.AppTest`` the runtime is a
   ``MagicMock(spec=Runtime)`` and the lookup raises ``AttributeError`` instead, which
   kills the page. We treat that like "no session" too, so the Talk page (component
   included) renders in AppTest. A real server never takes that branch.

3. **A starved host is not a closed tab** (issue 33). ``install()`` also relaxes aiortc's
   ICE consent freshness (``livechat.voice.consent``) and serves the component's frontend
   with a transient ``disconnected`` no longer ending the stream
   (``livechat.ui.webrtc_frontend``): on a loaded host both closed live calls whose
   browser was still there; a closed tab is noticed by other signals.

4. **No queue before the sender** (issue 32). ``install()`` also lets aiortc's
   ``MediaRelay`` hand the bridge's reply track to the sender directly
   (``livechat.voice.track.install_direct_send``): the library's two buffered relay
   proxies let frames pile up and go out in a burst after a stall.

``install()`` applies the patches once per process (idempotent, thread-safe). Importing
this module checks that the library still has, and still *uses*, the names we replace,
and raises ``WebrtcCompatError`` if not: a library upgrade must fail loudly in a test,
not silently bring the start-up race back.

Threads: ``note_page_run`` and the patched counter run on the session's script thread
(where the session state is bound); ``install`` may run on any thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from types import ModuleType
from typing import Any

import streamlit_webrtc.component as _component
import streamlit_webrtc.session_info as _session_info
import streamlit_webrtc.shutdown as _shutdown
from streamlit.runtime.scriptrunner import get_script_run_ctx

from livechat.ui import slots, webrtc_frontend
from livechat.voice.consent import relax_consent_checks
from livechat.voice.track import install_direct_send

__all__ = [
    "RUN_COUNT_STEP",
    "WebrtcCompatError",
    "check_library",
    "install",
    "installed",
    "note_page_run",
    "page_run_count",
]

logger = logging.getLogger(__name__)

# Two, not one: the library resets when the count moved by MORE than one since the
# component was last rendered, so one run elsewhere must be enough to trigger it.
RUN_COUNT_STEP = 2

_install_lock = threading.Lock()


class WebrtcCompatError(RuntimeError):
    """streamlit-webrtc no longer has the internals this shim replaces (upgrade detected)."""


def _uses(function: Any, name: str) -> bool:
    """True when ``function``'s code refers to the global ``name`` (a call site we rely on)."""
    code = getattr(function, "__code__", None)
    return code is not None and name in code.co_names


def check_library(
    component: ModuleType = _component,
    shutdown: ModuleType = _shutdown,
    session_info: ModuleType = _session_info,
) -> None:
    """Raise ``WebrtcCompatError`` unless the library still has and uses what we patch."""
    problems: list[str] = []
    for module, name in (
        (component, "get_script_run_count"),
        (component, "get_this_session_info"),
        (shutdown, "get_this_session_info"),
        (session_info, "get_this_session_info"),
        (session_info, "get_script_run_count"),
    ):
        if not callable(getattr(module, name, None)):
            problems.append(f"{module.__name__}.{name} is missing")
    for module, function_name, name in (
        (component, "_get_or_create_context", "get_script_run_count"),
        (component, "_get_or_create_context", "get_this_session_info"),
    ):
        function = getattr(module, function_name, None)
        if function is None or not _uses(function, name):
            problems.append(f"{module.__name__}.{function_name} no longer calls {name}")
    init = getattr(getattr(shutdown, "SessionShutdownObserver", None), "__init__", None)
    if init is None or not _uses(init, "get_this_session_info"):
        problems.append(f"{shutdown.__name__}.SessionShutdownObserver no longer calls get_this_session_info")
    if problems:
        raise WebrtcCompatError(
            "livechat.ui.webrtc_compat was written for streamlit-webrtc 0.79 and must be "
            "re-checked against the installed version: " + "; ".join(problems)
        )


check_library()


def page_run_count(state: MutableMapping[str, Any] | None = None) -> int:
    """The counter the library now sees (script thread; ``state`` defaults to the session's)."""
    return slots.PAGE_RUN_COUNT.get(state)


def note_page_run(renders_voice_component: bool, state: MutableMapping[str, Any] | None = None) -> None:
    """Record one full script run (script thread): call it once per run, from ``app.py``.

    ``renders_voice_component`` is True when the page shown in this run renders the
    webrtc component (the Talk page). A page that stops before rendering it calls
    ``note_page_run(False)`` itself; an extra True call is harmless (a no-op).
    """
    if renders_voice_component:
        return
    slots.PAGE_RUN_COUNT.set(page_run_count(state) + RUN_COUNT_STEP, state)


def _script_run_count(session_info: Any) -> int:
    """Replacement for ``streamlit_webrtc.component.get_script_run_count`` (script thread)."""
    if get_script_run_ctx() is None:
        # Not on a script thread: the session state is not ours to read; keep the old answer.
        return _session_info.get_script_run_count(session_info)
    return page_run_count()


def _this_session_info() -> Any:
    """Replacement for ``get_this_session_info``: None under AppTest's mocked runtime too."""
    try:
        # Looked up on the module each call, so the library's own function stays the source.
        return _session_info.get_this_session_info()
    except AttributeError:
        # AppTest installs MagicMock(spec=Runtime): it has no _session_mgr. A real
        # Runtime always has one, so this is "no live session", as the library intends.
        return None


def installed() -> bool:
    """True once ``install()`` has patched the library in this process."""
    return (
        _component.get_script_run_count is _script_run_count
        and _component.get_this_session_info is _this_session_info
        and _shutdown.get_this_session_info is _this_session_info
    )


def install() -> None:
    """Apply the patches (idempotent; any thread). See the module docstring for why."""
    relax_consent_checks()
    install_direct_send()
    webrtc_frontend.install()
    with _install_lock:
        if installed():
            return
        _component.get_script_run_count = _script_run_count  # type: ignore[attr-defined]
        _component.get_this_session_info = _this_session_info  # type: ignore[attr-defined]
        _shutdown.get_this_session_info = _this_session_info  # type: ignore[attr-defined]
        logger.debug("streamlit-webrtc compat patches installed")
