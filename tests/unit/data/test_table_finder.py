"""Report-shaped sheets and CSVs: the table is found inside titles, notes and totals."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from openpyxl import Workbook

from livechat.data.load import DataLoadError, load_table
from livechat.data.loaders import table_finder
from livechat.data.loaders.text_table import find_text_table

REGIONS = ["North", "South", "East", "West", "Central"]


def data_rows(n: int = 30) -> list[list[object]]:
    return [[REGIONS[i % 5], f"P{i:02d}", 10 + i, round(2.5 * i, 2)] for i in range(n)]


def workbook(cells: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None) -> bytes:
    """Sheets given as rows from A1 (None = empty cell), plus merged ranges per sheet."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in cells.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        for ref in (merges or {}).get(title, []):
            ws.merge_cells(ref)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def finance_report(n: int = 30) -> tuple[list[list[object]], list[str]]:
    rows = data_rows(n)
    total = ["Total", None, sum(r[2] for r in rows), sum(r[3] for r in rows)]
    sheet = [
        ["Sales report, Q1 2024", None, None, None],
        ["Prepared by: Finance", None, None, None],
        [],
        ["Region", "Product", "Units", "Revenue"],
        *rows,
        total,
        ["Source: ERP export, 2024-04-02"],
    ]
    return sheet, ["A1:D1"]


