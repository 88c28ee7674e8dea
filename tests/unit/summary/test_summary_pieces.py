"""The summary's pieces used on their own: table facts, section renderers, budget fitting.

``summarize`` is these pieces joined; a summary of several tables reuses them, so each is
checked here by what it returns for a known table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from livechat.summary import BudgetFitter, TableFacts, profile_table, summarize
from livechat.summary.builder import fit_name, profiled_columns
from livechat.summary.sections import (
    brief_line,
    compact_entry,
    detail_lines,
    header_lines,
    sample_lines,
    table_lines,
)
from livechat.summary.table_notes import correlation_lines, duplicate_rows_note, note_lines
from livechat.summary.token_estimate import estimate_tokens
from tests.unit.summary.test_summary import _odd_frames, _weather


def _facts(df: pd.DataFrame, max_profiled: int = 200) -> TableFacts:
    return profile_table(df, max_profiled=max_profiled)


@pytest.mark.parametrize("budget", [300, 900, 2_000, 8_000, 64_000])
@pytest.mark.parametrize("frame", ["weather", "wide_5000", "no_rows", "mixed_objects"])
def test_summarize_is_the_pieces_joined(frame: str, budget: int) -> None:
    df = _weather(300) if frame == "weather" else _odd_frames()[frame]()
    summary = summarize(df, name="t.csv", budget_tokens=budget)
    block = BudgetFitter(_facts(df, profiled_columns(budget)), "t.csv", budget).fit()
    assert (block.text, block.estimated_tokens, block.omitted) == (
        summary.text, summary.estimated_tokens, summary.omitted)
    assert block.estimated_tokens == estimate_tokens(block.text) <= budget


def test_table_facts_profile_the_first_columns_and_label_them_all() -> None:
    df = pd.DataFrame({"a": [1, None, 3], "b": ["x", "y", None], 7: [None, None, None]})
    facts = _facts(df, max_profiled=2)
    assert (facts.rows, facts.cols, facts.n_profiled) == (3, 3, 2)
    assert [p.label for p in facts.profiles] == ["a", "b"]
    assert facts.labels == ["a", "b", "7"] and facts.nulls == [1, 1, 3]
    assert _facts(df, max_profiled=0).n_profiled == 1  # at least one column is profiled
    assert _facts(pd.DataFrame(), max_profiled=5).n_profiled == 0


def test_section_renderers_read_only_the_facts() -> None:
    df = pd.DataFrame({"city": ["Oslo", "Rome", "Oslo", "Lima"], "n": [3, 1, 3, 2]})
    facts = _facts(df)
    assert header_lines(facts, "c.csv")[0] == 'dataset "c.csv": 4 rows × 2 columns'
    city = facts.profiles[0]
    assert brief_line(city, facts.rows) == '1. "city": category; nulls 0; distinct 3'
    assert detail_lines(city, 1, 0) == ['   top: "Oslo" 2 (50%), others 50%']
    assert compact_entry(facts, 1) == '"n" integer'
    assert sample_lines(facts, 1, 1) == [
        "sample rows (CSV; # = row number from 1; first 1 rows, then evenly spread):",
        "#,city,n", "1,Oslo,3", "4,Lima,2"]
    assert table_lines(facts)[:3] == ["all 4 rows (CSV):", "city,n", "Oslo,3"]


def test_notes_and_correlations_of_a_table() -> None:
    df = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10.0) * -2, "k": ["same"] * 10})
    facts = _facts(df)
    assert '- constant (one value in every non-empty row): "k" = "same"' in note_lines(facts)
    assert duplicate_rows_note(facts) == "- no duplicate rows"
    heading, lines = correlation_lines(facts)
    assert heading == "strongest correlations (Pearson r):"
    assert lines == ['- "x" & "y": -1.00']


def test_a_long_name_is_cut_to_its_token_cap() -> None:
    assert fit_name("short.csv") == "short.csv"
    cut = fit_name("📊" * 80)
    assert cut.endswith("…") and estimate_tokens(cut) <= 100
