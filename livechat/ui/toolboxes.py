"""The one ToolBox factory: one per data the model sees, shared while sessions hold it.

The table of a set of one (a single upload: a DataFrame) and the ticked tables of a set of
several (SQL name -> DataFrame) get their ToolBox, and its tool declarations, here, asked
by ``livechat.ui.model_tables``: one factory, so the two cannot drift apart again (issue
27: only the single table's SQL worker was stopped on SIGTERM). ``key`` names the data
(``ModelTables.key``: the dataset's cache key, or the set's key starting with ``set:``),
so the two never share an entry.

A ToolBox holds its tables and a SQL worker process, so it lives exactly as long as a
session uses it (issue 29, "the previous table when the set changes and no session uses
it"): the session keeps the one it asked for last (``slots.TOOLBOX``), every session
asking for the same key gets the same ToolBox, and a running Live session keeps its own
through its tool executor. When the last holder moves to other tables or ends, the
ToolBox goes, its worker is killed by the sandbox's finalizer, and its table's shared
files are deleted once no frame maps them (``livechat.data.table_file``). Before, a cache
of 8 kept up to 8 tables and their workers alive after everyone had moved on.

Runs on the session's script thread; the ToolBox itself is thread-safe and shared by
every browser session looking at the same data (read-only tools).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from livechat.tools.toolbox import ToolBox, live_tools
from livechat.ui import shutdown, slots
from livechat.ui.shared import WeakShared
from livechat.ui.slots import State

ModelData = pd.DataFrame | Mapping[str, pd.DataFrame]

_TOOLBOXES: WeakShared[ToolBox] = WeakShared()


def toolbox(key: str, data: ModelData, *, state: State | None = None) -> ToolBox:
    """The ToolBox over ``data`` (one SQL worker holding every table), registered with the
    SIGTERM drain (``livechat.ui.shutdown``) and held by this session until it asks for
    another one. ``state`` is the session state (a plain dict in unit tests)."""
    def start() -> ToolBox:
        with st.spinner("Starting the SQL tool…"):
            box = ToolBox(data)
        shutdown.register_toolbox(box)
        return box

    box = _TOOLBOXES.get_or_make(key, start)
    slots.TOOLBOX.set(box, state)  # the previous one goes unless another session holds it
    return box


@st.cache_resource(show_spinner=False, max_entries=16)
def _tools(key: str, _data: ModelData) -> tuple[Any, ...]:
    return tuple(live_tools(_data))


def tools(key: str, data: ModelData) -> tuple[Any, ...]:
    """The Live tool declarations for ``data``."""
    return _tools(key, data)
