"""streamlit-webrtc 0.79's frontend, served with one change: a transient ICE state does not end a call.

The component's JavaScript stops the stream (closes the peer connection) when the
browser's ``connectionState`` becomes ``disconnected``, ``closed`` or ``failed``. In WebRTC
``disconnected`` is transient: Chromium enters it after ~2.5 s without receiving anything
(media or STUN answers) and leaves it when packets come again. On a loaded host the app's
media thread is descheduled that long, and a frozen tab comes back with its timers run
out, so the browser itself ended calls that would have gone on (measured, issue 33: a
20 s CPU load and a 4 s SIGSTOP of the browser). ``failed`` and ``closed`` still end the
stream; a tab that closed is noticed by the app (``livechat.voice.presence``).

``install()`` serves a copy of the library's ``frontend/dist`` with that one condition
removed, under the component's own name (the iframe's title and URL are unchanged), by
registering the copy with the runtime's component registry. The copy lives in the
system's temporary directory, named after the original's content, and is made once
(atomically: replicas on one machine may race). If the library's code no longer has the
exact condition, ``WebrtcFrontendError`` is raised: an upgrade must be re-checked.

Threads: ``install()`` on the script thread (it is idempotent and cheap after the first).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

import streamlit_webrtc.component as _component
from streamlit import runtime
from streamlit.components.v1.custom_component import CustomComponent

__all__ = ["NEEDLE", "WebrtcFrontendError", "install", "patched_frontend_dir"]

logger = logging.getLogger(__name__)

# The minified condition in the component's connectionstatechange handler (0.79.0).
NEEDLE = "c.connectionState===`disconnected`||"
_PREFIX = "livechat-webrtc-frontend-"
_lock = threading.Lock()


class WebrtcFrontendError(RuntimeError):
    """The installed streamlit-webrtc frontend is not the one this patch was written for."""


def _fingerprint(source: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(source).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def patched_frontend_dir(source: Path, root: Path | None = None) -> Path:
    """A copy of ``source`` (a ``frontend/dist``) with ``NEEDLE`` removed; made once.

    Raises ``WebrtcFrontendError`` unless exactly one occurrence is found in its scripts.
    """
    base = Path(root or tempfile.gettempdir())
    target = base / f"{_PREFIX}{_fingerprint(source)}"
    if (target / "index.html").is_file():
        return target
    hits = [(p, p.read_text(encoding="utf-8").count(NEEDLE)) for p in sorted(source.rglob("*.js"))]
    found = [(p, n) for p, n in hits if n]
    if len(found) != 1 or found[0][1] != 1:
        raise WebrtcFrontendError(
            f"streamlit-webrtc's frontend in {source} does not contain the condition "
            f"{NEEDLE!r} exactly once ({[(p.name, n) for p, n in found]}); re-check "
            "livechat/ui/webrtc_frontend.py against the installed version")
    work = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}tmp-", dir=base))
    try:
        copy = work / "dist"
        shutil.copytree(source, copy)
        script = copy / found[0][0].relative_to(source)
        script.write_text(script.read_text(encoding="utf-8").replace(NEEDLE, ""), encoding="utf-8")
        try:
            os.rename(copy, target)  # atomic; another process may have won the race
        except OSError:
            if not (target / "index.html").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def install() -> None:
    """Serve the patched frontend under the component's name (idempotent; script thread)."""
    original = _component._component_func
    if not runtime.exists() or original.abspath is None:
        return  # nothing serves components here (bare mode), or a dev-server URL is in use
    registry = runtime.get_instance().component_registry
    with _lock:
        current = registry.get_component_path(original.name)
        if isinstance(current, str) and Path(current).name.startswith(_PREFIX):
            return
        patched = patched_frontend_dir(Path(original.abspath))
        registry.register_component(CustomComponent(name=original.name, path=str(patched), url=None,
                                                     module_name=original.module_name))
        logger.info("streamlit-webrtc frontend served from %s (a transient 'disconnected' keeps the call)",
                    patched)
