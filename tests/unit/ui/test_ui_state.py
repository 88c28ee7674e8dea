"""livechat.ui.state: the budget rule and the dataset handle's keys (no script run needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from livechat.data.load import LoadedTable
from livechat.ui.state import (
    DEFAULT_BUDGET,
    MAX_BUDGET,
    MIN_BUDGET,
    BudgetOutOfRangeError,
    CurrentDataset,
    check_budget,
)


@pytest.mark.parametrize("value", [MIN_BUDGET, DEFAULT_BUDGET, MAX_BUDGET, 8000.0])
def test_budgets_in_range_are_accepted_as_ints(value: object) -> None:
    budget = check_budget(value)
    assert budget == value and type(budget) is int


@pytest.mark.parametrize("value", [MIN_BUDGET - 1, MAX_BUDGET + 1, 0, -5, 1000.5, True, "8000", None])
def test_other_budgets_are_refused_naming_the_rule_and_value(value: object) -> None:
    with pytest.raises(BudgetOutOfRangeError) as caught:
        check_budget(value)
    assert f"{MIN_BUDGET:,} to {MAX_BUDGET:,}" in str(caught.value)
    assert repr(value) in str(caught.value)


def _dataset(sheet: str | None, source: str = "book.xlsx", digest: str = "ab" * 32) -> CurrentDataset:
    table = LoadedTable(df=pd.DataFrame({"a": [1]}), name=source, sheets=(), sheet=sheet, warnings=())
    return CurrentDataset(table=table, digest=digest, source=source)


def test_cache_keys_differ_by_sheet_file_name_and_content() -> None:
    keys = {
        _dataset("Q1").cache_key,
        _dataset("Q2").cache_key,
        _dataset("Q1", source="other.xlsx").cache_key,
        _dataset("Q1", digest="cd" * 32).cache_key,
    }
    assert len(keys) == 4


def test_the_sheet_selector_key_is_per_file_not_per_sheet() -> None:
    assert _dataset("Q1").sheet_widget_key == _dataset("Q2").sheet_widget_key
    assert _dataset("Q1").sheet_widget_key != _dataset("Q1", digest="cd" * 32).sheet_widget_key


def test_the_raw_bytes_stay_out_of_the_repr() -> None:
    dataset = CurrentDataset(
        table=_dataset(None).table, digest="ab" * 32, source="x.csv", raw=b"secret-ish cell values"
    )
    assert "secret-ish" not in repr(dataset)
