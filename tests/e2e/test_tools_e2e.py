"""Tools end to end (issue 9.5): typed tool calls run on the server and draw in the page.

The emulator turns a typed ``call NAME {json}`` into a real ``toolCall`` for a declared
function, so these go through the whole path: chat input -> Live session -> toolCall ->
ToolBox -> toolResponse -> the emulator's record, and the chart or result in the page.
No voice is started: a typed question opens a text-only session.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from livechat.data.sample import SAMPLE_PATH
from tests.e2e.harness import voice_sessions

pytestmark = pytest.mark.e2e

CHART_ARGS = {"kind": "bar", "x": "keeper", "y": "storm_night", "aggregate": "sum"}
STORM_SQL = ('SELECT keeper, count(*) AS storm_nights FROM data WHERE storm_night '
             'GROUP BY keeper ORDER BY storm_nights DESC, keeper')


def _calls(sessions: list[dict], known: set[str], name: str) -> list[dict]:
    return [c for s in voice_sessions(sessions) if s["id"] not in known
            for c in s["tool_calls"] if c["name"] == name and c["response"] is not None]


def _rows_as_pairs(result: dict) -> dict[str, int]:
    """keeper -> storm_nights from a run_sql result (rows as lists or as objects)."""
    columns = result["columns"]
    pairs = {}
    for row in result["rows"]:
        values = dict(zip(columns, row)) if isinstance(row, list) else row
        pairs[str(values["keeper"])] = int(values["storm_nights"])
    return pairs


def test_typed_tool_calls_draw_a_chart_and_answer_with_sql(e2e_stack, browser_factory, speech_wav):
    emulator = e2e_stack.emulator
    tab = browser_factory(speech_wav).new_page()
    tab.open_talk(e2e_stack.app.url)
    known = e2e_stack.session_ids()
    page = tab.page

    tab.ask(f"call show_chart {json.dumps(CHART_ARGS)}")
    sessions = emulator.wait_for(lambda ss: _calls(ss, known, "show_chart"), timeout=30)
    [chart_call] = _calls(sessions, known, "show_chart")
    assert chart_call["args"] == CHART_ARGS
    assert "error" not in chart_call["response"], chart_call["response"]
    page.locator(".st-key-transcript [data-testid='stVegaLiteChart']").first.wait_for(state="visible", timeout=20_000)
    page.locator("[data-testid='stExpander']", has_text="Tool: show_chart").first.wait_for(timeout=10_000)

    tab.ask(f"call run_sql {json.dumps({'query': STORM_SQL})}")
    sessions = emulator.wait_for(lambda ss: _calls(ss, known, "run_sql"), timeout=30)
    [sql_call] = _calls(sessions, known, "run_sql")
    result = sql_call["response"]
    assert "error" not in result, result
    df = pd.read_csv(SAMPLE_PATH)
    expected = df[df["storm_night"].astype(bool)].groupby("keeper").size()
    assert _rows_as_pairs(result) == {str(k): int(v) for k, v in expected.items()}
    page.locator("[data-testid='stExpander']", has_text="Tool: run_sql").first.wait_for(timeout=20_000)
    # Both calls went through the same token-authenticated session path as voice.
    assert all(s["auth"] == "token" for s in voice_sessions(sessions) if s["id"] not in known)
