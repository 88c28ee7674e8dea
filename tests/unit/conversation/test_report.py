"""The analyst's record: turns from a recorded transcript, and the Markdown/HTML/zip reports."""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser

import pandas as pd
import pytest

from livechat.conversation.record import turns
from livechat.conversation.report import (
    HTML_NAME,
    MARKDOWN_NAME,
    ReportContext,
    html_report,
    markdown_report,
    report_zip,
)
from livechat.conversation.transcript import Transcript
from livechat.live.events import (
    ErrorEvent,
    Interrupted,
    Notice,
    ToolCallFinished,
    ToolCallStarted,
    TranscriptUpdate,
    TurnFigures,
)
from livechat.tools.charts import ChartRenderError, ChartSpec, build_chart, chart_png
from livechat.voice.bridge import TaggedEvent

SQL = "SELECT region, SUM(revenue) AS revenue FROM data GROUP BY region ORDER BY 2 DESC"
CHART = {"kind": "bar", "x": "region", "y": "revenue", "aggregate": "sum", "title": "Revenue by region"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CONTEXT = ReportContext(dataset="sales.csv", rows=1234, columns=5, summary_hash="a1b2c3d4e5f6",
                        model="gemini-3.8-live", exported_at="2026-12-06 10:30 UTC")


def _recorded() -> Transcript:
    """A conversation with everything a report must carry."""
    t = Transcript()
    events = [
        TranscriptUpdate(1, "model", "Hello, ask me about sales.", True),
        TranscriptUpdate(2, "user", "Which region sold most?", True),
        ToolCallStarted("fc_1", "run_sql", {"query": SQL}),
        ToolCallFinished("fc_1", "run_sql", {"columns": ["region", "revenue"],
                                              "rows": [["North", 412300], ["South | East", 9.5]],
                                              "row_count": 120, "truncated": True, "elapsed_ms": 17.5}),
        TranscriptUpdate(3, "model", "The North, with 412,300.", True),
        TranscriptUpdate(4, "user", "Chart it <please>", True),
        ToolCallStarted("fc_2", "show_chart", CHART),
        ToolCallFinished("fc_2", "show_chart", {"chart": CHART, "points": 2}),
        TranscriptUpdate(5, "model", "Here is the chart, and", True),
        Interrupted(),
        Notice("Reconnected"),
        TranscriptUpdate(6, "user", "Drop the table", True),
        ToolCallStarted("fc_3", "run_sql", {"query": "DROP TABLE data"}),
        ToolCallFinished("fc_3", "run_sql", {"error": "Only read-only queries are allowed."}),
        ErrorEvent("The connection dropped.", code=1011, recoverable=True),
    ]
    t.apply([TaggedEvent(1, e) for e in events])
    return t


def test_turns_group_questions_answers_tools_and_notices() -> None:
    got = turns(_recorded().entries)
    assert [t.question for t in got] == [None, "Which region sold most?", "Chart it <please>", "Drop the table"]
    first, sql_turn, chart_turn, refused = got
    assert first.answer == "Hello, ask me about sales." and not first.tools
    work = sql_turn.tools[0]
    assert (work.tool, work.sql, work.columns, work.elapsed_ms) == ("run_sql", SQL, ["region", "revenue"], 17.5)
    assert work.row_cap_note == "The model was given the first 2 of 120 rows (row cap)."
    assert sql_turn.answer == "The North, with 412,300."
    assert chart_turn.interrupted and chart_turn.notes == ["Reconnected"]
    assert chart_turn.tools[0].chart == CHART and chart_turn.tools[0].sql is None
    assert refused.tools[0].error == "Only read-only queries are allowed."
    assert refused.errors == ["The connection dropped. Reconnecting…"]


def test_per_turn_figures_reach_the_turn_and_the_report() -> None:
    t = Transcript()
    t.apply([TaggedEvent(1, TranscriptUpdate(1, "user", "How many?", True)),
             TaggedEvent(1, TranscriptUpdate(2, "model", "About three thousand.", True)),
             TaggedEvent(1, TurnFigures(turn_id=2, first_audio_s=0.84, tokens=1234))])
    (turn,) = turns(t.entries)
    assert turn.figures == ["first audio 0.84 s · 1,234 tokens"]
    assert "_first audio 0.84 s · 1,234 tokens_" in markdown_report([turn], CONTEXT)
    assert '<p class="figures">first audio 0.84 s · 1,234 tokens</p>' in html_report([turn], CONTEXT)


def test_a_pending_call_is_marked_not_lost() -> None:
    t = Transcript()
    t.apply([TaggedEvent(1, TranscriptUpdate(1, "user", "q", True)),
             TaggedEvent(1, ToolCallStarted("fc_9", "run_sql", {"query": "SELECT 1"}))])
    (turn,) = turns(t.entries)
    assert turn.tools[0].pending
    assert "still running when exported" in markdown_report([turn], CONTEXT)


def test_markdown_has_header_turns_sql_tables_and_chart_links() -> None:
    record = turns(_recorded().entries)
    chart_index = record[2].tools[0].index
    md = markdown_report(record, CONTEXT, charts={chart_index: PNG})
    assert md.startswith("# Live Data Chat: conversation record\n")
    assert "- Dataset: sales.csv (1,234 rows × 5 columns)" in md
    assert "- Instruction summary hash: `a1b2c3d4e5f6`" in md
    assert re.findall(r"^## Turn (\d+)$", md, flags=re.M) == ["1", "2", "3", "4"]
    assert f"```sql\n{SQL}\n```" in md
    assert "| region | revenue |\n|---|---|\n| North | 412300 |" in md
    assert "| South \\| East | 9.5 |" in md  # a pipe in a cell cannot split the row
    assert "_The model was given the first 2 of 120 rows (row cap)._" in md
    assert f"![Revenue by region](charts/chart-{chart_index:04d}.png)" in md
    assert "> Chart it \\<please\\>" in md  # untrusted text cannot become HTML
    assert "**Answer** (interrupted)" in md and "Note: Reconnected" in md
    assert "#### Tool: run\\_sql (17.5 ms)" in md
    assert "Error: Only read-only queries are allowed." in md


def test_a_chart_without_its_image_says_why() -> None:
    md = markdown_report(turns(_recorded().entries), CONTEXT, charts={})
    assert "not rendered: the dataset it was drawn from is gone" in md
    assert "](charts/" not in md


def test_a_query_with_backticks_cannot_close_its_fence() -> None:
    t = Transcript()
    query = 'SELECT "a```b" FROM data'
    t.apply([TaggedEvent(1, TranscriptUpdate(1, "user", "q", True)),
             TaggedEvent(1, ToolCallStarted("fc_1", "run_sql", {"query": query})),
             TaggedEvent(1, ToolCallFinished("fc_1", "run_sql", {"columns": ["x"], "rows": [[1]], "row_count": 1,
                                                                "truncated": False, "elapsed_ms": 1.0}))])
    md = markdown_report(turns(t.entries), CONTEXT)
    assert f"````sql\n{query}\n````" in md


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))


