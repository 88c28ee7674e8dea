"""The app shell: page config, logging, the first-visit dataset, the emulator, the sidebar.

``app.py`` renders the shell once per script run and runs the chosen page inside
``page_scope()``. Every page calls ``ensure_shell()`` first: a no-op inside that scope,
and the whole shell when Streamlit executed the page file *without* ``app.py``.

Streamlit does that because our pages live in a directory named ``pages/``: while
``PagesManager.uses_pages_directory`` is True the script runner takes the legacy
multipage path and runs ``pages/<name>.py`` directly. It is True from server start-up
until ``st.navigation`` first runs (so a deep link as the very first request of a
process skips ``app.py``), and ``AppTest`` resets it before every run (so every rerun
after the first skips ``app.py``). Renaming the directory removes the cause; see
``livechat.ui._compat.leave_legacy_pages_mode`` for the mitigation used meanwhile.

Runs on the session's script thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from livechat.config import ConfigError
from livechat.ui import a11y, access, conversations, gc_tuning, replica, runtime, shutdown, slots, tables
from livechat.ui._compat import leave_legacy_pages_mode
from livechat.ui.dataset import ensure_dataset
from livechat.ui.endpoint import endpoint_label
from livechat.ui.sidebar import render_sidebar

APP_TITLE = "Live Data Chat"

# Set while app.py runs the chosen page, on that script thread only; ``gate`` is this
# run's access gate (None: admitted), drawn by the page in ``ensure_shell``.
_scope = threading.local()


def render_shell() -> bool:
    """Page config, logging, the access decision, the sample on first visit, the emulator
    when offline, the sidebar. False when nobody is admitted: then none of the rest runs,
    and the page draws the sign-in, refusal or key page instead (``ensure_shell``)."""
    st.set_page_config(page_title=APP_TITLE, page_icon=":material/graphic_eq:", layout="wide")
    slots.SHELL_DRAWN.set(True)
    a11y.apply()  # live regions and named meters on every page (livechat/ui/a11y.py)
    runtime.configure_logging()
    shutdown.install()  # SIGTERM ends calls cleanly (once per process)
    gc_tuning.freeze_loaded_in_server("app")  # the app's modules, out of every full collection (once per process)
    # Before anything reads the URL's conversation, a dataset or the store (livechat/ui/access.py).
    _scope.gate = access.admit()
    if _scope.gate is not None:
        return False
    # On every page, so a reload anywhere keeps the conversation's id in the URL; first,
    # so a stored conversation's tables are in place before the sample would be loaded.
    conversations.session_transcript()
    conversations.render_store_warning()
    moved = replica.moved_from()
    if moved is not None:
        st.warning(replica.moved_message(moved, replica.replica_id(), restored=conversations.restored()))
    ensure_dataset()
    table_set = tables.current_table_set()  # a single upload is a set of one
    conversations.save_progress()
    try:
        configured = runtime.service_config()
    except ConfigError as exc:
        render_sidebar(
            table_set, endpoint=None, model=None, config_problem=f"Voice is not configured correctly: {exc}"
        )
        return True
    # No key and no base URL: the design promises the built-in emulator runs, and says so.
    problem = runtime.ensure_offline_emulator(configured)
    render_sidebar(table_set, endpoint=endpoint_label(configured), model=configured.model, config_problem=problem)
    return True


def admitted() -> bool:
    """True when this run's gate let someone in (after ``render_shell``)."""
    return getattr(_scope, "gate", None) is None


@contextmanager
def page_scope() -> Iterator[None]:
    """Mark the current script thread as running a page from app.py (shell already drawn)."""
    previous = getattr(_scope, "inside", False)
    _scope.inside = True
    try:
        yield
    finally:
        _scope.inside = previous


def ensure_shell() -> None:
    """Draw the shell unless app.py already did in this run; call first in every page.

    When nobody is admitted, draws the access gate instead and stops the run. The gate is
    drawn here, inside the page, rather than before ``st.navigation``: an element's
    identity includes the running page, which before navigation is the main script on a
    first load and the page on later runs, so a gate drawn there loses its first click."""
    if not getattr(_scope, "inside", False):
        if leave_legacy_pages_mode() and not slots.SHELL_DRAWN.get():
            # A first visit by deep link: run again through app.py now, before the visitor
            # acts on this page, whose widgets belong to a page identity the next run no
            # longer has (_compat). Not on later runs: AppTest sets legacy mode before each
            # of its runs, and a rerun would drop that run's widget triggers.
            st.rerun()
        render_shell()
    gate = getattr(_scope, "gate", None)
    if gate is not None:
        access.render_gate(gate)
        st.stop()
