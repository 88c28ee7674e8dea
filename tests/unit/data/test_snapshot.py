"""A loaded table survives Parquet: same frame, same dtypes, same description."""

from __future__ import annotations

import pandas as pd
import pytest

from livechat.data.load import load_table
from livechat.data.snapshot import SnapshotError, decode_table, encode_table

CSV = ("Quarterly sales\n\nRegion;Amount;When;Share\nNord;1.234,50;03.04.2024;10%\n"
       "Süd;99,00;04.04.2024;\nTotal;1.333,50;;\n").encode("cp1252")


def test_a_table_comes_back_equal() -> None:
    table = load_table(CSV, "sales.csv")
    data, meta = encode_table(table)
    back = decode_table(data, meta)
    pd.testing.assert_frame_equal(back.df, table.df)
    for field in ("name", "sheets", "sheet", "warnings", "encoding", "encoding_choices", "conversions", "layout"):
        assert getattr(back, field) == getattr(table, field), field
    assert table.conversions and table.layout is not None  # the example exercises both


def test_second_resolution_times_keep_their_unit() -> None:
    from livechat.data.load import LoadedTable

    df = pd.DataFrame({"at": pd.to_datetime(["2024-01-01 10:00:01", "2024-01-02 11:00:02"]).as_unit("s"),
                       "n": [1, 2]})
    back = decode_table(*encode_table(LoadedTable(df=df, name="t", sheets=(), sheet=None, warnings=())))
    pd.testing.assert_frame_equal(back.df, df)


def test_a_damaged_copy_is_a_snapshot_error() -> None:
    data, meta = encode_table(load_table(CSV, "sales.csv"))
    with pytest.raises(SnapshotError, match="damaged"):
        decode_table(data[: len(data) // 2], meta)
    with pytest.raises(SnapshotError, match="unknown format"):
        decode_table(data, {**meta, "format": "csv"})
