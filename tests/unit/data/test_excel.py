"""Workbooks read with calamine: .xls and .ods beside .xlsx, sheet names, progress."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
import xlwt
from openpyxl import Workbook

from livechat.data.load import DataLoadError, list_sheets, load_table
from livechat.data.loaders import magic
from tests.unit.data.test_data import xlsx_bytes

ROWS = [
    ["id", "name", "amount", "when", "ok"],
    [1, "Ann", 3.5, dt.datetime(2024, 1, 2), True],
    [2, "Bob", None, dt.datetime(2024, 2, 3), False],
    [3, "Cé", 5.25, dt.datetime(2024, 3, 4), True],
]


def xls_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """An Excel 97-2003 workbook written by xlwt (dates with a date format, as Excel does)."""
    wb = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for title, rows in sheets.items():
        ws = wb.add_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ods_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An OpenDocument spreadsheet written by pandas' odf engine (odfpy)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="odf") as writer:
        for title, frame in sheets.items():
            frame.to_excel(writer, sheet_name=title, index=False)
    return buf.getvalue()


def assert_typed(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["id", "name", "amount", "when", "ok"]
    assert df["id"].tolist() == [1, 2, 3] and pd.api.types.is_integer_dtype(df["id"])
    assert df["name"].tolist() == ["Ann", "Bob", "Cé"]
    assert df["amount"].iloc[0] == 3.5 and np.isnan(df["amount"].iloc[1])
    assert pd.api.types.is_datetime64_any_dtype(df["when"])
    assert df["when"].iloc[2] == pd.Timestamp("2024-03-04")
    assert df["ok"].tolist() == [True, False, True]


def test_xls_is_read_with_types_and_sheets() -> None:
    data = xls_bytes({"Empty": [], "Data": ROWS, "More": [["x"], [1]]})
    table = load_table(data, "legacy.xls")
    assert table.sheets == ("Empty", "Data", "More")
    assert table.sheet == "Data" and table.name == "legacy.xls — Data"
    assert_typed(table.df)
    assert load_table(data, "legacy.xls", sheet="More").df["x"].tolist() == [1]


def test_ods_is_read_with_types_and_sheets() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["Ann", "Bob", "Cé"],
            "amount": [3.5, None, 5.25],
            "when": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04"]),
            "ok": [True, False, True],
        }
    )
    data = ods_bytes({"Data": frame, "Other": pd.DataFrame({"x": [1]})})
    assert magic.sniff_kind(data) == magic.ODS
    table = load_table(data, "open.ods")
    assert table.sheets == ("Data", "Other") and table.sheet == "Data"
    assert_typed(table.df)


def test_a_real_xls_named_xlsx_is_read_all_the_same() -> None:
    table = load_table(xls_bytes({"S": ROWS}), "renamed.xlsx")
    assert_typed(table.df)


def test_an_ods_named_csv_says_what_it_is() -> None:
    data = ods_bytes({"S": pd.DataFrame({"a": [1]})})
    with pytest.raises(DataLoadError, match=r"is an OpenDocument spreadsheet \(\.ods\)\. Rename it to \.ods"):
        load_table(data, "export.csv")


@pytest.mark.parametrize("ext", [".xls", ".ods"])
def test_damaged_legacy_and_open_document_files(ext: str) -> None:
    good = xls_bytes({"S": ROWS}) if ext == ".xls" else ods_bytes({"S": pd.DataFrame({"a": range(50)})})
    with pytest.raises(DataLoadError, match="damaged or truncated") as info:
        load_table(good[: len(good) // 2], "cut" + ext)
    assert "unexpected" not in str(info.value)


def test_text_named_xls_is_refused_plainly() -> None:
    with pytest.raises(DataLoadError, match="is not an Excel workbook"):
        load_table(b"a,b\n1,2\n", "t.xls")


def test_list_sheets_reads_names_only() -> None:
    data = xlsx_bytes({"One": [["a"], [1]], "Two": [["b"], [2]]})
    assert list_sheets(data, "w.xlsx") == ("One", "Two")
    assert list_sheets(xls_bytes({"L": ROWS}), "w.xls") == ("L",)
    assert list_sheets(b"a,b\n1,2\n", "t.csv") == ()
    with pytest.raises(DataLoadError, match="not an Excel workbook"):
        list_sheets(b"a,b\n1,2\n", "t.xlsx")


def test_progress_is_reported_in_order_up_to_done() -> None:
    rows = [["n", "v"], *[[i, f"v{i}"] for i in range(120_000)]]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("S")
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    seen: list[tuple[float, str]] = []
    table = load_table(buf.getvalue(), "big.xlsx", progress=lambda f, stage: seen.append((f, stage)))
    assert len(table.df) == 120_000
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any(stage == "Converting the rows" and 0.5 < f < 0.9 for f, stage in seen)


def test_whole_numbers_read_as_integers_and_mixed_cells_keep_their_text() -> None:
    data = xlsx_bytes({"S": [["n", "mixed", "f"], [1, 2, 1.5], [2, "x", 2.0], [3, 4.0, 3.0]]})
    df = load_table(data, "n.xlsx").df
    assert df["n"].dtype == "int64"
    assert df["mixed"].tolist() == ["2", "x", "4"]
    assert df["f"].dtype == "float64"


def test_a_sheet_declared_over_the_cell_limit_is_refused_before_it_is_parsed() -> None:
    """A few KB of zip can declare millions of cells: the <dimension> is checked first."""
    import zipfile

    from livechat.data.loaders.common import Limits
    from livechat.data.loaders.excel_reader import read_excel
    from livechat.data.loaders.xlsx_dimensions import xlsx_dimensions

    data = xlsx_bytes({"Small": [["a"], [1]], "Big": [["a", "b"], *[[i, i] for i in range(30)]]})
    assert xlsx_dimensions(data) == {"Small": (2, 1), "Big": (31, 2)}
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                body = body.replace(b'ref="A1:B31"', b'ref="A1:XFD1048576"')
            dst.writestr(item.filename, body)
    forged = buf.getvalue()
    assert xlsx_dimensions(forged)["Big"] == (1_048_576, 16_384)
    with pytest.raises(DataLoadError, match="has 16,384 columns"):
        load_table(forged, "bomb.xlsx", sheet="Big")
    limits = Limits(max_columns=20_000, max_cells=1_000)
    with pytest.raises(DataLoadError, match=r"1,048,575 rows × 16,384 columns"):
        read_excel(forged, "bomb.xlsx", sheet="Big", limits=limits)
    assert load_table(forged, "bomb.xlsx", sheet="Small").df["a"].tolist() == [1]


@pytest.mark.parametrize("ext", [".xls", ".ods", ".xlsx"])
def test_mutated_workbooks_give_a_table_or_a_clear_error(ext: str) -> None:
    """Mutated .xls files made calamine panic (pyo3 PanicException, a BaseException):
    every one must end as a table or a DataLoadError."""
    import random

    if ext == ".xls":
        good = xls_bytes({"S": ROWS * 20})
    elif ext == ".ods":
        good = ods_bytes({"S": pd.DataFrame({"a": range(100), "b": ["x"] * 100})})
    else:
        good = xlsx_bytes({"S": ROWS * 20})
    rng = random.Random(3)
    for _ in range(120):
        mutated = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if rng.random() < 0.3:
            mutated = mutated[: rng.randrange(1, len(mutated))]
        try:
            table = load_table(bytes(mutated), "fuzz" + ext)
        except DataLoadError as exc:
            assert "unexpected" not in str(exc), str(exc)
        else:
            assert len(table.df) > 0
