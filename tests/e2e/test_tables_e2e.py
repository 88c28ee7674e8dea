"""Several tables end to end (issue 18): a two-sheet workbook uploaded in the browser becomes
two SQL tables; a typed ``call run_sql {...}`` joining the sheets runs on the server over
both, and the right result shows in the transcript.

The emulator turns typed ``call NAME {json}`` into a real toolCall, so this goes through
the whole path: upload -> table set -> locked token (instruction and declarations naming
both tables) -> Live session -> toolCall -> the multi-table SQL worker -> toolResponse.
"""

from __future__ import annotations

import re

import json

import pandas as pd
import pytest

from tests.e2e.browser import squash
from tests.e2e.emulator_records import instruction_text, voice_sessions

pytestmark = pytest.mark.e2e

WORKBOOK = "shop.xlsx"
ORDERS = pd.DataFrame({"order_id": [1, 2, 3, 4, 5], "customer_id": [10, 11, 10, 12, 11],
                       "amount": [5.0, 7.5, 1.25, 2.0, 4.0]})
CUSTOMERS = pd.DataFrame({"customer_id": [10, 11, 12], "region": ["North", "South", "Harbour"]})
JOIN_SQL = ("SELECT c.region, count(*) AS orders, sum(o.amount) AS total FROM orders o "
            "JOIN customers c USING (customer_id) GROUP BY 1 ORDER BY total DESC")


def _calls(sessions: list[dict], known: set[str], name: str) -> list[dict]:
    return [c for s in voice_sessions(sessions) if s["id"] not in known
            for c in s["tool_calls"] if c["name"] == name and c["response"] is not None]


def test_a_two_sheet_workbook_is_joined_by_a_typed_sql_call(e2e_stack, browser_factory, speech_wav, e2e_assets):
    emulator = e2e_stack.emulator
    path = e2e_assets / WORKBOOK
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        ORDERS.to_excel(writer, sheet_name="Orders", index=False)
        CUSTOMERS.to_excel(writer, sheet_name="Customers", index=False)

    tab = browser_factory(speech_wav).new_page()
    tab.goto(e2e_stack.app.url, "/")
    tab.upload(path)  # waits for the heading "shop.xlsx — Orders"
    page = tab.page
    # Both sheets are listed as tables, ticked, with their SQL names.
    for name in ("orders", "customers"):
        page.locator("[data-testid='stCheckbox']", has_text=name).first.wait_for(timeout=20_000)
    assert page.locator("[data-testid='stCheckbox'] input:checked").count() == 2
    tab.navigate_to_talk()
    known = e2e_stack.session_ids()

    tab.ask(f"call run_sql {json.dumps({'query': JOIN_SQL})}")
    sessions = emulator.wait_for(lambda ss: _calls(ss, known, "run_sql"), timeout=45)
    [call] = _calls(sessions, known, "run_sql")
    result = call["response"]
    assert "error" not in result, result

    merged = ORDERS.merge(CUSTOMERS, on="customer_id")
    expected = (merged.groupby("region").agg(orders=("order_id", "size"), total=("amount", "sum"))
                .sort_values("total", ascending=False).reset_index())
    assert result["columns"] == ["region", "orders", "total"]
    assert result["rows"] == [[r.region, int(r.orders), float(r.total)] for r in expected.itertuples()]

    # The session was told about both tables, through the token (the lock this app exists for).
    [session] = [s for s in voice_sessions(sessions) if s["id"] not in known]
    first_line = instruction_text(session["effective_setup"]).split("\n", 1)[0]
    assert first_line == ("You are Live Data Chat, a voice analyst for a dataset of 2 tables: "
                          "orders, customers (8 rows in all).")
    assert session["auth"] == "token"

    # The tool result in the transcript is the right one.
    expander = page.locator(".st-key-transcript [data-testid='stExpander']", has_text="Tool: run_sql").first
    expander.wait_for(timeout=20_000)
    shown = ""
    for _ in range(100):
        shown = squash(expander.inner_text())
        if "Harbour" in shown:
            break
        if not expander.locator("details").first.evaluate("d => d.open"):
            # Still collapsed: open it, again if need be, since a click that lands while
            # the live panel's fragment re-renders can be lost.
            expander.locator("summary").first.click()
        page.wait_for_timeout(300)  # the expander's body renders after the click
    # The rows as returned to the model, as a table (`South 2 11.5`), in the query's order.
    rows = [re.compile(rf"{re.escape(r.region)} {int(r.orders)} {re.escape(f'{float(r.total):g}')}0*\b")
            for r in expected.itertuples()]
    found = [row.search(shown) for row in rows]
    assert all(found), (rows, shown)
    positions = [m.start() for m in found if m]
    assert positions == sorted(positions), (rows, shown)
