"""A loaded table survives the store's snapshot: same frame, same dtypes, same description;
damage is an error, and snapshots of earlier releases (Parquet) still open."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from livechat.data.load import LoadedTable, load_table
from livechat.data.snapshot import FORMAT, SnapshotError, decode_table, encode_table

CSV = ("Quarterly sales\n\nRegion;Amount;When;Share\nNord;1.234,50;03.04.2024;10%\n"
       "Süd;99,00;04.04.2024;\nTotal;1.333,50;;\n").encode("cp1252")


def _table(df: pd.DataFrame) -> LoadedTable:
    return LoadedTable(df=df, name="t", sheets=(), sheet=None, warnings=())


def test_a_table_comes_back_equal() -> None:
    table = load_table(CSV, "sales.csv")
    data, meta = encode_table(table)
    assert meta["format"] == FORMAT
    back = decode_table(data, meta)
    pd.testing.assert_frame_equal(back.df, table.df)
    for field in ("name", "sheets", "sheet", "warnings", "encoding", "encoding_choices", "conversions", "layout"):
        assert getattr(back, field) == getattr(table, field), field
    assert table.conversions and table.layout is not None  # the example exercises both


def test_dtypes_come_back_exactly() -> None:
    df = pd.DataFrame({
        "at": pd.to_datetime(["2024-01-01 10:00:01", "2024-01-02 11:00:02", None]).as_unit("s"),
        "zoned": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).tz_localize("Europe/Berlin"),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "flag": pd.array([True, None, False], dtype="boolean"),
        "kind": pd.Categorical(["b", "a", "b"], categories=["b", "a"], ordered=True),
        "text": pd.Series(["x", None, "z"], dtype="str"),
        "x": [1.5, np.nan, 2.5],
        "big": [2**62, 1, -(2**62)],
    })
    back = decode_table(*encode_table(_table(df)))
    pd.testing.assert_frame_equal(back.df, df)


def test_a_column_of_mixed_values_is_kept_as_its_text() -> None:
    df = pd.DataFrame({"mixed": pd.Series([7, "seven", None, 7.5], dtype=object), "n": [1, 2, 3, 4]})
    back = decode_table(*encode_table(_table(df)))
    assert back.df["mixed"].dtype == object
    assert [None if pd.isna(v) else v for v in back.df["mixed"]] == ["7", "seven", None, "7.5"]
    pd.testing.assert_series_equal(back.df["n"], df["n"])


def test_a_damaged_copy_is_a_snapshot_error() -> None:
    data, meta = encode_table(load_table(CSV, "sales.csv"))
    with pytest.raises(SnapshotError, match="damaged"):
        decode_table(data[: len(data) // 2], meta)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01  # one bit: the IPC reader could decode it as a wrong value
    with pytest.raises(SnapshotError, match="checksum does not match"):
        decode_table(flipped, meta)
    with pytest.raises(SnapshotError, match="no usable checksum"):
        decode_table(data, {k: v for k, v in meta.items() if k != "checksum"})
    with pytest.raises(SnapshotError, match="unknown format"):
        decode_table(data, {**meta, "format": "csv"})


def test_a_copy_that_is_not_arrow_is_damaged_even_with_a_matching_checksum() -> None:
    import xxhash

    _, meta = encode_table(load_table(CSV, "sales.csv"))
    junk = b"not an arrow stream at all"
    with pytest.raises(SnapshotError, match="damaged"):
        decode_table(junk, {**meta, "checksum": f"xxh3_64:{xxhash.xxh3_64_hexdigest(junk)}"})


def test_a_parquet_snapshot_of_an_earlier_release_still_opens() -> None:
    # What parquet-1 wrote: Parquet with LZ4 and no statistics; its seconds come back as ms.
    table = load_table(CSV, "sales.csv")
    df = table.df.assign(at=pd.to_datetime(["2024-01-01 10:00:01"] * len(table.df)).as_unit("s"))
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink, compression="lz4", write_statistics=False)
    _, meta = encode_table(_table(df))
    meta = {k: v for k, v in meta.items() if k != "checksum"} | {"format": "parquet-1"}
    back = decode_table(sink.getvalue().to_pybytes(), meta)
    pd.testing.assert_frame_equal(back.df, df)
    with pytest.raises(SnapshotError, match="damaged"):
        decode_table(sink.getvalue().to_pybytes()[:100], meta)


def test_a_stream_larger_than_its_size_bound_is_still_written(monkeypatch: pytest.MonkeyPatch) -> None:
    from livechat.data import snapshot

    table = load_table(CSV, "sales.csv")
    monkeypatch.setattr(snapshot, "_size_bound", lambda arrow: 16)  # far too small: the write overflows
    back = decode_table(*encode_table(table))
    pd.testing.assert_frame_equal(back.df, table.df)
