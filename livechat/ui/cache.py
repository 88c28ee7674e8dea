"""Cached loaders: parse, profile and summarise each table once per server process.

``st.cache_data`` keys on the arguments it hashes. Large values are never hashed: the
caller passes a short key (the content digest, file name and sheet) and hands the
bytes or DataFrame over in a parameter whose name starts with an underscore, which
Streamlit leaves out of the key. A wrong key would serve another table's results, so
these functions take keys only from ``CurrentDataset`` (``dataset_*`` helpers) or from
``livechat.data.load.content_digest`` of the very bytes passed.

Results are copied out of the cache (pickled), so callers may mutate them freely.
Runs on a session's script thread; the cache itself is shared by all sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from livechat.data.load import LoadedTable, load_table
from livechat.data.profile import ChartCandidates, chart_candidates, profile_columns
from livechat.summary.prompt import build_system_instruction
from livechat.summary.builder import DataSummary, summarize
from livechat.summary.token_estimate import estimate_tokens
from livechat.summary.vocabulary import custom_vocabulary
from livechat.ui.columns import column_config_for
from livechat.ui.quick_charts import histogram_frame, time_series_frame, top_categories_frame
from livechat.ui.state import CurrentDataset

# Parsed tables are the big entries: keep a few (a re-upload, a sheet switched back).
_MAX_TABLES = 6
_MAX_DERIVED = 64


@st.cache_data(show_spinner="Reading the file…", max_entries=_MAX_TABLES)
def load_table_cached(
    digest: str, filename: str, sheet: str | None, _data: bytes
) -> LoadedTable:
    """``load_table(_data, filename, sheet=sheet)``, cached by (digest, filename, sheet).

    ``digest`` must be ``content_digest(_data)``. DataLoadError propagates and is not cached.
    """
    return load_table(_data, filename, sheet=sheet)


@st.cache_data(show_spinner="Profiling the columns…", max_entries=_MAX_DERIVED)
def _profile(key: str, _df: pd.DataFrame) -> pd.DataFrame:
    return profile_columns(_df)


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _candidates(key: str, _df: pd.DataFrame) -> ChartCandidates:
    return chart_candidates(_df)


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _memory_bytes(key: str, _df: pd.DataFrame) -> int:
    # deep=True walks every string cell: worth doing once per table, not per rerun.
    return int(_df.memory_usage(deep=True, index=True).sum())


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _column_config(key: str, _df: pd.DataFrame) -> dict[str, object]:
    return dict(column_config_for(_df))


@st.cache_data(show_spinner="Summarising the table for the model…", max_entries=_MAX_DERIVED)
def _summary(key: str, name: str, budget: int, _df: pd.DataFrame) -> DataSummary:
    return summarize(_df, name=name, budget_tokens=budget)


@dataclass(frozen=True)
class ModelView:
    """What the model is told about a table: the summary, the instruction and its size."""

    summary: DataSummary
    instruction: str
    instruction_tokens: int


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _model_view(key: str, name: str, budget: int, _df: pd.DataFrame) -> ModelView:
    summary = _summary(key, name, budget, _df)
    instruction = build_system_instruction(summary)
    return ModelView(summary, instruction, estimate_tokens(instruction))


def dataset_profile(dataset: CurrentDataset) -> pd.DataFrame:
    """The column profile table of ``dataset``."""
    return _profile(dataset.cache_key, dataset.table.df)


def dataset_chart_candidates(dataset: CurrentDataset) -> ChartCandidates:
    """Which columns of ``dataset`` suit a histogram, a bar chart or a time axis."""
    return _candidates(dataset.cache_key, dataset.table.df)


def dataset_memory_bytes(dataset: CurrentDataset) -> int:
    """Memory the DataFrame of ``dataset`` takes, in bytes (deep: strings included)."""
    return _memory_bytes(dataset.cache_key, dataset.table.df)


def dataset_column_config(dataset: CurrentDataset) -> dict[str, object]:
    """``st.dataframe`` column_config for ``dataset`` (see ``livechat.ui.columns``)."""
    return _column_config(dataset.cache_key, dataset.table.df)


def dataset_summary(dataset: CurrentDataset, budget: int) -> DataSummary:
    """The budgeted data summary of ``dataset`` for the model."""
    return _summary(dataset.cache_key, dataset.table.name, budget, dataset.table.df)


def dataset_model_view(dataset: CurrentDataset, budget: int) -> ModelView:
    """Summary, exact system instruction and its token estimate for ``dataset`` under ``budget``."""
    return _model_view(dataset.cache_key, dataset.table.name, budget, dataset.table.df)


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _vocabulary(key: str, _df: pd.DataFrame) -> tuple[str, ...]:
    return custom_vocabulary(_df)


def dataset_vocabulary(dataset: CurrentDataset) -> tuple[str, ...]:
    """The transcription vocabulary of ``dataset`` (column names, frequent categories)."""
    return _vocabulary(dataset.cache_key, dataset.table.df)


def dataset_instruction(dataset: CurrentDataset, budget: int) -> str:
    """The exact system instruction the model gets for ``dataset`` under ``budget`` tokens."""
    return dataset_model_view(dataset, budget).instruction


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _histogram(key: str, column: str, _df: pd.DataFrame) -> pd.DataFrame:
    return histogram_frame(_df[column])


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _top_categories(key: str, column: str, _df: pd.DataFrame) -> pd.DataFrame:
    return top_categories_frame(_df[column])


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _time_series(
    key: str, time_column: str, value_column: str | None, _df: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    return time_series_frame(_df, time_column, value_column)


def dataset_histogram(dataset: CurrentDataset, column: str) -> pd.DataFrame:
    """``histogram_frame`` of one numeric column of ``dataset``."""
    return _histogram(dataset.cache_key, column, dataset.table.df)


def dataset_top_categories(dataset: CurrentDataset, column: str) -> pd.DataFrame:
    """``top_categories_frame`` of one column of ``dataset``."""
    return _top_categories(dataset.cache_key, column, dataset.table.df)


def dataset_time_series(
    dataset: CurrentDataset, time_column: str, value_column: str | None
) -> tuple[pd.DataFrame, str]:
    """``time_series_frame`` of ``dataset``: mean of ``value_column`` per period, or row count."""
    return _time_series(dataset.cache_key, time_column, value_column, dataset.table.df)
