"""The analyst's record in a real browser (issue 19): a typed question with a ``run_sql``
and a ``show_chart`` call, then both downloads: the zip holds the Markdown (question,
answer, SQL, result) and the chart PNG; the HTML opens offline in Chromium and shows the
chart; neither holds the API key or a token name. Then a reload keeps the conversation.

The emulator turns typed ``call NAME {json}`` into a real ``toolCall``, so the whole path
runs: chat input → Live session → toolCall → ToolBox → toolResponse → transcript.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.e2e.harness import voice_sessions

pytestmark = pytest.mark.e2e

SQL = "SELECT keeper, count(*) AS storm_nights FROM data WHERE storm_night GROUP BY keeper ORDER BY storm_nights DESC, keeper LIMIT 3"
CHART = {"kind": "bar", "x": "keeper", "y": "storm_night", "aggregate": "sum", "title": "Storm nights by keeper"}


def _answered(sessions: list[dict], name: str, known: set[str]) -> bool:
    """A call of ``name`` answered in a session this test opened (the emulator is shared)."""
    return any(c["name"] == name and c["response"] is not None
               for s in voice_sessions(sessions) if s["id"] not in known for c in s["tool_calls"])


def test_the_conversation_leaves_as_a_report_and_survives_a_reload(e2e_stack, browser_factory, speech_wav,
                                                                     tmp_path: Path) -> None:
    browser = browser_factory(speech_wav)
    tab = browser.new_page()
    tab.open_talk(e2e_stack.app.url)
    page = tab.page
    emulator = e2e_stack.emulator
    known = e2e_stack.session_ids()

    tab.ask(f"call run_sql {json.dumps({'query': SQL})}")
    emulator.wait_for(lambda ss: _answered(ss, "run_sql", known), timeout=30)
    tab.wait_for_transcript("The run_sql tool returned", timeout_s=30)  # the reply quotes the result
    tab.ask(f"call show_chart {json.dumps(CHART)}")
    emulator.wait_for(lambda ss: _answered(ss, "show_chart", known), timeout=30)
    page.locator(".st-key-transcript [data-testid='stVegaLiteChart']").first.wait_for(state="visible", timeout=20_000)
    # On 3.8 a drawn chart's result is SILENT (nothing to say): wait for the call itself.
    tab.wait_for_transcript("Tool: show_chart (done)", timeout_s=30)

    # The SQL is shown (highlighted, with a copy button) inside the collapsed tool call.
    tool = page.locator("[data-testid='stExpander']", has_text="Tool: run_sql").first
    tool.locator("summary").click()
    tool.locator("[data-testid='stCode']").first.wait_for(state="visible", timeout=10_000)
    assert "storm_nights" in tool.locator("[data-testid='stCode']").first.inner_text()

    page.get_by_role("button", name="Prepare the report").click()
    zipped = tab.download("Download report (Markdown + charts, .zip)", tmp_path)
    with zipfile.ZipFile(io.BytesIO(zipped.read_bytes())) as archive:
        names = archive.namelist()
        markdown = archive.read("conversation.md").decode("utf-8")
        charts = [n for n in names if re.fullmatch(r"charts/chart-\d{4}\.png", n)]
        assert len(charts) == 1, names
        assert archive.read(charts[0]).startswith(b"\x89PNG\r\n\x1a\n")
    assert "call run\\_sql" in markdown  # the question (escaped Markdown)
    assert "The run\\_sql tool returned" in markdown  # the answer's transcript
    assert f"```sql\n{SQL}\n```" in markdown
    assert "| keeper | storm\\_nights |" in markdown and "| Iona MacLeod | 47 |" in markdown
    assert f"]({charts[0]})" in markdown

    html_file = tab.download("Download report (HTML, opens offline)", tmp_path)
    for blob in (zipped.read_bytes(), html_file.read_bytes()):
        assert e2e_stack.api_key.encode() not in blob and b"auth_tokens/" not in blob

    # The HTML opens with the network off and draws the chart from inside the file.
    viewer = browser.context.new_page()
    requests: list[str] = []
    viewer.on("request", lambda r: requests.append(r.url))
    browser.context.set_offline(True)
    try:
        viewer.goto(html_file.as_uri())
        image = viewer.locator("img.chart").first
        image.wait_for(state="visible", timeout=10_000)
        assert viewer.evaluate("() => document.querySelector('img.chart').naturalWidth") > 100
        assert "Iona MacLeod" in (viewer.locator("details.tool table").first.text_content() or "")
    finally:
        browser.context.set_offline(False)
        viewer.close()
    assert all(url.startswith(("file:", "data:")) for url in requests), requests

    # A reload is a new Streamlit session: the conversation comes back.
    page.reload(wait_until="domcontentloaded")
    tab.wait_for_component()
    assert "?conversation=" in page.url or "&conversation=" in page.url
    text = tab.wait_for_transcript("call run_sql", timeout_s=30)
    assert "show_chart" in text
    page.get_by_text("Restored the conversation").first.wait_for(timeout=10_000)
