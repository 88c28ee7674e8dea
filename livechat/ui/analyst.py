"""``current_analyst()``: whose conversations, usage and audit rows this run's are.

The gate (``livechat.ui.access.admit``) decides the analyst first on every run and keeps
it in a slot; this leaf module only reads it, so the conversation and store modules can
ask without importing the gate (which writes through them).

Runs on the session's script thread.
"""

from __future__ import annotations

import streamlit as st

from livechat.access import Analyst
from livechat.ui import slots

__all__ = ["current_analyst"]


def current_analyst() -> Analyst:
    """The analyst of this run (``LOCAL_ANALYST`` without sign-in), as the gate decided.

    Stops the run when the gate has not admitted anyone in this run: nothing is served
    to a person the rules did not let in."""
    analyst = slots.ANALYST.get()
    if analyst is None:
        st.stop()
    return analyst
