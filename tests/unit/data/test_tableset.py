"""load_table_set: every sheet and several files as one set of SQL-named tables."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from livechat.data.load import DataLoadError, load_table
from livechat.data.sql_names import sql_keywords, sql_table_name, unique_sql_names
from livechat.data.tableset import (
    DATA_ALIAS,
    TableSetLoadError,
    load_table_set,
)
from livechat.data.workbook import nonempty_sheet_names
from tests.unit.data.test_data import xlsx_bytes


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), buf)
    return buf.getvalue()


WORKBOOK = xlsx_bytes({
    "Orders": [["order_id", "customer_id", "amount"], [1, 10, 5.0], [2, 11, 7.5], [3, 10, 1.25]],
    "Empty": [],
    "Customers": [["customer_id", "region"], [10, "North"], [11, "South"]],
})
CSV = b"sku,price\nA,1.5\nB,2.0\n"
PARQUET = parquet_bytes(pd.DataFrame({"sku": ["A", "B", "A"], "qty": [3, 1, 2]}))


def test_two_sheet_workbook_and_csv_parquet_pair_load_as_named_tables():
    result = load_table_set([("book.xlsx", WORKBOOK), ("Price List.csv", CSV),
                             ("sales 2024.parquet", PARQUET)])
    names = [t.sql_name for t in result.tables]
    assert names == ["orders", "customers", "price_list", "sales_2024"]
    assert [t.sheet for t in result.tables] == ["Orders", "Customers", None, None]
    assert result.tables[0].table.name == "book.xlsx — Orders"
    assert result.tables[1].table.df["region"].tolist() == ["North", "South"]
    assert result.tables[3].table.df["qty"].tolist() == [3, 1, 2]
    assert result.failures == () and result.notes == ()


def test_csv_and_parquet_pair_give_two_tables_with_their_data():
    result = load_table_set([("prices.csv", CSV), ("sales.parquet", PARQUET)])
    assert [(t.sql_name, t.rows, t.columns) for t in result.tables] == [
        ("prices", 2, 2), ("sales", 3, 2)]


def test_single_sheet_workbook_is_named_after_the_file():
    data = xlsx_bytes({"Sheet1": [["a"], [1]], "Sheet2": []})
    result = load_table_set([("Team Budget.xlsx", data)])
    assert [t.sql_name for t in result.tables] == ["team_budget"]
    assert result.tables[0].sheet == "Sheet1"


def test_a_bad_file_is_named_and_the_rest_still_loads():
    result = load_table_set([("broken.xlsx", b"not a workbook at all"), ("prices.csv", CSV),
                             ("header_only.csv", b"a,b\n")])
    assert [t.sql_name for t in result.tables] == ["prices"]
    assert [f.source for f in result.failures] == ["broken.xlsx", "header_only.csv"]
    assert "broken.xlsx" in result.failures[0].message
    assert "no rows" in result.failures[1].message


def test_nothing_loaded_raises_a_typed_error_naming_every_file():
    with pytest.raises(TableSetLoadError) as caught:
        load_table_set([("a.csv", b""), ("b.doc", b"x")])
    assert isinstance(caught.value, DataLoadError)
    assert len(caught.value.failures) == 2
    assert "a.csv" in str(caught.value) and "b.doc" in str(caught.value)


def test_more_sheets_than_the_limit_loads_the_first_and_says_so():
    data = xlsx_bytes({f"S{i}": [["v"], [i]] for i in range(5)})
    result = load_table_set([("many.xlsx", data)], max_tables=3)
    assert [t.sql_name for t in result.tables] == ["s0", "s1", "s2"]
    assert len(result.notes) == 1
    assert "first 3 tables" in result.notes[0] and "many.xlsx — S3" in result.notes[0]


def test_cell_limit_applies_to_the_whole_set():
    first = b"a,b\n" + b"1,2\n" * 10  # 20 cells
    second = b"c,d\n" + b"3,4\n" * 10  # 20 more
    result = load_table_set([("one.csv", first), ("two.csv", second)], max_total_cells=30)
    assert [t.sql_name for t in result.tables] == ["one"]
    assert "for all tables together" in result.failures[0].message
    assert "two.csv" in result.failures[0].message


def test_byte_limit_applies_to_all_files_together():
    result = load_table_set([("one.csv", CSV), ("two.csv", CSV)], max_total_bytes=len(CSV) + 5)
    assert [t.sql_name for t in result.tables] == ["one"]
    assert result.failures[0].source == "two.csv"
    assert "for all files together" in result.failures[0].message


def test_the_loader_can_be_replaced_for_caching():
    calls = []

    def loader(data, filename, sheet):
        calls.append((filename, sheet))
        return load_table(data, filename, sheet=sheet)

    load_table_set([("book.xlsx", WORKBOOK)], loader=loader)
    assert calls == [("book.xlsx", "Orders"), ("book.xlsx", "Customers")]


@pytest.mark.parametrize(("raw", "expected"), [
    ("Orders 2024", "orders_2024"),
    ("Customer List (final)", "customer_list_final"),
    ("OrderLines", "order_lines"),
    ("Réclamations", "reclamations"),
    ("2023 sales", "t_2023_sales"),
    ("order", "order_table"),
    ("Returns", "returns_table"),
    ("data", "data_table"),
    ("", "untitled"),
    ("x" * 80, "x" * 40),
])
def test_sql_table_name(raw, expected):
    assert sql_table_name(raw) == expected


def test_names_are_unique_identifiers_and_never_keywords():
    raw = ["Orders", "orders", "ORDERS", "select", "from", "Data", "data", "$$$", "Sheet 1", "sheet_1"]
    names = unique_sql_names(raw, reserved=[DATA_ALIAS])
    assert len(set(names)) == len(names)
    assert DATA_ALIAS not in names
    for name in names:
        assert name == name.lower() and name.isidentifier()
        assert name not in sql_keywords()
    assert names[:3] == ["orders", "orders_2", "orders_3"]


def test_nonempty_sheet_names_skips_empty_sheets_and_survives_garbage():
    assert nonempty_sheet_names(WORKBOOK) == ("Orders", "Customers")
    assert nonempty_sheet_names(b"garbage") is None


@pytest.mark.parametrize("engine, suffix", [("odf", ".ods"), ("xlwt", ".xls")])
def test_every_nonempty_sheet_of_an_xls_or_ods_workbook_becomes_a_table(engine: str, suffix: str) -> None:
    import io
    buffer = io.BytesIO()
    if engine == "xlwt":
        import xlwt
        book = xlwt.Workbook()
        for title, rows in (("Orders", [("id", "amount"), (1, 2.5), (2, 4.0)]), ("Empty", []),
                            ("Customers", [("id", "region"), (1, "North")])):
            sheet = book.add_sheet(title)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    sheet.write(r, c, value)
        book.save(buffer)
    else:
        with pd.ExcelWriter(buffer, engine="odf") as writer:
            pd.DataFrame({"id": [1, 2], "amount": [2.5, 4.0]}).to_excel(writer, sheet_name="Orders", index=False)
            pd.DataFrame().to_excel(writer, sheet_name="Empty", index=False)
            pd.DataFrame({"id": [1], "region": ["North"]}).to_excel(writer, sheet_name="Customers", index=False)
    data = buffer.getvalue()
    assert nonempty_sheet_names(data, f"book{suffix}") == ("Orders", "Customers")
    assert nonempty_sheet_names(b"garbage", f"book{suffix}") is None
