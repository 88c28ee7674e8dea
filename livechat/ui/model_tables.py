"""What the model sees, built in one place from the session's table set.

A single upload is a table set of one (``CurrentTableSet.of_one``), so the session holds
one type for what the model sees. ``ModelTables`` is the one place that builds the model's
side of it and the one place (with the set's own widgets in ``livechat.ui.tables``) that
tells one table from several: a set of one is summarised, declared and named as one
table (``data``), exactly as a single upload always was; a set of several by its ticked
tables' SQL names. It gives the identity, the tables, the names, the ToolBox and tool
declarations (``livechat.ui.toolboxes``, registered with the SIGTERM drain, whatever the
set), the summary and instruction, the vocabulary, and the session's settings. Callers
(the Talk and Data pages, the definitions, the transcript's charts) ask it and never
branch on "one or many".

Runs on the session's script thread (``current`` reads the session's set); the ToolBox
it hands out is thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from livechat.config import ServiceConfig
from livechat.live.tokens import LiveSettings
from livechat.tools.charts import ChartSpec
from livechat.tools.declarations import TableSource
from livechat.tools.toolbox import ToolBox
from livechat.ui import cache, tables, toolboxes
from livechat.ui.cache import ModelView
from livechat.ui.tables import CurrentTableSet


@dataclass(frozen=True)
class ModelTables:
    """The tables the model gets: the ticked tables of the session's set (of one or more).

    ``key`` names their content (a new key means a new session); ``names`` are what the
    transcript lists when they change.
    """

    table_set: CurrentTableSet

    @property
    def key(self) -> str:
        one = self.table_set.single
        return one.cache_key if one is not None else self.table_set.key

    @property
    def upload_identity(self) -> str:
        """The loaded tables' content, not the ticks (where their definitions are kept)."""
        one = self.table_set.single
        if one is not None:
            return f"table:{one.digest}/{one.table.sheet or ''}"
        return "set:" + self.table_set.upload_key

    @property
    def source(self) -> TableSource:
        """The tables: the DataFrame for one table, SQL name -> DataFrame for several."""
        one = self.table_set.single
        return one.table.df if one is not None else self.table_set.frames()

    @property
    def names(self) -> tuple[str, ...]:
        one = self.table_set.single
        if one is not None:
            return (one.table.name,)
        return tuple(e.sql_name for e in self.table_set.chosen())

    def toolbox(self) -> ToolBox:
        """The cached ToolBox over these tables (one SQL worker; the drain stops it)."""
        return toolboxes.toolbox(self.key, self.source)

    def tools(self) -> tuple[Any, ...]:
        """The Live tool declarations for these tables."""
        return toolboxes.tools(self.key, self.source)

    def model_view(self, budget: int) -> ModelView:
        """Summary, exact instruction and its size under ``budget`` (no definitions)."""
        one = self.table_set.single
        if one is not None:
            return cache.dataset_model_view(one, budget)
        return tables.model_view(self.table_set, budget)

    def vocabulary(self) -> tuple[str, ...]:
        """The transcription vocabulary (names, columns, frequent categories)."""
        one = self.table_set.single
        if one is not None:
            return cache.dataset_vocabulary(one)
        return tables.vocabulary(self.table_set)

    def chart_frame(self, spec: dict[str, Any], df: pd.DataFrame) -> pd.DataFrame:
        """The rows a transcript chart draws from: its query's result or its table; ``df``
        (the table shown) for a plain chart of one table. Raises ``ChartSpecError`` when the
        spec no longer fits (e.g. the tables changed since)."""
        if self.table_set.single is not None and not spec.get("query"):
            return df
        return self.toolbox().chart_frame(ChartSpec.from_dict(spec))

    def wiring(self, budget: int, config: ServiceConfig) -> tuple[LiveSettings, ToolBox, str]:
        """Settings (instruction, declarations, vocabulary), ToolBox and session key."""
        settings = LiveSettings(
            model=config.model,
            system_instruction=self.model_view(budget).instruction,
            tools=self.tools(),
            custom_vocabulary=self.vocabulary(),
        )
        return settings, self.toolbox(), f"{self.key}|{budget}|{config.base_url or ''}|{config.model}"


def current() -> ModelTables | None:
    """What the model sees in this session, or None before any table is loaded."""
    table_set = tables.current_table_set()
    return None if table_set is None else ModelTables(table_set)
