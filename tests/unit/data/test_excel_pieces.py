"""A big .xlsx sheet read in pieces (`xlsx_pieces`) gives what the whole sheet gives.

The thresholds are lowered so that small workbooks take the pieces path, cut into
pieces of a few rows: every table is loaded both ways and compared (values, dtypes,
names, warnings, layout).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from openpyxl import Workbook
from openpyxl.styles import Font

from livechat.data.load import DataLoadError, LoadedTable, load_table
from livechat.data.loaders import excel_reader, xlsx_pieces
from livechat.data.loaders.common import Limits
from livechat.data.loaders.excel_reader import read_excel
from livechat.data.loaders.xlsx_pieces import PieceSheet
from tests.unit.data.test_data import xlsx_bytes

Rows = list[list[object]]


class Pieces:
    """Loads a workbook whole and in pieces; counts the pieces calamine parsed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.parsed = 0

    def whole(self, data: bytes, name: str = "t.xlsx", **kw: object) -> LoadedTable | str:
        with self.monkeypatch.context() as m:
            m.setattr(excel_reader, "PIECES_OVER_CELLS", 10**15)
            return _outcome(lambda: load_table(data, name, **kw))  # type: ignore[arg-type]

    def in_pieces(
        self, data: bytes, name: str = "t.xlsx", *, piece_bytes: int = 400, whole_ok: bool = False, **kw: object
    ) -> LoadedTable | str:
        parse = PieceSheet._parse

        def counted(sheet: PieceSheet, stored: io.BytesIO) -> object:
            self.parsed += 1
            return parse(sheet, stored)

        def no_whole(*args: object) -> object:
            raise AssertionError("the sheet was read whole")

        with self.monkeypatch.context() as m:
            m.setattr(excel_reader, "PIECES_OVER_CELLS", 0)
            m.setattr(xlsx_pieces, "PIECE_BYTES", piece_bytes)
            m.setattr(xlsx_pieces, "MAX_PIECE_BYTES", piece_bytes)
            m.setattr(PieceSheet, "_parse", counted)
            if not whole_ok:
                m.setattr(excel_reader, "_sheet", no_whole)
            return _outcome(lambda: load_table(data, name, **kw))  # type: ignore[arg-type]

    def same(self, data: bytes, name: str = "t.xlsx", **kw: object) -> LoadedTable:
        """Loads both ways, asserts they agree, returns the table."""
        whole_kw = {k: v for k, v in kw.items() if k not in ("piece_bytes", "whole_ok")}
        expected = self.whole(data, name, **whole_kw)
        got = self.in_pieces(data, name, **kw)  # type: ignore[arg-type]
        if isinstance(expected, str) or isinstance(got, str):
            assert got == expected
            raise AssertionError(f"both failed: {expected}")
        pd.testing.assert_frame_equal(got.df, expected.df, check_exact=True)
        assert list(got.df.columns) == list(expected.df.columns)
        assert got.warnings == expected.warnings
        assert got.layout == expected.layout
        assert got.conversions == expected.conversions
        assert (got.name, got.sheets, got.sheet) == (expected.name, expected.sheets, expected.sheet)
        return got


def _outcome(load: Callable[[], LoadedTable]) -> LoadedTable | str:
    try:
        return load()
    except DataLoadError as exc:
        return f"DataLoadError: {exc}"


@pytest.fixture
def pieces(monkeypatch: pytest.MonkeyPatch) -> Pieces:
    return Pieces(monkeypatch)


def _typed_rows(n: int) -> Rows:
    rows: Rows = [["id", "name", "amount", "when", "ok", "mixed", "sparse"]]
    for i in range(n):
        rows.append(
            [
                i,
                f"name {i % 13}",
                None if i % 11 == 0 else i * 1.25,
                dt.datetime(2024, 1, 1) + dt.timedelta(days=i),
                i % 3 == 0,
                "x" if i % 17 == 0 else i,
                "note" if i % 50 == 7 else None,
            ]
        )
    return rows


