"""The one Streamlit internal this app touches, kept in one place.

``PagesManager.uses_pages_directory`` decides whether the script runner takes the legacy
"pages/ directory" path (run a page file on its own) or runs the entry point, which
calls ``st.navigation``. Streamlit sets it to True at start-up when a ``pages/``
directory exists and to False when ``st.navigation`` runs. If the first request of a
server process is a deep link (e.g. ``/settings``), the entry point never runs and the
whole process stays in legacy mode; clearing the flag from the page makes the next run
go through ``app.py`` again. That next run must come at once when this is a browser
session's first run (``shell.ensure_shell`` reruns): otherwise it is the visitor's first action, which then arrives for a page (and
widget ids) that no longer exist and is dropped, e.g. the first typed question after a
bookmarked ``/talk?conversation=…`` on a restarted server. Remove this module once the
page directory is renamed.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def leave_legacy_pages_mode() -> bool:
    """Make the next script run execute app.py (and its st.navigation) again.

    True when this run was in legacy mode."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # moved in a later Streamlit: nothing to undo there
        return False
    if getattr(PagesManager, "uses_pages_directory", None):
        logger.info("A page ran without app.py (legacy pages/ mode); the next run uses app.py")
        PagesManager.uses_pages_directory = False
        return True
    return False
