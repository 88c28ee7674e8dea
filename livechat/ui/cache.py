"""Cached loaders: parse, profile and summarise each table once per server process.

The parsed table itself is a shared object (``load_table_cached``, held weakly): every
browser session that opens the same bytes gets the very same ``LoadedTable``, so ten
analysts on one 200 MB upload hold it once, not ten times (``st.cache_data`` would hand
each session its own unpickled copy; ``bench/bench_memory.py`` measures both), and it is
let go when the last session using it moves on. Its frame is mapped from an Arrow file
the SQL worker maps as well (``livechat.data.table_file``). The frame is frozen
(its NumPy buffers read-only) so no session can change what another one sees: an
in-place write raises ``ValueError: assignment destination is read-only``, while copies
and derived frames behave as usual (pandas copy-on-write).

``st.cache_data`` keys on the arguments it hashes. Large values are never hashed: the
caller passes a short key (the content digest, file name and sheet) and hands the
bytes or DataFrame over in a parameter whose name starts with an underscore, which
Streamlit leaves out of the key. A wrong key would serve another table's results, so
these functions take keys only from ``CurrentDataset`` (``dataset_*`` helpers) or from
``livechat.data.load.content_digest`` of the very bytes passed.

Everything derived (profile, summary, charts…) stays in ``st.cache_data``: small, and
copied out of the cache, so callers may mutate those freely.
Runs on a session's script thread; the caches themselves are shared by all sessions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
import streamlit as st

from livechat.data.budget import check_fits, memory_limit_bytes
from livechat.data.load import ColumnConversion, LoadedTable, load_table
from livechat.data.table_file import map_table, release_parse_memory
from livechat.data.profile import ChartCandidates, chart_candidates, profile_columns
from livechat.summary.prompt import build_system_instruction
from livechat.procstat import tree_memory_bytes
from livechat.summary.builder import DataSummary, summarize
from livechat.summary.token_estimate import estimate_tokens
from livechat.summary.vocabulary import custom_vocabulary
from livechat.ui.columns import column_config_for
from livechat.ui.progress import LoadProgress
from livechat.ui.quick_charts import histogram_frame, time_series_frame, top_categories_frame
from livechat.ui.shared import WeakShared
from livechat.ui.state import CurrentDataset

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

_MAX_DERIVED = 64


def freeze_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Make ``df``'s NumPy buffers read-only (in place) and return it.

    Arrow-backed columns (pandas' default strings) are immutable already. Reaches the
    block manager (pandas internals, stable across 2.x-3.x): the public accessors return
    views whose flags would not protect the buffers themselves.
    """
    try:
        blocks = df._mgr.blocks
    except AttributeError:  # a pandas without block managers: nothing to freeze here
        logger.warning("cannot freeze the shared frame: pandas has no block manager")
        return df
    for block in blocks:
        values = block.values
        array = getattr(values, "_ndarray", values)  # datetime/timedelta arrays wrap one
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return df


def load_table_cached(
    digest: str,
    filename: str,
    sheet: str | None,
    _data: bytes,
    encoding: str | None = None,
    header_row: int | None = None,
) -> LoadedTable:
    """``load_table(_data, filename, sheet=sheet, encoding=encoding, header_row=header_row)``,
    shared by (digest, filename, sheet, encoding, header_row) while any session uses it.

    ``digest`` must be ``content_digest(_data)``. DataLoadError propagates (and with it
    ``MemoryBudgetError``, raised before parsing when the file would not fit the server's
    memory); nothing failed is remembered. The result is shared by every session: treat
    it as read-only (it is frozen, and its frame is mapped from one file on disk that the
    SQL worker maps too, see ``livechat.data.table_file``). A load that takes more than a
    second shows a progress bar.
    """
    key = f"{digest}/{filename}/{sheet or ''}/{encoding or ''}/{header_row or ''}"

    def load() -> LoadedTable:
        # One load at a time in this server (WeakShared.get_or_make): two analysts uploading
        # big files at once would otherwise add their parse peaks together, and the second
        # may find the first's table.
        check_fits(_data, filename, in_use=tree_memory_bytes(), limit=memory_limit_bytes())
        with st.spinner("Reading the file…"):
            progress = LoadProgress()
            try:
                parsed = load_table(
                    _data, filename, sheet=sheet, encoding=encoding, header_row=header_row, progress=progress
                )
            finally:
                progress.close()
            release_parse_memory()  # the parser's leftovers go before the file is written
            table = map_table(parsed, key)
            del parsed  # the parsed frame goes; the mapped one stays
            release_parse_memory()
        freeze_frame(table.df)
        return table

    return _SHARED.get_or_make(key, load)


