"""An answer built on a trusted query is marked "trusted query: <question>" in the record
and in both reports; the SQL shown is the trusted query's own."""

from __future__ import annotations

from livechat.conversation.record import turns
from livechat.conversation.report import TRUSTED_MARK, ReportContext, html_report, markdown_report
from livechat.conversation.transcript import Transcript
from livechat.live.events import ToolCallFinished, ToolCallStarted, TranscriptUpdate
from livechat.voice.bridge import TaggedEvent

SQL = "SELECT region, sum(revenue) AS revenue FROM data GROUP BY 1 ORDER BY 2 DESC"
CONTEXT = ReportContext(dataset="sales.csv", rows=4, columns=3, summary_hash="a1b2", model="m",
                        exported_at="2026-12-07 00:00 UTC")


def _transcript(result: dict) -> Transcript:
    t = Transcript()
    t.apply(TaggedEvent(1, e) for e in [
        TranscriptUpdate(1, "user", "Revenue by region?", True),
        ToolCallStarted("fc_1", "run_trusted_query", {"name": "revenue by region"}),
        ToolCallFinished("fc_1", "run_trusted_query", result),
        TranscriptUpdate(2, "model", "North leads.", True),
    ])
    return t


def test_a_trusted_answer_is_marked_in_the_record_and_both_reports() -> None:
    result = {"trusted_query": "revenue by region", "sql": SQL, "columns": ["region", "revenue"],
              "rows": [["North", 15.0]], "row_count": 1, "truncated": False, "elapsed_ms": 2.0}
    [turn] = turns(_transcript(result).entries)
    assert turn.trusted == ["revenue by region"]
    [work] = turn.tools
    assert work.sql == SQL and work.rows == [["North", 15.0]]
    assert f"_{TRUSTED_MARK}revenue by region_" in markdown_report([turn], CONTEXT)
    assert f'<p class="trusted">{TRUSTED_MARK}revenue by region</p>' in html_report([turn], CONTEXT)


def test_a_failed_trusted_call_is_not_marked() -> None:
    [turn] = turns(_transcript({"error": "The trusted query 'revenue by region' no longer runs"}).entries)
    assert turn.trusted == []
    assert TRUSTED_MARK not in markdown_report([turn], CONTEXT)
