"""Definitions end to end (issue 31): a data file and its ``.definitions.yaml`` uploaded
together; the token's effective instruction (the emulator's record) holds the term's
meaning and SQL after the data fence, and the vocabulary its aliases; first-question
buttons before the first question, one click answered as a typed turn; a ``run_sql`` call
saved as a trusted query, then declared and, when called, marked "trusted query: ..." in
the transcript and the report.

The emulator turns a typed ``call NAME {json}`` into a real toolCall for any declared
function, ``run_trusted_query`` included (it is in the token's tools only once saved).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livechat.summary.escape import FENCE_CLOSE
from tests.e2e.browser import squash
from tests.e2e.emulator_records import instruction_text, voice_sessions

pytestmark = pytest.mark.e2e

CSV = "region,revenue,refunds\n" + "".join(
    f"{('North', 'South', 'East')[i % 3]},{100 + 7 * i},{i % 4}\n" for i in range(12))
DEFINITIONS = """terms:
  - name: net revenue
    meaning: revenue after refunds
    sql: sum(revenue) - sum(refunds)
    aliases: [turnover, net sales]
"""
SQL = "SELECT region, sum(revenue) - sum(refunds) AS net FROM data GROUP BY 1 ORDER BY 2 DESC"
QUESTION = "net revenue per region"


def _new_sessions(sessions: list[dict], known: set[str]) -> list[dict]:
    return [s for s in voice_sessions(sessions) if s["id"] not in known]


def _answered(sessions: list[dict], known: set[str], name: str) -> list[dict]:
    return [c for s in _new_sessions(sessions, known) for c in s["tool_calls"]
            if c["name"] == name and c["response"] is not None]


def _declared(session: dict) -> list[str]:
    tools = (session.get("effective_setup") or {}).get("tools") or []
    return [d.get("name") for t in tools for d in t.get("functionDeclarations") or []]


def test_definitions_trusted_queries_and_first_questions(e2e_stack, browser_factory, speech_wav,
                                                         e2e_assets: Path, tmp_path: Path) -> None:
    emulator = e2e_stack.emulator
    data, definitions = e2e_assets / "shop.csv", e2e_assets / "shop.definitions.yaml"
    data.write_text(CSV)
    definitions.write_text(DEFINITIONS)
    tab = browser_factory(speech_wav).new_page()
    page = tab.page
    tab.goto(e2e_stack.app.url, "/")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([str(data), str(definitions)])
    page.locator('[data-testid="stHeading"]', has_text="shop.csv").first.wait_for(timeout=30_000)
    tab.navigate_to_talk()
    known = e2e_stack.session_ids()

    # First questions: at least three buttons before the first question; one click asks it.
    buttons = page.locator(".st-key-first-questions [data-testid='stButton'] button")
    buttons.first.wait_for(timeout=20_000)
    assert buttons.count() >= 3
    question = squash(buttons.first.inner_text())
    assert question == "What is the net revenue by region?"  # the defined term comes first
    buttons.first.click()
    tab.wait_for_transcript(f'You said: "{question}"', timeout_s=45)  # answered, as typed
    assert tab.user_messages()[-1] == question
    assert page.locator(".st-key-first-questions").count() == 0  # gone after the first question

    # The token's effective instruction: the term after the data fence; aliases in the vocabulary.
    [session] = _new_sessions(emulator.sessions(), known)
    instruction = instruction_text(session["effective_setup"])
    after_fence = instruction[instruction.index(FENCE_CLOSE):]
    assert "revenue after refunds" in after_fence and "sum(revenue) - sum(refunds)" in after_fence
    assert {"net revenue", "turnover", "net sales"} <= set(session["custom_vocabulary"] or [])
    assert "run_trusted_query" not in _declared(session)  # none saved yet

    # A run_sql call saved as a trusted query, with the question it answers.
    tab.ask(f"call run_sql {json.dumps({'query': SQL})}")
    emulator.wait_for(lambda ss: _answered(ss, known, "run_sql"), timeout=45)
    # The expander's label changes when the call finishes (a new, closed expander): open the final one.
    tab.wait_for_transcript("Tool: run_sql (done)", timeout_s=30)
    tool = page.locator(".st-key-transcript [data-testid='stExpander']", has_text="Tool: run_sql (done)").first
    tool.locator("summary").click()
    box = tool.get_by_label("The question it answers")
    box.wait_for(timeout=10_000)
    box.fill(QUESTION)
    tab.submit(tool.get_by_role("button", name="Save as trusted query"),
               f"Saved as a trusted query: \u201c{QUESTION}\u201d")

    # Declared in the next session's token, and marked when called.
    known = e2e_stack.session_ids()
    tab.ask(f"call run_trusted_query {json.dumps({'name': QUESTION})}")
    sessions = emulator.wait_for(lambda ss: _answered(ss, known, "run_trusted_query"), timeout=45)
    [call] = _answered(sessions, known, "run_trusted_query")
    assert call["response"]["trusted_query"] == QUESTION and "error" not in call["response"]
    assert call["response"]["columns"] == ["region", "net"]
    [trusted_session] = [s for s in _new_sessions(sessions, known) if s["tool_calls"]]
    assert "run_trusted_query" in _declared(trusted_session)
    mark = page.locator(".st-key-transcript [class*='st-key-trusted-mark-']").first
    mark.wait_for(timeout=20_000)
    assert squash(mark.inner_text()).endswith(f"trusted query: {QUESTION}")

    page.get_by_role("button", name="Prepare the report").click()
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download report (HTML, opens offline)").click()
    report = tmp_path / "report.html"
    info.value.save_as(report)
    assert f"trusted query: {QUESTION}" in report.read_text(encoding="utf-8")
