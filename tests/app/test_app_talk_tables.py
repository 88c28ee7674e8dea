"""The Talk page with a table set: joins through typed tool calls, charts of a query
result, the sidebar's table list, and a changed set starting a new session."""

from __future__ import annotations

import io
import json

import pandas as pd
from streamlit.testing.v1 import AppTest

from livechat.voice.bridge import VoiceBridge
from tests.app.apptest_support import new_app
from tests.app.test_app_talk import REPLY_TIMEOUT_S, _ask, _bridge, _messages, _rerun_until

ORDERS_CSV = b"order_id,customer_id,amount\n1,10,5.0\n2,11,7.5\n3,10,1.25\n4,12,2.0\n"
JOIN = ("SELECT c.region, sum(o.amount) AS total FROM orders o "
        "JOIN customers c USING (customer_id) GROUP BY 1 ORDER BY 1")


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"customer_id": [10, 11, 12], "region": ["North", "South", "North"]}).to_parquet(
        buffer, index=False)
    return buffer.getvalue()


def _talk_with_tables(bridges: list[VoiceBridge]) -> AppTest:
    at = new_app().run()
    at.file_uploader[0].set_value([
        ("orders.csv", ORDERS_CSV, "text/csv"),
        ("customers.parquet", _parquet(), "application/octet-stream")]).run()
    assert not at.exception and not at.error
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    bridges.append(_bridge(at))
    return at


def _tool_expander(at: AppTest, name: str):
    label = f"Tool: {name.replace('_', chr(92) + '_')} (done)"
    return next(e for e in at.expander if e.label == label)


def _tool_rows(at: AppTest, name: str) -> tuple[list, list]:
    """The result table a tool call shows (as returned to the model): columns and rows."""
    frame = _tool_expander(at, name).table[-1].value
    return list(frame.columns), frame.values.tolist()


def test_a_typed_join_gets_the_exact_answer_and_the_sidebar_lists_the_tables(bridges) -> None:
    at = _talk_with_tables(bridges)
    sidebar = [c.value for c in at.sidebar.caption]
    assert "`orders` · 4 rows × 3 columns" in sidebar and "`customers` · 3 rows × 2 columns" in sidebar
    _ask(at, "call run_sql " + json.dumps({"query": JOIN}))
    _rerun_until(at, lambda a: any(e.label == "Tool: run\\_sql (done)" for e in a.expander), "the join")
    columns, rows = _tool_rows(at, "run_sql")
    assert columns == ["region", "total"]
    assert rows == [["North", 8.25], ["South", 7.5]]


def test_a_chart_of_a_join_is_drawn_in_the_transcript(bridges) -> None:
    at = _talk_with_tables(bridges)
    _ask(at, "call show_chart " + json.dumps({"kind": "bar", "x": "region", "y": "total", "query": JOIN}))
    _rerun_until(at, lambda a: any(e.label == "Tool: show\\_chart (done)" for e in a.expander), "the chart")
    assert not _tool_expander(at, "show_chart").warning  # a failed call shows its error as a warning
    assert len(at.get("vega_lite_chart")) == 1
    assert not at.caption or all("cannot be drawn" not in c.value for c in at.caption)


def test_a_changed_set_starts_a_new_session_and_keeps_the_transcript(bridges) -> None:
    at = _talk_with_tables(bridges)
    _ask(at, "first question")
    bridge = _bridge(at)
    assert bridge.wait_for_replies(1, REPLY_TIMEOUT_S)
    _rerun_until(at, lambda a: any(n == "assistant" for n, _ in _messages(a)), "the first reply")
    first_instruction = bridge.session.effective_instruction
    assert "customers" in first_instruction

    at.switch_page("pages/data.py").run()
    at.checkbox[1].uncheck().run()
    assert not at.exception
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    notices = [i.value for i in at.info if i.value.startswith("The data changed")]
    # The text session was still open: it is replaced at once by one with the new instruction.
    assert notices == ["The data changed (now: orders). A new session started with the new "
                       "instruction; the conversation above was about the previous data."]
    assert ("user", "first question") in _messages(at)  # the transcript stays visible
    assert bridge.stats().sessions_started == 2
    second_instruction = bridge.session.effective_instruction
    assert "customers" not in second_instruction
    assert second_instruction.startswith("You are Live Data Chat, a voice analyst for a dataset of 1 table: orders")

    _ask(at, "second question")
    assert bridge.wait_for_replies(2, REPLY_TIMEOUT_S)
    assert bridge.stats().sessions_started == 2  # the question went to the new session
    at.run()
    assert len([i for i in at.info if i.value.startswith("The data changed")]) == 1

    # The unticked table is gone from SQL too.
    _ask(at, "call run_sql " + json.dumps({"query": "SELECT count(*) AS n FROM customers"}))
    _rerun_until(at, lambda a: any(e.label == "Tool: run\\_sql (failed)" for e in a.expander), "the refused query")
    expander = next(e for e in at.expander if e.label == "Tool: run\\_sql (failed)")
    assert "Table customers not found" in expander.warning[-1].value  # the error as returned to the model