def _sheet_xml(data: bytes, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(part)


def _replace_part(data: bytes, part: str, body: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, body if item.filename == part else src.read(item.filename))
    return buf.getvalue()


# ---------------------------------------------------------------- same table both ways


def test_typed_columns_read_in_pieces_as_from_the_whole_sheet(pieces: Pieces) -> None:
    data = xlsx_bytes({"S": _typed_rows(300)})
    table = pieces.same(data)
    assert pieces.parsed > 20  # many pieces, not one
    df = table.df
    assert len(df) == 300
    assert df["id"].dtype == "int64" and df["amount"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(df["when"]) and df["ok"].dtype == bool
    assert df["when"].iloc[299] == pd.Timestamp("2024-10-26")


@pytest.mark.parametrize("strings", ["shared", "inline"])
def test_shared_and_inline_strings_dates_and_booleans(pieces: Pieces, tmp_path: Path, strings: str) -> None:
    """XlsxWriter writes a shared-strings table as Excel does, or (constant_memory,
    which needs a file) inline strings."""
    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": strings == "inline"})
    ws = wb.add_worksheet("orders")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["id", "region", "day", "member", "score", "customer"])
    for r in range(1, 201):
        ws.write_number(r, 0, r)
        ws.write_string(r, 1, ["North", "South", "Ö-Süd & <Ost>"][r % 3])
        ws.write_datetime(r, 2, dt.datetime(2023, 5, 1) + dt.timedelta(days=r), date)
        ws.write_boolean(r, 3, r % 2 == 0)
        ws.write_number(r, 4, r / 7)
        ws.write_string(r, 5, f"CUST-{r * 7919 % 1000:04d}")
    wb.close()
    data = path.read_bytes()
    assert (b't="s"' if strings == "shared" else b"inlineStr") in _sheet_xml(data)
    table = pieces.same(data)
    assert pieces.parsed > 10
    assert table.df["region"].iloc[1] == "Ö-Süd & <Ost>"
    assert table.df["customer"].iloc[199] == f"CUST-{200 * 7919 % 1000:04d}"
    assert pd.api.types.is_datetime64_any_dtype(table.df["day"]) and table.df["member"].dtype == bool


@pytest.mark.parametrize("piece_bytes", [1, 150, 2_000, 10**9])
def test_rows_split_across_pieces_of_any_size(pieces: Pieces, piece_bytes: int) -> None:
    """1 byte: a piece per row; 10**9: one piece for the sheet."""
    pieces.same(xlsx_bytes({"S": _typed_rows(60)}), piece_bytes=piece_bytes)
    assert pieces.parsed >= 1


@pytest.mark.parametrize("block", [97, 4096])
def test_tags_across_inflated_blocks(pieces: Pieces, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """The XML comes out of zlib in blocks: `</row>` and `<sheetData>` straddle them."""
    monkeypatch.setattr(xlsx_pieces, "_BLOCK", block)
    data = xlsx_bytes({"S": _typed_rows(120)})
    pieces.same(data, piece_bytes=700)
    pieces.same(_replace_part(data, "", b"", method=zipfile.ZIP_STORED), piece_bytes=700)
    assert pieces.parsed > 20


def test_a_long_tail_after_the_rows_is_read_whole(pieces: Pieces, monkeypatch: pytest.MonkeyPatch) -> None:
    """`</sheetData>` is looked for near the end of the XML only."""
    monkeypatch.setattr(xlsx_pieces, "_BLOCK", 64)
    monkeypatch.setattr(xlsx_pieces, "_TAIL_WINDOW", 64)
    wb = Workbook()
    ws = wb.active
    for row in _typed_rows(30):
        ws.append(row)
    for r in range(40, 80):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
    buf = io.BytesIO()
    wb.save(buf)
    pieces.same(buf.getvalue(), whole_ok=True)
    assert pieces.parsed == 0


def test_empty_rows_leading_blank_rows_and_columns(pieces: Pieces) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    ws.cell(row=4, column=3, value="code")
    ws.cell(row=4, column=4, value="qty")
    r = 5
    for i in range(120):
        if i % 25 == 24:
            r += 3  # three empty rows inside the table: several pieces' worth
        ws.cell(row=r, column=3, value=f"c{i}")
        ws.cell(row=r, column=4, value=i)
        r += 1
    buf = io.BytesIO()
    wb.save(buf)
    table = pieces.same(buf.getvalue(), piece_bytes=120)
    assert pieces.parsed > 50
    assert table.layout is not None and table.layout.first_col == 3
    assert any("empty row(s) inside the table skipped" in a for a in table.layout.adjustments)


def test_a_report_shaped_sheet(pieces: Pieces) -> None:
    """Title and notes above, a merged band over the header, labels merged down a
    column, a total, a footnote and a second table below."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Q1"
    ws["A1"] = "Sales report"
    ws.merge_cells("A1:E1")
    ws["A2"] = "Prepared by Finance"
    ws["B4"] = "2023"
    ws.merge_cells("B4:C4")
    ws["D4"] = "2024"
    ws.merge_cells("D4:E4")
    ws.append([])
    ws["A5"], ws["B5"], ws["C5"], ws["D5"], ws["E5"] = "region", "H1", "H2", "H1", "H2"
    row = 6
    for k, region in enumerate(["North", "South", "East", "West"]):
        ws.cell(row=row, column=1, value=region)
        ws.merge_cells(start_row=row, start_column=1, end_row=row + 9, end_column=1)
        for i in range(10):
            for c in range(2, 6):
                ws.cell(row=row + i, column=c, value=(k + 1) * 100 + i * c)
        row += 10
    ws.cell(row=row, column=1, value="Total")
    for c in range(2, 6):
        ws.cell(row=row, column=c, value=sum((k + 1) * 100 + i * c for k in range(4) for i in range(10)))
    ws.cell(row=row + 1, column=1, value="* unaudited figures")
    ws.cell(row=row + 3, column=1, value="product")
    ws.cell(row=row + 3, column=2, value="units")
    ws.cell(row=row + 4, column=1, value="Kettle")
    ws.cell(row=row + 4, column=2, value=3)
    buf = io.BytesIO()
    wb.save(buf)
    table = pieces.same(buf.getvalue(), piece_bytes=300)
    assert pieces.parsed > 5
    assert list(table.df.columns)[:3] == ["region", "2023 H1", "2023 H2"]
    assert table.df["region"].tolist()[:11] == ["North"] * 10 + ["South"]
    assert table.layout is not None and table.layout.totals
    assert any("another table starts" in w for w in table.warnings)


def test_a_label_merged_down_over_empty_rows(pieces: Pieces) -> None:
    """Rows with no value fall between pieces; the merge fills some of them only."""
    wb = Workbook()
    ws = wb.active
    ws.append(["group", "value"])
    for k in range(4):
        top = 2 + k * 6
        ws.cell(row=top, column=1, value=f"g{k}")
        ws.cell(row=top, column=2, value=k)
        ws.merge_cells(start_row=top, start_column=1, end_row=top + 2, end_column=1)
        ws.cell(row=top + 4, column=2, value=k * 10)  # below two empty rows
    buf = io.BytesIO()
    wb.save(buf)
    table = pieces.same(buf.getvalue(), piece_bytes=1)
    assert table.df["group"].fillna("-").tolist()[:8] == ["g0", "g0", "g0", "-", "g1", "g1", "g1", "-"]


def test_the_header_row_chosen_by_hand(pieces: Pieces) -> None:
    rows: Rows = [["Title"], ["a", "b"], *[[i, i * 2] for i in range(80)]]
    table = pieces.same(xlsx_bytes({"S": rows}), header_row=3)
    assert list(table.df.columns) == ["0", "0_2"] and len(table.df) == 79
    assert pieces.same(xlsx_bytes({"S": rows}), header_row=2).df.columns.tolist() == ["a", "b"]


def test_an_empty_first_sheet_is_skipped_by_its_pieces(pieces: Pieces) -> None:
    wb = Workbook()
    blank = wb.active
    blank.title = "Blank"
    for r in range(1, 40):
        blank.cell(row=r, column=2, value="")  # blank text: no value
        blank.cell(row=r, column=3).font = Font(bold=True)  # formatting only
    data_sheet = wb.create_sheet("Data")
    for row in _typed_rows(40):
        data_sheet.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    table = pieces.same(buf.getvalue())
    assert table.sheet == "Data"


# ---------------------------------------------------------------- a declared range that is wrong


def test_declared_columns_holding_only_formatting(pieces: Pieces) -> None:
    """The <dimension> covers formatted empty cells: read again on the used columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for row in _typed_rows(50):
        ws.append(row)
    ws.cell(row=3, column=12).font = Font(bold=True)  # L3: formatting only
    ws.cell(row=60, column=1).font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    assert b'ref="A1:L60"' in _sheet_xml(data)
    table = pieces.same(data)
    assert table.df.shape == (50, 7)


def test_cells_outside_the_declared_range(pieces: Pieces) -> None:
    data = xlsx_bytes({"S": [*_typed_rows(50), [None] * 9 + ["far right"]]})
    xml = _sheet_xml(data)
    forged = _replace_part(data, "xl/worksheets/sheet1.xml", re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="B2:C3"', xml))
    table = pieces.same(forged)
    assert table.df.shape == (51, 8) and table.df["column_8"].iloc[50] == "far right"


# ---------------------------------------------------------------- unusual XML


def test_a_namespace_prefix_on_the_sheet_tags(pieces: Pieces) -> None:
    data = xlsx_bytes({"S": _typed_rows(40)})
    xml = _sheet_xml(data)
    prefixed = re.sub(rb"<(/?)(?!\?)(\w+)([ />])", rb"<\1x:\2\3", xml)
    prefixed = prefixed.replace(b"<x:worksheet xmlns=", b"<x:worksheet xmlns:x=", 1)
    assert b"</x:row>" in prefixed and b"<x:sheetData>" in prefixed
    pieces.same(_replace_part(data, "xl/worksheets/sheet1.xml", prefixed))
    assert pieces.parsed > 3


def test_rows_without_references_are_read_whole(pieces: Pieces) -> None:
    data = xlsx_bytes({"S": _typed_rows(40)})
    xml = re.sub(rb' r="[A-Z]*\d+"', b"", _sheet_xml(data))
    pieces.same(_replace_part(data, "xl/worksheets/sheet1.xml", xml), whole_ok=True)


def test_a_stored_workbook(pieces: Pieces) -> None:
    data = xlsx_bytes({"S": _typed_rows(80)})
    stored = _replace_part(data, "", b"", method=zipfile.ZIP_STORED)
    pieces.same(stored)
    assert pieces.parsed > 5


def test_mutated_workbooks_give_a_table_or_a_clear_error_in_pieces(pieces: Pieces) -> None:
    import random

    good = xlsx_bytes({"S": _typed_rows(60)})
    rng = random.Random(5)
    for _ in range(80):
        mutated = bytearray(good)
        for _ in range(rng.randint(1, 12)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        got = pieces.in_pieces(bytes(mutated), whole_ok=True)
        if isinstance(got, str):
            assert "unexpected" not in got, got
        else:
            assert len(got.df) > 0


def test_a_damaged_sheet_is_reported_as_the_whole_read_reports_it(pieces: Pieces) -> None:
    data = bytearray(xlsx_bytes({"S": _typed_rows(200)}))
    src = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = src.getinfo("xl/worksheets/sheet1.xml")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF
    expected = pieces.whole(bytes(data))
    assert pieces.in_pieces(bytes(data), whole_ok=True) == expected


# ---------------------------------------------------------------- limits and progress


def test_limits_are_checked_before_any_piece_is_parsed(pieces: Pieces) -> None:
    data = xlsx_bytes({"S": [["a", "b"], *[[i, i] for i in range(30)]]})
    got = pieces.in_pieces(data, whole_ok=True)
    assert not isinstance(got, str) and pieces.parsed
    pieces.parsed = 0
    with pytest.MonkeyPatch.context() as m:
        m.setattr(excel_reader, "PIECES_OVER_CELLS", 0)
        m.setattr(PieceSheet, "_parse", lambda *a: pytest.fail("a piece was parsed"))
        with pytest.raises(DataLoadError, match="the limit is 50 cells"):
            read_excel(data, "t.xlsx", sheet=None, limits=Limits(max_columns=10, max_cells=50))


def test_cells_beyond_a_forged_dimension_stop_at_the_limit(pieces: Pieces) -> None:
    data = xlsx_bytes({"S": [["a", "b"], *[[i, i] for i in range(3000)]]})
    forged = _replace_part(
        data, "xl/worksheets/sheet1.xml", _sheet_xml(data).replace(b'ref="A1:B3001"', b'ref="A1:B10"')
    )
    with pytest.MonkeyPatch.context() as m:
        m.setattr(excel_reader, "PIECES_OVER_CELLS", 0)
        m.setattr(xlsx_pieces, "PIECE_BYTES", 2_000)
        with pytest.raises(DataLoadError, match="the limit is 1,000 cells"):
            read_excel(forged, "t.xlsx", sheet=None, limits=Limits(max_columns=10, max_cells=1_000))


def test_progress_advances_with_the_pieces(pieces: Pieces, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(excel_reader, "CHUNK_ROWS", 50)
    seen: list[tuple[float, str]] = []
    got = pieces.in_pieces(
        xlsx_bytes({"S": _typed_rows(600)}), progress=lambda f, stage: seen.append((f, stage))
    )
    assert not isinstance(got, str) and len(got.df) == 600
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    converting = {round(f, 3) for f, stage in seen if stage == "Converting the rows" and 0.1 < f < 0.9}
    assert len(converting) >= 5
