"""The one cached ToolBox factory: one per data the model sees, stopped by the drain.

The table of a set of one (a single upload: a DataFrame) and the ticked tables of a set of
several (SQL name -> DataFrame) get their ToolBox, and its tool declarations, here, asked
by ``livechat.ui.model_tables``: one cache, so the two cannot drift apart again (issue 27:
only the single table's SQL worker was stopped on SIGTERM). ``key`` names the data
(``ModelTables.key``: the dataset's cache key, or the set's key starting with ``set:``),
so the two never share an entry.

Runs on the session's script thread; the ToolBox itself is thread-safe and shared by
every browser session looking at the same data (read-only tools).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from livechat.tools.toolbox import ToolBox, live_tools
from livechat.ui import shutdown

ModelData = pd.DataFrame | Mapping[str, pd.DataFrame]


@st.cache_resource(show_spinner="Starting the SQL tool…", max_entries=8)
def _toolbox(key: str, _data: ModelData) -> ToolBox:
    # Not closed on eviction: a running session may still hold it. Its SQL worker is
    # killed by the sandbox's finalizer once the last session lets go of it, or at SIGTERM.
    toolbox = ToolBox(_data)
    shutdown.register_toolbox(toolbox)
    return toolbox


@st.cache_resource(show_spinner=False, max_entries=16)
def _tools(key: str, _data: ModelData) -> tuple[Any, ...]:
    return tuple(live_tools(_data))


def toolbox(key: str, data: ModelData) -> ToolBox:
    """The ToolBox over ``data`` (one SQL worker holding every table), registered with the
    SIGTERM drain (``livechat.ui.shutdown``)."""
    return _toolbox(key, data)


def tools(key: str, data: ModelData) -> tuple[Any, ...]:
    """The Live tool declarations for ``data``."""
    return _tools(key, data)