def test_html_is_self_contained_and_structured() -> None:
    record = turns(_recorded().entries)
    chart_index = record[2].tools[0].index
    page = html_report(record, CONTEXT, charts={chart_index: PNG})
    outline = _Outline()
    outline.feed(page)
    assert outline.tags.count("section") == 4
    assert outline.tags.count("details") == 3  # one per tool call
    assert "script" not in outline.tags
    images = [a for t, a in outline.attrs if t == "img"]
    assert len(images) == 1 and (images[0]["src"] or "").startswith("data:image/png;base64,")
    # Nothing outside the file: no src/href to any URL.
    for _, attrs in outline.attrs:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("data:"), value
    assert "Chart it &lt;please&gt;" in page and "<please>" not in page
    assert "<td>South | East</td>" in page
    assert "default-src &#x27;none&#x27;" not in page and "default-src 'none'" in page


def test_zip_holds_markdown_html_and_chart_files() -> None:
    record = turns(_recorded().entries)
    chart_index = record[2].tools[0].index
    data = report_zip(record, CONTEXT, charts={chart_index: PNG})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted([MARKDOWN_NAME, HTML_NAME, f"charts/chart-{chart_index:04d}.png"])
        assert archive.read(f"charts/chart-{chart_index:04d}.png") == PNG
        assert "Which region sold most?" in archive.read(MARKDOWN_NAME).decode("utf-8")


@pytest.mark.parametrize("secret", ["auth_tokens/0123456789abcdef", "AIza" + "B" * 35])
def test_secret_shapes_never_reach_a_report(secret: str) -> None:
    t = Transcript()
    t.apply([TaggedEvent(1, TranscriptUpdate(1, "user", f"my token is {secret}", True))])
    record = turns(t.entries)
    for text in (markdown_report(record, CONTEXT), html_report(record, CONTEXT)):
        # Neither the secret nor its distinctive tail survives, escaped or not.
        assert secret[-16:] not in text and "my token is" in text


def test_an_empty_conversation_still_makes_a_report() -> None:
    assert "_No conversation yet._" in markdown_report([], CONTEXT)
    assert "No conversation yet." in html_report([], CONTEXT)


def test_chart_png_renders_without_a_browser() -> None:
    df = pd.DataFrame({"region": ["North", "South", "North"], "revenue": [3.0, 1.0, 2.0]})
    png = chart_png(build_chart(df, ChartSpec.from_dict(CHART)))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def test_chart_png_failure_is_typed() -> None:
    class Broken:
        def to_dict(self) -> dict:
            return {"mark": "no-such-mark", "data": {"values": []}}

    with pytest.raises(ChartRenderError):
        chart_png(Broken())  # type: ignore[arg-type]
