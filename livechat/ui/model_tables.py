"""What the model sees, as one type: a single upload is a table set of one.

``ModelTables`` is the one place that knows whether the session holds one table
(``CurrentDataset``) or a set (``CurrentTableSet``): it gives the identity, the tables,
the names, the ToolBox and tool declarations (``livechat.ui.toolboxes``, registered with
the SIGTERM drain), the summary and instruction, and the vocabulary. Callers (the Talk
page, the definitions, the transcript's charts) ask it and never branch on "one or many".

Runs on the session's script thread (it reads the session's slots through ``state`` and
``tables``); the ToolBox it hands out is thread-safe.
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
from livechat.ui import cache, state, tables, toolboxes
from livechat.ui.cache import ModelView
from livechat.ui.state import CurrentDataset
from livechat.ui.tables import CurrentTableSet


@dataclass(frozen=True)
class ModelTables:
    """The tables the model gets: the ticked tables of a set, or the one table shown.

    ``key`` names their content (a new key means a new session); ``names`` are what the
    transcript lists when they change.
    """

    dataset: CurrentDataset
    table_set: CurrentTableSet | None = None

    @property
    def key(self) -> str:
        return self.table_set.key if self.table_set is not None else self.dataset.cache_key

    @property
    def upload_identity(self) -> str:
        """The loaded tables' content, not the ticks (where their definitions are kept)."""
        if self.table_set is not None:
            return "set:" + self.table_set.upload_key
        return f"table:{self.dataset.digest}/{self.dataset.table.sheet or ''}"

    @property
    def source(self) -> TableSource:
        """The tables: SQL name -> DataFrame for a set, the DataFrame for one table."""
        return self.table_set.frames() if self.table_set is not None else self.dataset.table.df

    @property
    def names(self) -> tuple[str, ...]:
        if self.table_set is not None:
            return tuple(e.sql_name for e in self.table_set.chosen())
        return (self.dataset.table.name,)

    def toolbox(self) -> ToolBox:
        """The cached ToolBox over these tables (one SQL worker; the drain stops it)."""
        return toolboxes.toolbox(self.key, self.source)

    def tools(self) -> tuple[Any, ...]:
        """The Live tool declarations for these tables."""
        return toolboxes.tools(self.key, self.source)

    def model_view(self, budget: int) -> ModelView:
        """Summary, exact instruction and its size under ``budget`` (no definitions)."""
        if self.table_set is not None:
            return tables.model_view(self.table_set, budget)
        return cache.dataset_model_view(self.dataset, budget)

    def vocabulary(self) -> tuple[str, ...]:
        """The transcription vocabulary (names, columns, frequent categories)."""
        if self.table_set is not None:
            return tables.vocabulary(self.table_set)
        return cache.dataset_vocabulary(self.dataset)

    def chart_frame(self, spec: dict[str, Any], df: pd.DataFrame) -> pd.DataFrame:
        """The rows a transcript chart draws from: its query's result or its table; ``df``
        (the table shown) for a plain chart of one table. Raises ``ChartSpecError`` when the
        spec no longer fits (e.g. the tables changed since)."""
        if self.table_set is None and not spec.get("query"):
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


def of(dataset: CurrentDataset, table_set: CurrentTableSet | None) -> ModelTables:
    """What the model sees of ``dataset`` and ``table_set`` (None: the one table)."""
    return ModelTables(dataset, table_set)


def current() -> ModelTables | None:
    """What the model sees in this session, or None before any table is loaded."""
    dataset = state.current_dataset()
    return None if dataset is None else ModelTables(dataset, tables.current_table_set())