def _released(result: _T) -> _T:
    """Return ``result`` after handing the allocators' free pages back to the system.

    Profiling or charting a million-row table allocates a few hundred MB of temporaries
    (measured: +300 MB for 1M x 20); freed, they would otherwise stay in the process
    until the next big allocation. Called on cache misses only, so it costs nothing on
    an ordinary rerun.
    """
    release_parse_memory()
    return result


# Parsed tables, shared while any session or tool uses them; the previous table goes (and
# its files with it) as soon as nobody holds it.
_SHARED: WeakShared[LoadedTable] = WeakShared()


@st.cache_data(show_spinner="Profiling the columns…", max_entries=_MAX_DERIVED)
def _profile(key: str, _df: pd.DataFrame, _conversions: tuple[ColumnConversion, ...] = ()) -> pd.DataFrame:
    return _released(profile_columns(_df, conversions=_conversions))


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _candidates(key: str, _df: pd.DataFrame) -> ChartCandidates:
    return _released(chart_candidates(_df))


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _memory_bytes(key: str, _df: pd.DataFrame) -> int:
    # deep=True walks every string cell: worth doing once per table, not per rerun.
    return _released(int(_df.memory_usage(deep=True, index=True).sum()))


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _column_config(key: str, _df: pd.DataFrame) -> dict[str, object]:
    return _released(dict(column_config_for(_df)))


@st.cache_data(show_spinner="Summarising the table for the model…", max_entries=_MAX_DERIVED)
def _summary(
    key: str,
    name: str,
    budget: int,
    _df: pd.DataFrame,
    _conversions: tuple[ColumnConversion, ...] = (),
    notes: tuple[str, ...] = (),
) -> DataSummary:
    return _released(summarize(_df, name=name, budget_tokens=budget, conversions=_conversions, source_notes=notes))


def _source_notes(dataset: CurrentDataset) -> tuple[str, ...]:
    """Rows the loader kept out of the table that the model must know of (totals)."""
    layout = dataset.table.layout
    return layout.totals if layout is not None else ()


@dataclass(frozen=True)
class ModelView:
    """What the model is told about a table: the summary, the instruction and its size."""

    summary: DataSummary
    instruction: str
    instruction_tokens: int


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _model_view(
    key: str,
    name: str,
    budget: int,
    _df: pd.DataFrame,
    _conversions: tuple[ColumnConversion, ...] = (),
    notes: tuple[str, ...] = (),
) -> ModelView:
    summary = _summary(key, name, budget, _df, _conversions, notes)
    instruction = build_system_instruction(summary)
    return ModelView(summary, instruction, estimate_tokens(instruction))


def dataset_profile(dataset: CurrentDataset) -> pd.DataFrame:
    """The column profile table of ``dataset``."""
    return _profile(dataset.cache_key, dataset.table.df, dataset.table.conversions)


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
    return _summary(
        dataset.cache_key, dataset.table.name, budget, dataset.table.df,
        dataset.table.conversions, _source_notes(dataset),
    )


def dataset_model_view(dataset: CurrentDataset, budget: int) -> ModelView:
    """Summary, exact system instruction and its token estimate for ``dataset`` under ``budget``."""
    return _model_view(
        dataset.cache_key, dataset.table.name, budget, dataset.table.df,
        dataset.table.conversions, _source_notes(dataset),
    )


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _vocabulary(key: str, _df: pd.DataFrame) -> tuple[str, ...]:
    return _released(custom_vocabulary(_df))


def dataset_vocabulary(dataset: CurrentDataset) -> tuple[str, ...]:
    """The transcription vocabulary of ``dataset`` (column names, frequent categories)."""
    return _vocabulary(dataset.cache_key, dataset.table.df)


def dataset_instruction(dataset: CurrentDataset, budget: int) -> str:
    """The exact system instruction the model gets for ``dataset`` under ``budget`` tokens."""
    return dataset_model_view(dataset, budget).instruction


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _histogram(key: str, column: str, _df: pd.DataFrame) -> pd.DataFrame:
    return _released(histogram_frame(_df[column]))


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _top_categories(key: str, column: str, _df: pd.DataFrame) -> pd.DataFrame:
    return _released(top_categories_frame(_df[column]))


@st.cache_data(show_spinner=False, max_entries=_MAX_DERIVED)
def _time_series(
    key: str, time_column: str, value_column: str | None, _df: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    return _released(time_series_frame(_df, time_column, value_column))


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
