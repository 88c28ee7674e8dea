"""Probes that tell the voice bridge whether the browser is still there (docs/voice-lifecycle.md).

The bridge (``livechat.voice.presence``) never imports streamlit; this module builds its
two probes from the running app:

- ``connected()``: the browser session's websocket is connected, read from the Streamlit
  runtime (``Runtime.is_active_session``, documented thread-safe). The runtime drops a
  session from its active ones the moment its websocket closes (a closed tab, a reload),
  and keeps it ~2 min for a reconnect;
- ``peer_state()``: the ``connectionState`` of the aiortc peer connection of the voice
  component's current worker (streamlit-webrtc 0.79 keeps it on the context, like
  ``livechat.ui.shutdown`` reads it).

Both are plain attribute reads, safe from the bridge's watchdog thread. Build them on the
script thread (the session id comes from the script run context).
"""

from __future__ import annotations

from typing import Any

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from livechat.voice.presence import BrowserSignals

__all__ = ["browser_signals"]


def browser_signals(context: Any) -> BrowserSignals:
    """The probes for this browser session and the voice component's ``context`` (script thread)."""
    return BrowserSignals(connected=_connected_probe(), peer_state=lambda: _peer_state(context))


def _connected_probe() -> Any:
    """``connected()`` for this session, or None outside a served app (AppTest, bare mode)."""
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return None
    instance, session_id = runtime.get_instance(), ctx.session_id

    def connected() -> bool:
        return bool(instance.is_active_session(session_id))

    return connected


def _peer_state(context: Any) -> str | None:
    """The component's peer connection state, or None when it has no worker (yet)."""
    get_worker = getattr(context, "_get_worker", None)
    worker = get_worker() if callable(get_worker) else None
    pc = getattr(worker, "pc", None)
    state = getattr(pc, "connectionState", None)
    return state if isinstance(state, str) else None
