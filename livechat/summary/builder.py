"""Budgeted, fenced, deterministic text summary of a DataFrame for the model's instruction.

:func:`summarize` turns an uploaded table into the data block of the system instruction.
Most important first: dataset name and shape, one line per column (type, nulls, distinct
values), column detail (statistics, top values, examples), notable facts, correlations,
sample rows, and the whole table as CSV when it fits. When the token budget is short the
least useful parts go first and the block says what was dropped (``DataSummary.omitted``).

Guarantees, each covered by tests/unit/summary/test_summary.py:

* ``estimate_tokens(text) == estimated_tokens <= budget_tokens`` for every frame;
* the same frame and options give byte-identical text (fixed sample seed, explicit tie
  order, hash-derived fence nonce);
* every name and value from the file is escaped, length-capped and fenced
  (:mod:`livechat.summary.escape`);
* odd frames (no rows, no columns, all-null, mixed objects, nested JSON, huge ints, inf,
  tz-aware dates, duplicate or non-text column names, nullable dtypes) never raise.

The work is done in three steps, each its own module and reusable for other layouts (a
summary of several tables): the table's facts (:mod:`livechat.summary.table_facts`, with
the per-column :mod:`livechat.summary.facts`), the sections rendered from them
(:mod:`livechat.summary.sections`, :mod:`livechat.summary.table_notes`) and the fitting
into the budget (:mod:`livechat.summary.fitting`). This module checks the arguments and
names the result.

Pure function of its inputs; call it from any thread (the Data page calls it from the
Streamlit script thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from livechat.data.loaders.numbers import ColumnConversion
from livechat.summary.escape import sanitize_dataset_name
from livechat.summary.fitting import BudgetFitter
from livechat.summary.table_facts import DETAIL_MAX_COLUMNS, profile_table
from livechat.summary.token_estimate import estimate_tokens

__all__ = [
    "DataSummary",
    "SummaryError",
    "SummaryBudgetError",
    "DEFAULT_BUDGET_TOKENS",
    "MIN_BUDGET_TOKENS",
    "NAME_TOKENS_MAX",
    "summarize",
    "fit_name",
    "profiled_columns",
    "estimate_tokens",
]

DEFAULT_BUDGET_TOKENS = 8000
# Below this the header alone (name capped at NAME_TOKENS_MAX) might not fit.
MIN_BUDGET_TOKENS = 300
NAME_TOKENS_MAX = 100


class SummaryError(ValueError):
    """The summary cannot be made with these arguments (the message says why)."""


class SummaryBudgetError(SummaryError):
    """``budget_tokens`` is too small to say anything useful."""


@dataclass(frozen=True)
class DataSummary:
    """The fenced data block for the system instruction, and what it left out.

    ``omitted`` names, for people, what the budget dropped ("sample rows",
    "verbatim table", "columns 41–5000 detail"); empty when nothing was dropped.
    """

    text: str
    estimated_tokens: int
    truncated: bool
    omitted: list[str]
    name: str
    rows: int
    columns: int
    budget_tokens: int


def summarize(
    df: pd.DataFrame,
    *,
    name: str,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    conversions: Sequence[ColumnConversion] = (),
    source_notes: Sequence[str] = (),
) -> DataSummary:
    """Summarize ``df`` as a fenced data block of at most ``budget_tokens`` estimated tokens.

    ``name`` is the untrusted file name; it is sanitized (``DataSummary.name``).
    ``conversions`` (``LoadedTable.conversions``) are the columns the loader read from
    text ("1.234,56" as 1234.56): they get a note, and currency or percent beside their
    type, so the model knows what the numbers mean. ``source_notes`` are rows the loader
    kept out of the table (e.g. a removed total row, ``LoadedTable.layout.totals``); they
    are listed first among the notes so the model never adds a total to the data again. Raises
    :class:`SummaryBudgetError` for budgets under :data:`MIN_BUDGET_TOKENS` and
    :class:`SummaryError` when ``df`` is not a DataFrame; never for odd data.
    """
    if not isinstance(df, pd.DataFrame):
        raise SummaryError(f"summarize needs a pandas DataFrame, got {type(df).__name__}")
    if isinstance(budget_tokens, bool) or not isinstance(budget_tokens, (int, np.integer)):
        raise SummaryBudgetError(f"budget_tokens must be an integer, got {budget_tokens!r}")
    budget = int(budget_tokens)
    if budget < MIN_BUDGET_TOKENS:
        raise SummaryBudgetError(
            f"budget_tokens must be at least {MIN_BUDGET_TOKENS}, got {budget}"
        )
    clean_name = fit_name(sanitize_dataset_name(name))
    facts = profile_table(
        df, max_profiled=profiled_columns(budget), conversions=conversions, source_notes=source_notes
    )
    block = BudgetFitter(facts, clean_name, budget).fit()
    return DataSummary(
        text=block.text,
        estimated_tokens=block.estimated_tokens,
        truncated=bool(block.omitted),
        omitted=block.omitted,
        name=clean_name,
        rows=facts.rows,
        columns=facts.cols,
        budget_tokens=budget,
    )


def profiled_columns(budget: int) -> int:
    """How many columns get a full profile under ``budget`` tokens: one per 10, at most 200."""
    return min(DETAIL_MAX_COLUMNS, max(1, budget // 10))


def fit_name(name: str) -> str:
    """A sanitized dataset name cut (with "…") to at most :data:`NAME_TOKENS_MAX` tokens."""
    # An 80-character name of emoji would cost 320 tokens: keep the header cheap.
    if estimate_tokens(name) <= NAME_TOKENS_MAX:
        return name
    body = name.rstrip("…")
    while len(body) > 1 and estimate_tokens(body + "…") > NAME_TOKENS_MAX:
        body = body[:-1]
    return body.rstrip() + "…"