def csv_text(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode()


def assert_sales(df: pd.DataFrame, n: int = 30) -> None:
    assert list(df.columns) == ["Region", "Product", "Units", "Revenue"]
    assert len(df) == n
    assert pd.api.types.is_integer_dtype(df["Units"])
    assert pd.api.types.is_float_dtype(df["Revenue"])
    assert pd.api.types.is_string_dtype(df["Region"])
    assert df["Units"].tolist() == [10 + i for i in range(n)]


# ---------------------------------------------------------------- workbooks


def test_finance_workbook_title_note_total_and_footnote() -> None:
    sheet, merges = finance_report()
    table = load_table(workbook({"Q1": sheet}, {"Q1": merges}), "report.xlsx")
    assert_sales(table.df)
    layout = table.layout
    assert layout is not None
    assert layout.describe("Q1") == "table at A4:D34 of sheet 'Q1'; 3 rows above it and 2 below skipped"
    assert layout.header_row == 4
    assert "row 35 'Total' removed: it equals the column sums" in layout.adjustments
    assert layout.totals == ("row 35 'Total' removed: it equals the column sums",)
    assert any(a.startswith("row 36 ('Source: ERP export") for a in layout.adjustments)
    assert table.warnings == ()


def test_a_total_that_does_not_add_up_is_removed_and_said_so() -> None:
    rows = data_rows(5)
    sheet = [["Region", "Product", "Units", "Revenue"], *rows, ["Grand total", None, 1, 2.0]]
    table = load_table(workbook({"S": sheet}), "t.xlsx")
    assert len(table.df) == 5
    assert table.layout is not None
    assert table.layout.totals == ("row 7 'Grand total' removed: its numbers differ from the column sums (kept out all the same)",)


@pytest.mark.parametrize("label", ["Gesamt", "Итого", "合計", "SUM", "Subtotal"])
def test_total_labels_in_other_languages(label: str) -> None:
    rows = data_rows(4)
    sheet = [["Region", "Product", "Units", "Revenue"], *rows, [label, None, 46, 15.0]]
    table = load_table(workbook({"S": sheet}), "t.xlsx")
    assert len(table.df) == 4
    assert table.layout is not None and table.layout.totals[0].startswith(f"row 6 '{label}' removed: it equals")


def test_an_unlabelled_last_row_equal_to_the_sums_is_a_total() -> None:
    rows = data_rows(4)
    sheet = [["Region", "Product", "Units", "Revenue"], *rows, [None, None, 46, 15.0]]
    table = load_table(workbook({"S": sheet}), "t.xlsx")
    assert len(table.df) == 4
    assert table.layout is not None
    assert table.layout.totals == ("row 6 (no label) removed: its numbers equal the column sums",)


def test_offset_table_with_a_spacer_column() -> None:
    rows = [[None, None, "Region", "Units", None, "Revenue"]]
    rows += [[None, None, r[0], r[2], None, r[3]] for r in data_rows(12)]
    sheet = [[], [], [], [], *rows]  # header at C5, spacer column E
    table = load_table(workbook({"S": sheet}), "offset.xlsx")
    df = table.df
    assert list(df.columns) == ["Region", "Units", "Revenue"]
    assert len(df) == 12 and pd.api.types.is_integer_dtype(df["Units"])
    assert table.layout is not None
    assert table.layout.cell_range == "C5:F17"
    assert any("table starts in column C" in a for a in table.layout.adjustments)
    assert any("1 empty column(s) without a name dropped (E)" in a for a in table.layout.adjustments)


def test_two_row_header_from_merged_cells_and_labels_merged_down() -> None:
    sheet = [
        ["Revenue by half-year"],
        [],
        ["Region", 2023, None, 2024, None],
        [None, "H1", "H2", "H1", "H2"],
        ["North", 1.0, 2.0, 3.0, 4.0],
        [None, 5.0, 6.0, 7.0, 8.0],
        ["South", 9.0, 10.0, 11.0, 12.0],
    ]
    merges = ["A1:E1", "B3:C3", "D3:E3", "A3:A4", "A5:A6"]
    table = load_table(workbook({"S": sheet}, {"S": merges}), "halves.xlsx")
    df = table.df
    assert list(df.columns) == ["Region", "2023 H1", "2023 H2", "2024 H1", "2024 H2"]
    assert df["Region"].tolist() == ["North", "North", "South"]
    assert df["2024 H2"].tolist() == [4.0, 8.0, 12.0]
    assert table.layout is not None and table.layout.header_rows == 2
    assert table.layout.header_row == 4 and table.layout.first_row == 3
    assert any("two header rows (3 and 4) combined" in a for a in table.layout.adjustments)


def test_two_row_header_whose_group_names_are_text() -> None:
    sheet = [
        ["Region", "Sales", None, "Costs", None],
        [None, "Q1", "Q2", "Q1", "Q2"],
        ["North", 1, 2, 3, 4],
        ["South", 5, 6, 7, 8],
    ]
    table = load_table(workbook({"S": sheet}, {"S": ["B1:C1", "D1:E1", "A1:A2"]}), "g.xlsx")
    assert list(table.df.columns) == ["Region", "Sales Q1", "Sales Q2", "Costs Q1", "Costs Q2"]
    assert len(table.df) == 2


def test_several_tables_separated_by_empty_rows() -> None:
    first = [["Region", "Units"], *[[REGIONS[i % 5], i] for i in range(6)]]
    second = [["Product", "Price", "Stock"], ["P1", 2.5, 3], ["P2", 3.5, 4]]
    sheet = [*first, [], [], *second]
    table = load_table(workbook({"S": sheet}), "two.xlsx")
    assert list(table.df.columns) == ["Region", "Units"]
    assert len(table.df) == 6 and pd.api.types.is_integer_dtype(table.df["Units"])
    assert any(
        "another table starts at row 10 ('Product', 'Price', 'Stock')" in w for w in table.warnings
    )
    assert table.layout is not None and table.layout.rows_below == 3


def test_empty_rows_inside_a_table_are_skipped_and_listed() -> None:
    sheet = [["Region", "Units"], ["North", 1], [], ["South", 2], ["East", 3]]
    table = load_table(workbook({"S": sheet}), "gap.xlsx")
    assert table.df["Units"].tolist() == [1, 2, 3]
    assert table.layout is not None
    assert "1 empty row(s) inside the table skipped" in table.layout.adjustments


def test_plain_table_loads_exactly_as_before() -> None:
    sheet = [["id", "name", "amount"], [1, "Ann", 3.5], [2, "Bob", 4.5], [3, "Cy", 8.0]]
    table = load_table(workbook({"S": sheet}), "plain.xlsx")
    assert list(table.df.columns) == ["id", "name", "amount"]
    assert table.df["amount"].tolist() == [3.5, 4.5, 8.0]  # 8.0 = 3.5 + 4.5, but a labelled row
    assert table.layout is not None
    assert table.layout.describe("S") == "table at A1:C4 of sheet 'S'"
    assert table.layout.adjustments == ()


def test_header_row_override_reads_names_from_that_row() -> None:
    sheet, merges = finance_report(5)
    data = workbook({"Q1": sheet}, {"Q1": merges})
    table = load_table(data, "report.xlsx", header_row=5)
    assert list(table.df.columns)[:2] == ["North", "P00"]
    assert table.layout is not None and table.layout.header_row == 5
    assert "header row set to row 5 by hand" in table.layout.adjustments
    with pytest.raises(DataLoadError, match="row 3 is empty"):
        load_table(data, "report.xlsx", header_row=3)
    with pytest.raises(DataLoadError, match="header row must be a row number from 1"):
        load_table(data, "report.xlsx", header_row=0)


def test_detection_is_deterministic() -> None:
    sheet, merges = finance_report()
    data = workbook({"Q1": sheet}, {"Q1": merges})
    first, second = load_table(data, "r.xlsx"), load_table(data, "r.xlsx")
    assert first.layout == second.layout
    pd.testing.assert_frame_equal(first.df, second.df)


# ---------------------------------------------------------------- delimited text


def test_csv_with_title_lines_total_and_footnote() -> None:
    sheet, _ = finance_report()
    table = load_table(csv_text(sheet), "export.csv")
    assert_sales(table.df)
    assert table.layout is not None
    assert table.layout.describe(None) == "table at A4:D34; 3 rows above it and 2 below skipped"
    assert table.layout.totals == ("row 35 'Total' removed: it equals the column sums",)
    assert any(a.startswith("line 36 ('Source: ERP export") for a in table.layout.adjustments)


def test_tsv_with_two_title_lines() -> None:
    text = "Sales report\tQ1 2024\nPrepared by finance\n" + csv_text(
        [["Region", "Product", "Units", "Revenue"], *data_rows()]
    ).decode().replace(",", "\t")
    table = load_table(text.encode(), "export.tsv")
    assert_sales(table.df)
    assert table.layout is not None and table.layout.header_row == 3


def test_csv_offset_table_with_spacer_columns() -> None:
    rows = [[None, "Region", "Units", None, "Revenue"]]
    rows += [[None, r[0], r[2], None, r[3]] for r in data_rows(8)]
    table = load_table(csv_text([[], *rows]), "offset.csv")
    assert list(table.df.columns) == ["Region", "Units", "Revenue"]
    assert len(table.df) == 8
    assert table.layout is not None and table.layout.cell_range == "B2:E10"


def test_csv_several_tables_first_loaded_others_named() -> None:
    first = [["Region", "Units"], *[[REGIONS[i % 5], i] for i in range(6)]]
    second = [["Product", "Price"], ["P1", 2.5], ["P2", 3.5]]
    text = csv_text(first) + b"\n" + csv_text(second)
    table = load_table(text, "two.csv")
    assert list(table.df.columns) == ["Region", "Units"]
    assert table.df["Units"].tolist() == list(range(6))
    assert any("another table starts at line 9 ('Product', 'Price')" in w for w in table.warnings)


def test_csv_header_override() -> None:
    sheet, _ = finance_report(5)
    table = load_table(csv_text(sheet), "export.csv", header_row=5)
    assert list(table.df.columns)[:2] == ["North", "P00"]
    assert table.layout is not None and table.layout.header_row == 5


def test_plain_csv_layout_is_the_whole_file() -> None:
    table = load_table(b"a,b\n1,x\n2,y\n", "p.csv")
    assert table.layout is not None
    assert table.layout.describe(None) == "table at A1:B3"
    assert table.layout.adjustments == () and table.warnings == ()


def test_detection_reads_a_bounded_head_whatever_the_size() -> None:
    """The header search gets the first HEAD_ROWS lines however long the file is."""
    body = b"".join(b"%d,%d\n" % (i, i * 2) for i in range(200_000))
    big = b"Title line\n\nid,double\n" + body
    prefix = big[:65536].decode()
    found = find_text_table(memoryview(big), prefix, ",", header_row=None, name="big.csv")
    assert found.header_line == 3 and found.start == len(b"Title line\n\n")
    assert found.end == len(big)


# ---------------------------------------------------------------- the pieces


def test_column_letters() -> None:
    assert [table_finder.column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_find_header_prefers_a_wide_text_row_over_a_title() -> None:
    rows = [["Quarterly numbers"], ["Prepared by", "Jane"], [], ["a", "b", "c", "d"], [1, 2, 3, 4]]
    guess = table_finder.find_header(rows)
    assert guess is not None and guess.row == 3 and guess.rows_above == 3


def test_find_header_falls_back_to_the_first_non_empty_row() -> None:
    guess = table_finder.find_header([[], [1, 2], [3, 4]])
    assert guess is not None and guess.row == 1


def test_removed_totals_reach_the_summary_as_a_note() -> None:
    from livechat.summary.builder import summarize

    sheet, merges = finance_report(5)
    table = load_table(workbook({"Q1": sheet}, {"Q1": merges}), "report.xlsx")
    assert table.layout is not None
    text = summarize(table.df, name=table.name, source_notes=table.layout.totals).text
    assert "- kept out of the table, not in the data: row 10 'Total' removed: it equals the column sums" in text
    assert "kept out of the table" not in summarize(table.df, name=table.name).text


def test_a_last_record_with_only_its_label_stays_data() -> None:
    sheet = [["Region", "Units"], ["North", 1], ["South", 2], ["East", None]]
    table = load_table(workbook({"S": sheet}), "s.xlsx")
    assert table.df["Region"].tolist() == ["North", "South", "East"]


def test_a_numeric_header_row_stays_the_header_above_text_rows() -> None:
    table = load_table(b"2021,2022,2023\nabc,def,ghi\nx,y,z\n", "years.csv")
    assert list(table.df.columns) == ["2021", "2022", "2023"]
    assert len(table.df) == 2
