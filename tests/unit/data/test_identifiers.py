"""One identifier rule, asked by the Data page's quick charts and by the model's summary."""

from __future__ import annotations

import pandas as pd
import pytest

from livechat.data.identifiers import is_identifier, looks_like_id
from livechat.data.profile import chart_candidates
from livechat.summary.facts import profile_column, row_sample

# (name, values, identifier?)
CASES = [
    ("order_id", list(range(1, 301)), True),  # a key by name, every value different
    ("customerId", [i % 280 for i in range(300)], True),  # 280 of 300 different (>= 90%)
    ("customer_id", [i % 100 for i in range(300)], False),  # a key name, but repeated: a dimension
    ("row", list(range(0, 300)), True),  # a row number: consecutive from 0, long enough
    ("n", list(range(1, 300)), True),  # from 1
    ("amount", [i * 7 + 3 for i in range(300)], False),  # all different, but a measure
    ("units", list(range(1, 31)), False),  # consecutive but short: could be counts
    ("year", list(range(1990, 2020)), False),  # consecutive, not from 0/1
]


@pytest.mark.parametrize(("name", "values", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_rule(name: str, values: list[int], expected: bool) -> None:
    assert is_identifier(name, count=len(values), distinct=len(set(values)),
                         low=min(values), high=max(values)) is expected


@pytest.mark.parametrize(("name", "values", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_quick_charts_leave_out_exactly_the_identifiers(name: str, values: list[int],
                                                            expected: bool) -> None:
    df = pd.DataFrame({name: values})
    assert (name not in chart_candidates(df).numeric) is expected


@pytest.mark.parametrize(("name", "values", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_calls_exactly_the_identifiers_identifier_like(name: str, values: list[int],
                                                                   expected: bool) -> None:
    series = pd.Series(values)
    profile = profile_column(series, 0, row_sample(len(series)), name)
    assert (profile.kind == "identifier-like") is expected


def test_a_row_number_needs_an_exact_distinct_count() -> None:
    assert not is_identifier("n", count=300, distinct=300, low=0, high=299, exact=False)


@pytest.mark.parametrize("name", ["id", "order_id", "customerId", "uuid", "pk", "Product Code", "sku.key"])
def test_key_names(name: str) -> None:
    assert looks_like_id(name)


@pytest.mark.parametrize("name", ["idea", "paid", "width", "keyboard", "valid"])
def test_names_that_only_contain_the_letters(name: str) -> None:
    assert not looks_like_id(name)
