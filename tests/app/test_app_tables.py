"""The Data page with several tables: uploads of several files, ticks, failures, the set's
instruction; the Talk wiring follows the ticked tables."""

from __future__ import annotations

import io

import pandas as pd
from streamlit.testing.v1 import AppTest

from livechat.ui import state
from tests.app.apptest_support import element_texts, new_app, plain

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ORDERS_CSV = b"order_id,customer_id,amount\n1,10,5.0\n2,11,7.5\n3,10,1.25\n"


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"customer_id": [10, 11], "region": ["North", "South"]}).to_parquet(buffer, index=False)
    return buffer.getvalue()


def _upload(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    at.file_uploader[0].set_value(files).run()  # the one uploader, whatever its key now
    assert not at.exception
    return at


def _instruction(at: AppTest) -> str:
    return at.code[0].value


def _started() -> AppTest:
    at = new_app().run()
    assert not at.exception
    return at


def test_two_files_become_two_tables_in_the_instruction() -> None:
    at = _upload(_started(), [("orders.csv", ORDERS_CSV, "text/csv"),
                              ("Customers.parquet", _parquet(), "application/octet-stream")])
    assert not at.error
    assert [plain(t.label).split(" — ")[0] for t in at.checkbox] == ["`orders`", "`customers`"]
    instruction = _instruction(at)
    assert instruction.startswith("You are Live Data Chat, a voice analyst for a dataset of 2 tables: "
                                  "orders, customers (5 rows in all).")
    assert 'orders."customer_id" → customers."customer_id"' in instruction
    assert "Tables" in element_texts(at)


def test_an_unticked_table_leaves_the_instruction() -> None:
    at = _upload(_started(), [("orders.csv", ORDERS_CSV, "text/csv"),
                              ("customers.parquet", _parquet(), "application/octet-stream")])
    at.checkbox[1].uncheck().run()
    assert not at.exception
    instruction = _instruction(at)
    assert "customers" not in instruction and "region" not in instruction
    assert instruction.startswith("You are Live Data Chat, a voice analyst for a dataset of 1 table: orders")
    # the last ticked table cannot be unticked: the model always has a table
    at.checkbox[0].uncheck().run()
    assert not at.exception
    assert at.checkbox[0].value is True
    assert "orders" in _instruction(at)


def test_a_bad_file_is_named_and_the_rest_loads() -> None:
    at = _upload(_started(), [("orders.csv", ORDERS_CSV, "text/csv"),
                              ("broken.xlsx", b"PK\x03\x04 not a workbook", XLSX_MIME),
                              ("customers.parquet", _parquet(), "application/octet-stream")])
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("Not loaded: broken.xlsx") for w in warnings), warnings
    assert len(at.checkbox) == 2
    assert not at.error


def test_when_no_file_loads_the_previous_dataset_stays() -> None:
    at = _started()
    sample = at.main.header[0].value
    at = _upload(at, [("a.csv", b"x,y\n", "text/csv"), ("b.csv", b"", "text/csv")])
    assert len(at.error) == 1
    assert "a.csv" in at.error[0].value and "b.csv" in at.error[0].value
    assert at.main.header[0].value == sample


def test_one_file_after_a_set_goes_back_to_a_single_table() -> None:
    at = _upload(_started(), [("orders.csv", ORDERS_CSV, "text/csv"),
                              ("customers.parquet", _parquet(), "application/octet-stream")])
    at = _upload(at, [("orders.csv", ORDERS_CSV, "text/csv")])
    assert not at.checkbox
    assert _instruction(at).startswith('You are Live Data Chat, a voice analyst for the dataset "orders.csv"')
    assert plain(at.sidebar.markdown[0].value) == "**orders.csv**"


def test_table_set_keys_follow_the_ticks() -> None:
    from livechat.data.tableset import load_table_set
    from livechat.ui.tables import CurrentTableSet, SetEntry

    result = load_table_set([("orders.csv", ORDERS_CSV), ("customers.parquet", _parquet())])
    entries = tuple(SetEntry(t, "d" + t.sql_name) for t in result.tables)
    both = CurrentTableSet(entries, frozenset({"orders", "customers"}))
    one = both.with_selected(frozenset({"customers"}))
    assert both.key != one.key and both.upload_key == one.upload_key
    assert list(one.frames()) == ["customers"]
