"""Which replica serves this browser session, and telling an analyst who was moved.

Behind the load balancer in ``deploy/`` (HAProxy, cookie affinity), every app process is
a replica with an id (``LIVECHAT_REPLICA_ID``, set by ``deploy/serve``; the host name and
process id otherwise). HAProxy's affinity cookie (``REPLICA_COOKIE``) names the replica a
browser was pinned to, and reaches the app with every request. When that replica dies,
HAProxy sends the browser to another one (``option redispatch``); Streamlit's page
reconnects there as a brand-new session, with the sample dataset and no conversation.
Without a word that looks like the app forgot the upload, so ``moved_from()`` notices
the cookie naming another replica and the shell says what happened.

Runs on the session's script thread.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import streamlit as st

from livechat.ui import slots

__all__ = ["REPLICA_COOKIE", "REPLICA_ENV", "moved_from", "moved_message", "replica_id"]

REPLICA_ENV = "LIVECHAT_REPLICA_ID"
# The cookie deploy/haproxy.cfg inserts (``cookie LIVECHAT_REPLICA insert``).
REPLICA_COOKIE = "LIVECHAT_REPLICA"


def replica_id(env: Mapping[str, str] | None = None) -> str:
    """This process's replica id: ``LIVECHAT_REPLICA_ID``, else ``<host>-<pid>``."""
    value = (os.environ if env is None else env).get(REPLICA_ENV, "").strip()
    return value or f"{socket.gethostname()}-{os.getpid()}"


def pinned_elsewhere(cookie: str | None, own: str) -> str | None:
    """The replica the affinity cookie names when it is not this one, else None."""
    if not cookie or cookie == own:
        return None
    return cookie


def moved_message(previous: str, own: str, *, restored: bool = False) -> str:
    """What an analyst moved from replica ``previous`` to ``own`` is told (``restored``: the
    conversation and its tables were opened from the store here)."""
    where = (f"The server you were working on (replica {previous}) stopped, so this page moved to "
             f"replica {own}.")
    if restored:
        return f"{where} Your tables and conversation were restored from the store; start voice again to talk."
    return (f"{where} Your conversation could not be found here: reload the page; if it is still "
            "missing, upload your file again.")


def moved_from() -> str | None:
    """The replica this browser session was moved from, or None (script thread).

    Decided on the session's first run (its websocket's cookie) and remembered for the
    session, so the message stays until the analyst reloads.
    """
    if not slots.MOVED_FROM.exists():
        try:
            cookie = st.context.cookies.get(REPLICA_COOKIE)
        except Exception:  # no request context (AppTest, bare mode)
            cookie = None
        moved = pinned_elsewhere(cookie, replica_id())
        slots.MOVED_FROM.set(moved if isinstance(moved, str) else None)  # AppTest's cookies are mocks
    return slots.MOVED_FROM.get()
