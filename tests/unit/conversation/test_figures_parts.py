"""The figure check's parts (issue 30): precision as spoken, the summary's evidence, bounds."""

from __future__ import annotations

import pytest

from livechat.conversation.figures.evidence import summary_evidence, tool_evidence
from livechat.conversation.figures.matching import GROUP_CAP, PAIR_CAP, _pairs
from livechat.conversation.figures.spoken import find_figures
from livechat.data.sample import load_sample
from livechat.summary.builder import summarize
from livechat.summary.prompt import build_system_instruction


@pytest.mark.parametrize("said, value, unit, percent, hedge", [
    ("1,234,567", 1234567, 1, False, None),
    ("7,000", 7000, 1000, False, None),  # "seven thousand"
    ("about 300", 300, 100, False, "about"),
    ("120", 120, 1, False, None),
    ("1.50", 1.5, 0.01, False, None),
    ("1.2 million", 1.2e6, 1e5, False, None),
    ("about 12 million", 12e6, 1e6, False, "about"),
    ("3k", 3000, 1000, False, None),
    ("12.5%", 12.5, 0.1, True, None),
    ("more than 3,000", 3000, 1000, False, "over"),
    ("nearly 20 percent", 20, 10, True, "under"),
    ("seven thousand", 7000, 1000, False, None),
    ("about one point two million", 1.2e6, 1e5, False, "about"),
    ("3 percentage points", 3, 1, False, None),  # a difference of percentages, not a share
    ("two percent", 2, 1, True, None),  # a small number in words counts when it is a percentage
])
def test_each_figure_has_the_precision_it_was_said_at(said: str, value: float, unit: float, percent: bool,
                                                     hedge: str | None) -> None:
    [figure] = find_figures(f"It was {said}.", language="en")
    assert (figure.value, figure.unit, figure.percent, figure.hedge) == pytest.approx((value, unit, percent, hedge))


def test_the_summary_of_the_sample_gives_named_statistics() -> None:
    sample = load_sample()
    instruction = build_system_instruction(summarize(sample.df, name=sample.name))
    evidence = {e.source: e.value for e in summary_evidence(instruction)}
    assert evidence["summary: lighthouse_logs.csv rows"] == 3075
    assert evidence["summary: lighthouse_logs.csv columns"] == 14
    assert evidence["summary: wind_knots max"] == 59
    assert evidence["summary: keeper top Iona MacLeod"] == 370
    assert evidence["summary: keeper top Iona MacLeod share"] == 12
    assert not any("2023" in source or e == 20230101 for source, e in evidence.items())  # dates, identifiers
    assert summary_evidence(None) == () and summary_evidence("no data block") == ()


def test_derived_pairs_are_bounded_for_a_big_result() -> None:
    result = {"columns": [f"c{i}" for i in range(20)],
              "rows": [[r * 100 + c + 0.5 for c in range(20)] for r in range(50)], "row_count": 50}
    items = tool_evidence("run_sql", result, rank=0, call=0)
    assert len(items) == 1001  # 1,000 cells and the row count
    left, right = _pairs(items)
    assert 0 < len(left) <= PAIR_CAP and (left != right).all()
    per_group: dict[str, set[int]] = {}
    for i in set(left.tolist()) | set(right.tolist()):
        for group in items[i].groups:
            per_group.setdefault(group, set()).add(i)
    assert max(len(members) for members in per_group.values()) <= GROUP_CAP


def test_errors_and_cancelled_results_give_no_evidence() -> None:
    assert tool_evidence("run_sql", {"error": "Binder Error: 42 columns"}, rank=0, call=0) == []
    assert tool_evidence("run_sql", None, rank=0, call=0) == []
    described = tool_evidence("describe_column", {"column": "wind_knots", "rows": 3075, "mean": 19.78,
                                                  "top": [["calm", 12]], "elapsed_ms": 4.0}, rank=0, call=0)
    assert {(e.source, e.value) for e in described} == {
        ("describe_column wind_knots rows", 3075), ("describe_column wind_knots mean", 19.78),
        ("describe_column wind_knots top row 1, 2", 12)}
