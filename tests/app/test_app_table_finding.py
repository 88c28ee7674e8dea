"""The Data page says where the table was found in a report-shaped file, and the
header-row control reads the table again from the row the analyst picks."""

from __future__ import annotations

import io

from openpyxl import Workbook
from streamlit.testing.v1 import AppTest

from livechat.summary.builder import summarize
from livechat.summary.prompt import build_system_instruction
from livechat.data.load import load_table
from livechat.ui import state
from tests.app.apptest_support import new_app, plain

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGIONS = ["North", "South", "East"]


def _report() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Q1"
    ws.append(["Sales report, Q1 2024"])
    ws.merge_cells("A1:C1")
    ws.append(["Prepared by: Finance"])
    ws.append([])
    ws.append(["Region", "Units", "Revenue"])
    rows = [[REGIONS[i % 3], 10 + i, 1.5 * i] for i in range(6)]
    for row in rows:
        ws.append(row)
    ws.append(["Total", sum(r[1] for r in rows), sum(r[2] for r in rows)])
    ws.append(["Source: [ERP](http://example.invalid/x.png) export"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _uploaded(data: bytes) -> AppTest:
    at = new_app().run()
    assert not at.exception
    at.file_uploader[0].set_value(("report.xlsx", data, XLSX_MIME)).run()
    assert not at.exception
    return at


def _found_label(at: AppTest) -> str:
    labels = [plain(e.label) for e in at.expander if e.label.startswith("Found: ")]
    assert len(labels) == 1
    return labels[0]


def test_what_was_found_is_shown_with_every_adjustment() -> None:
    at = _uploaded(_report())
    assert not at.error
    assert _found_label(at) == "Found: table at A4:C10 of sheet 'Q1'; 3 rows above it and 2 below skipped"
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["Region", "Units", "Revenue"] and len(shown) == 6
    notes = plain(" ".join(m.value for m in at.markdown))
    assert "row 11 'Total' removed: it equals the column sums" in notes
    assert "is a note and was skipped" in notes
    # Cell text is shown inert: no link or image can come from an upload.
    assert not any("[ERP](http" in m.value for m in at.markdown)
    # The model is told about the removed total too.
    assert "kept out of the table, not in the data: row 11" in at.code[0].value


def test_the_header_row_override_reloads_the_table() -> None:
    data = _report()
    at = _uploaded(data)
    control = at.number_input(key=next(n.key for n in at.number_input if n.label == "Header row"))
    assert control.value == 4
    control.set_value(5).run()
    assert not at.exception and not at.error
    expected = load_table(data, "report.xlsx", header_row=5)
    shown = at.dataframe[0].value
    assert list(shown.columns) == list(expected.df.columns) == ["North", "10", "0"]
    assert len(shown) == len(expected.df) == 5
    assert _found_label(at).startswith("Found: table at A5:C10 of sheet 'Q1'")
    budget = state.DEFAULT_BUDGET
    instruction = build_system_instruction(
        summarize(expected.df, name=expected.name, budget_tokens=budget, source_notes=expected.layout.totals)
    )
    assert at.code[0].value == instruction
    # Back to the row the loader found: the first table again.
    at.number_input(key=control.key).set_value(4).run()
    assert list(at.dataframe[0].value.columns) == ["Region", "Units", "Revenue"]


def test_an_empty_header_row_is_refused_and_the_table_stays() -> None:
    at = _uploaded(_report())
    control = at.number_input(key=next(n.key for n in at.number_input if n.label == "Header row"))
    control.set_value(3).run()
    assert not at.exception
    assert len(at.error) == 1 and "row 3 is empty" in at.error[0].value
    assert list(at.dataframe[0].value.columns) == ["Region", "Units", "Revenue"]
