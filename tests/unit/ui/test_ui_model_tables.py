"""A single upload is a table set of one (issue 27): one type for what the model sees.

``CurrentTableSet.of_one`` keeps what a single upload always was (its key, its name, the
table as ``data``, its instruction, how the store keeps it); a set of several is named
by its tables. ``ModelTables`` builds both from the set alone. Run outside a script run
(the caches fall back to memory); no SQL worker is started here.
"""

from __future__ import annotations

import pandas as pd

from livechat.data.load import LoadedTable
from livechat.data.tableset import NamedTable
from livechat.ui import cache
from livechat.ui.model_tables import ModelTables
from livechat.ui.state import CurrentDataset
from livechat.ui.tables import CurrentTableSet, SetEntry

DF = pd.DataFrame({"region": ["North", "South", "North"], "amount": [1.5, 2.0, 3.25]})


def _dataset(*, header_row: int | None = None, encoding: str | None = None) -> CurrentDataset:
    table = LoadedTable(df=DF, name="sales.csv", sheets=(), sheet=None, warnings=(), encoding=encoding)
    return CurrentDataset(table=table, digest="d" * 64, source="sales.csv", header_row=header_row)


def _set_of_two() -> CurrentTableSet:
    entries = tuple(SetEntry(NamedTable(name, LoadedTable(df=DF, name=f"{name}.csv", sheets=(), sheet=None,
                                                          warnings=()), f"{name}.csv", None), name * 8)
                    for name in ("orders", "customers"))
    return CurrentTableSet(entries, frozenset({"orders", "customers"}))


def test_a_set_of_one_is_seen_as_the_single_upload_it_was() -> None:
    dataset = _dataset(header_row=2)
    seen = ModelTables(CurrentTableSet.of_one(dataset))

    assert seen.table_set.single is dataset
    assert seen.key == dataset.cache_key  # the header row is part of it: a new reading, a new session
    assert seen.names == ("sales.csv",)
    assert seen.source is DF  # one table: `data` in SQL, as before sets existed
    assert seen.upload_identity == f"table:{dataset.digest}/"
    assert seen.model_view(4_000) == cache.dataset_model_view(dataset, 4_000)
    assert seen.vocabulary() == cache.dataset_vocabulary(dataset)
    assert seen.model_view(4_000).instruction.startswith(
        'You are Live Data Chat, a voice analyst for the dataset "sales.csv"')


def test_a_set_of_several_is_seen_by_its_ticked_tables() -> None:
    table_set = _set_of_two()
    seen = ModelTables(table_set)

    assert table_set.single is None
    assert seen.key == table_set.key and seen.key.startswith("set:")
    assert seen.names == ("orders", "customers")
    assert list(seen.source) == ["orders", "customers"]
    assert seen.upload_identity == "set:" + table_set.upload_key
    assert seen.model_view(4_000).instruction.startswith(
        "You are Live Data Chat, a voice analyst for a dataset of 2 tables: orders, customers")
    one_ticked = ModelTables(table_set.with_selected(frozenset({"customers"})))
    assert one_ticked.table_set.single is None  # one table ticked of two is still named by SQL
    assert one_ticked.names == ("customers",)


def test_the_store_keeps_a_set_of_one_as_a_single_table() -> None:
    (entry,) = CurrentTableSet.of_one(_dataset(header_row=3, encoding="cp1252")).entries
    assert entry.sql_name == "data"
    assert entry.stored_name is None  # restored as a single upload, also by older versions
    assert entry.header_row == 3 and entry.stored_encoding == "cp1252"
    assert entry.cache_key == _dataset(header_row=3, encoding="cp1252").cache_key

    orders = _set_of_two().entries[0]
    assert orders.stored_name == "orders"
    assert orders.header_row is None and orders.stored_encoding is None
    assert orders.cache_key == "ordersordersordersordersordersordersordersorders/orders.csv/"


def test_a_utf8_single_upload_stores_no_encoding() -> None:
    (entry,) = CurrentTableSet.of_one(_dataset(encoding="utf-8")).entries
    assert entry.stored_encoding is None and entry.header_row is None
