"""The sidebar every page shares: the current dataset and where Live sessions go.

Shows the endpoint by mode and host (``livechat.ui.endpoint``), never a key.
Runs on the session's script thread, from ``app.py`` before the page itself.
"""

from __future__ import annotations

import streamlit as st

from livechat.ui.access import render_sidebar_account
from livechat.ui.conversations import render_sidebar_conversations
from livechat.ui.tables import CurrentTableSet, render_sidebar_tables


def render_sidebar(
    table_set: CurrentTableSet | None,
    *,
    endpoint: str | None,
    model: str | None,
    config_problem: str | None = None,
) -> None:
    """Draw the shared sidebar.

    ``table_set`` is the session's tables (None before any load). ``endpoint`` is a label
    from ``endpoint_label`` (None when the configuration is unusable, in which case
    ``config_problem`` says why, in the analyst's words).
    """
    with st.sidebar:
        render_sidebar_account()  # who is signed in, Sign out; a visitor's key, Forget
        st.subheader("Dataset")
        if table_set is None:
            st.caption("No dataset loaded.")
        else:
            render_sidebar_tables(table_set)
        st.subheader("Voice endpoint")
        if endpoint is not None:
            st.markdown(f"**{endpoint}**")
        if model:
            st.caption(f"Model: `{model}`")
        if config_problem:
            st.error(config_problem)
        render_sidebar_conversations()
