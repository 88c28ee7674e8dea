"""Figures checked in a conversation: when (complete replies, once), against what (the
turn's tool results and the two turns before, the summary), and what the record and the
reports say (issue 30)."""

from __future__ import annotations

from livechat.conversation.figures.check import check_transcript, report_line
from livechat.conversation.record import turns
from livechat.conversation.report import ReportContext, html_report, markdown_report
from livechat.conversation.transcript import Transcript
from livechat.live.events import Interrupted, ToolCallFinished, ToolCallStarted, TranscriptUpdate
from livechat.voice.bridge import TaggedEvent

CONTEXT = ReportContext(dataset="sales.csv", rows=4, columns=4, summary_hash="a1b2c3d4e5f6",
                        model="gemini-3.8-live", exported_at="2026-12-06 10:30 UTC")
RESULT = {"columns": ["year", "total"], "rows": [[2024, 1234567], [2023, 1102292]], "row_count": 2}
SUMMARY = ('<<<DATA 00112233aabbccdd>>>\n1. "total": integer; nulls 0; distinct 2\n'
           "   min 1102292; max 1234567; mean 1168429.5\n<<<END DATA 00112233aabbccdd>>>")


def _apply(t: Transcript, *events) -> None:
    t.apply([TaggedEvent(1, e) for e in events])


def _with_sql_turn() -> Transcript:
    t = Transcript()
    _apply(t, TranscriptUpdate(1, "user", "What were the totals in 2023 and 2024?", True),
           ToolCallStarted("c1", "run_sql", {"query": "SELECT year, total FROM data"}),
           ToolCallFinished("c1", "run_sql", RESULT))
    return t


def test_only_complete_replies_are_checked_and_each_once() -> None:
    t = _with_sql_turn()
    _apply(t, TranscriptUpdate(2, "model", "The total was 1,234,567", False))
    assert check_transcript(t, None) == 0
    assert t.entries[-1].figure_check is None  # still being said
    _apply(t, TranscriptUpdate(2, "model", "The total was 1,234,567, about 1.1 million before: up 12%. 7,000 lost.",
                               True))
    assert check_transcript(t, None) == 1
    check = t.entries[-1].figure_check
    assert [(m.text, m.kind) for m in check.marks] == [
        ("1,234,567", "exact"), ("1.1 million", "rounded"), ("12%", "derived"), ("7,000", "not found")]
    assert check.caption == "3 of 4 figures found in the data"
    assert check_transcript(t, None) == 0 and t.entries[-1].figure_check is check  # not again


def test_an_interrupted_reply_is_checked_for_what_was_said() -> None:
    t = _with_sql_turn()
    _apply(t, TranscriptUpdate(2, "model", "It was 1,234,567 and", False), Interrupted())
    check_transcript(t, None)
    assert [(m.text, m.kind) for m in t.entries[-1].figure_check.marks] == [("1,234,567", "exact")]


def test_tool_results_of_the_two_turns_before_count_and_older_ones_do_not() -> None:
    t = _with_sql_turn()
    for turn_id, question in ((2, "And then?"), (4, "Go on."), (6, "Once more?")):
        _apply(t, TranscriptUpdate(turn_id, "user", question, True),
               TranscriptUpdate(turn_id + 1, "model", "It was 1,234,567.", True))
    check_transcript(t, None)
    kinds = [e.figure_check.marks[0].kind for e in t.entries if e.kind == "message" and e.role == "model"]
    assert kinds == ["exact", "exact", "not found"]  # the result's turn is 1, 2 and 3 turns back


def test_the_summary_counts_and_is_named() -> None:
    t = Transcript()
    _apply(t, TranscriptUpdate(1, "user", "What is the mean total?", True),
           TranscriptUpdate(2, "model", "The mean total is about 1.17 million.", True))
    check_transcript(t, SUMMARY)
    [mark] = t.entries[-1].figure_check.marks
    assert (mark.kind, mark.source) == ("rounded", "summary: total mean")


def test_the_record_and_both_reports_carry_the_figures_line() -> None:
    t = _with_sql_turn()
    _apply(t, TranscriptUpdate(2, "model", "1,234,567 in 2024, up 12%; 7,000 lost.", True))
    check_transcript(t, None)
    [turn] = turns(t.entries)
    assert len(turn.figure_checks) == 1
    line = report_line(turn.figure_checks)
    assert line == ("Figures: 1,234,567 exact (run_sql row 1, total) · 12% derived (percent change from "
                    "run_sql row 2, total to run_sql row 1, total) · 7,000 not found")
    markdown = markdown_report([turn], CONTEXT)
    assert "Figures: 1,234,567 exact (run\\_sql row 1, total) · 12% derived" in markdown
    page = html_report([turn], CONTEXT)
    assert '<p class="checked-figures">Figures: 1,234,567 exact (run_sql row 1, total) · 12% derived' in page


def test_a_reply_without_figures_has_no_line_and_no_caption() -> None:
    t = _with_sql_turn()
    _apply(t, TranscriptUpdate(2, "model", "Both years are in the result.", True))
    check_transcript(t, None)
    assert t.entries[-1].figure_check.caption is None
    assert report_line(turns(t.entries)[0].figure_checks) is None
    assert "Figures:" not in markdown_report(turns(t.entries), CONTEXT)


def test_a_restored_history_keeps_its_checks() -> None:
    t = _with_sql_turn()
    _apply(t, TranscriptUpdate(2, "model", "It was 1,234,567.", True))
    check_transcript(t, None)
    copy = t.history_copy()
    assert copy.entries[-1].figure_check == t.entries[-1].figure_check
    assert check_transcript(copy, None) == 0


def test_a_record_restored_without_its_checks_is_checked_again() -> None:
    t = _with_sql_turn()
    _apply(t, TranscriptUpdate(2, "model", "It was 1,234,567.", True))
    t.entries[-1].figure_check = {"marks": []}  # what a store keeping plain fields might give back
    assert turns(t.entries)[0].figure_checks == []
    assert check_transcript(t, None) == 1
    assert [m.kind for m in t.entries[-1].figure_check.marks] == ["exact"]
