"""A table as a folder of column files: few-valued text also kept as a one-byte dictionary.

The SQL worker reads a text column with at most ``DICTIONARY_MAX_VALUES`` distinct values
from its dictionary file (DuckDB groups it by index instead of converting the text on
every scan); the app always reads the plain column. Both hold the same values.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from livechat.data.arrow_files import DICTIONARY_MAX_VALUES, open_table_folder, write_table_folder

ROWS = 20_000


def _table() -> pa.Table:
    few = [None if i % 9 == 0 else ["north", "south", "Zürich"][i % 3] for i in range(ROWS)]
    return pa.table({
        "id": pa.array(range(ROWS), type=pa.int64()),
        "region": pa.array(few, type=pa.large_string()),
        "customer": pa.array([f"C{i}" for i in range(ROWS)], type=pa.large_string()),
        # few values in the first rows, too many over the whole column
        "late": pa.array(["a"] * 10_000 + [f"v{i}" for i in range(ROWS - 10_000)], type=pa.string()),
        "at_cap": pa.array([f"s{i % DICTIONARY_MAX_VALUES}" for i in range(ROWS)], type=pa.string()),
        "over_cap": pa.array([f"s{i % (DICTIONARY_MAX_VALUES + 1)}" for i in range(ROWS)], type=pa.string()),
    })


def test_only_few_valued_text_gets_a_dictionary_file(tmp_path: Path) -> None:
    write_table_folder(_table(), tmp_path / "t")
    files = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert [f for f in files if f.endswith(".dict.arrow")] == ["00001.dict.arrow", "00004.dict.arrow"]


def test_the_app_reads_plain_columns_and_the_worker_the_dictionaries_with_the_same_values(tmp_path: Path) -> None:
    table = _table()
    write_table_folder(table, tmp_path / "t")
    plain = open_table_folder(tmp_path / "t")
    encoded = open_table_folder(tmp_path / "t", dictionaries=True)
    assert plain.schema == table.schema
    assert plain.equals(table)
    assert encoded.column_names == table.column_names
    for name in ("region", "at_cap"):
        column = encoded.column(name)
        assert pa.types.is_dictionary(column.type) and column.type.index_type == pa.int8()
        assert column.type.value_type == table.schema.field(name).type
        assert column.to_pylist() == table.column(name).to_pylist()  # nulls where they were
    for name in ("id", "customer", "late", "over_cap"):
        assert encoded.column(name).type == table.schema.field(name).type


def test_a_folder_written_before_dictionaries_still_opens(tmp_path: Path) -> None:
    write_table_folder(_table(), tmp_path / "t")
    for path in (tmp_path / "t").glob("*.dict.arrow"):
        path.unlink()
    assert open_table_folder(tmp_path / "t", dictionaries=True).equals(_table())
