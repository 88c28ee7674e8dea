"""One copy of a loaded table: the frame rebuilt over a memory-mapped Arrow file.

The mapped frame must be the same table (columns, dtypes, values, NaN and NaT in place)
for every kind of column the loaders make, share the file's bytes where it can, tell the
SQL sandbox where its file is (and no derived frame's), and give the file up when the
last frame using it is gone.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from livechat.data.load import LoadedTable
from livechat.data.spill import spill_bytes
from livechat.data.table_file import map_table, mapped_file, table_dir
from livechat.tools.toolbox import ToolBox


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIVECHAT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _every_kind(rows: int = 1_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    amount = rng.normal(50, 10, rows)
    amount[::7] = np.nan
    when = pd.Series(pd.date_range("2024-01-01", periods=rows, freq="h")).astype("datetime64[s]")
    when[::11] = pd.NaT
    text = pd.Series(rng.choice(["north", "south", "Zürich"], rows), dtype="str")
    text[::5] = None
    return pd.DataFrame({
        "id": np.arange(rows),
        "amount": amount,
        "when": when,
        "day": pd.Series(pd.date_range("2024-01-01", periods=rows, freq="D")).astype("datetime64[ms]"),
        "zoned": pd.date_range("2024-01-01", periods=rows, freq="min", tz="Europe/Berlin"),
        "region": text,
        "member": rng.random(rows) < 0.5,
        "units": pd.array(np.where(np.arange(rows) % 3 == 0, None, np.arange(rows)), dtype="Int64"),
        "kind": pd.Categorical(rng.choice(["a", "b"], rows)),
        "wait": pd.to_timedelta(np.arange(rows), unit="s"),
    })


def _table(df: pd.DataFrame, name: str = "t.csv") -> LoadedTable:
    return LoadedTable(df=df, name=name, sheets=(), sheet=None, warnings=("a note",))


def test_the_mapped_frame_is_the_same_table_with_the_same_dtypes() -> None:
    original = _every_kind()
    mapped = map_table(_table(original), "every-kind")
    pd.testing.assert_frame_equal(mapped.df, original)
    assert list(mapped.df.dtypes) == list(original.dtypes)
    assert (mapped.name, mapped.warnings) == ("t.csv", ("a note",))


def test_numbers_dates_and_text_are_read_from_the_file_not_copied() -> None:
    mapped = map_table(_table(_every_kind()), "shared").df
    for column in ("id", "amount", "when", "day"):  # NaN and NaT columns included
        values = mapped[column].to_numpy()
        assert not values.flags.owndata and not values.flags.writeable, column
    # pandas' Arrow-backed text holds the mapped buffers themselves
    assert mapped["region"].array._pa_array.num_chunks == 1


def test_the_sandbox_finds_the_file_of_that_frame_only() -> None:
    mapped = map_table(_table(_every_kind()), "owner").df
    path = mapped_file(mapped)
    assert path is not None and path.parent == table_dir()
    assert len(list(path.glob("?????.arrow"))) == 10  # a file per column
    assert [p.name for p in path.glob("*.dict.arrow")] == ["00005.dict.arrow"]  # region, for the SQL worker
    assert mapped_file(mapped.head(10)) is None
    assert mapped_file(mapped.copy()) is None
    assert mapped_file(_every_kind()) is None


def test_the_file_goes_when_the_last_frame_using_it_goes() -> None:
    first = map_table(_table(_every_kind()), "same-key").df
    second = map_table(_table(_every_kind()), "same-key").df
    path = mapped_file(first)
    assert path is not None and mapped_file(second) == path
    del first
    gc.collect()
    assert path.exists()  # the second frame still maps it
    del second
    gc.collect()
    assert not path.exists()


def test_an_unwritable_data_dir_keeps_the_table_in_memory(data_dir: Path) -> None:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("a file where the folder should be", encoding="utf-8")
    table = _table(_every_kind())
    assert map_table(table, "nowhere") is table
    assert mapped_file(table.df) is None


def test_sql_answers_the_same_over_the_mapped_file_and_over_the_frame() -> None:
    original = _every_kind()
    mapped = map_table(_table(original), "sql").df
    queries = [
        "SELECT count(*), count(amount), count(\"when\"), count(region), sum(units) FROM data",
        "SELECT region, round(avg(amount), 9) AS a, count(*) FROM data GROUP BY region ORDER BY region",
        "SELECT kind, member, min(zoned), max(wait) FROM data GROUP BY ALL ORDER BY ALL",
        "SELECT * FROM data WHERE \"when\" IS NULL ORDER BY id LIMIT 3",
        # region is few-valued text: the worker reads it from its dictionary file
        "SELECT region, count(*) FROM data WHERE region LIKE 'Z%' OR region = 'north' OR region IS NULL "
        "GROUP BY ALL ORDER BY ALL",
        "SELECT upper(region) AS r, length(region) AS n, min(id) FROM data GROUP BY ALL ORDER BY ALL",
        "SELECT DISTINCT region FROM data ORDER BY region NULLS FIRST",
    ]
    with ToolBox(original) as plain, ToolBox(mapped) as shared:
        # One copy: the worker maps the app's file (the plain one got a stream)
        worker_maps = Path(f"/proc/{shared.sql_worker_pid}/maps").read_text(encoding="utf-8")
        assert str(mapped_file(mapped).resolve()) in worker_maps
        region = list(mapped.columns).index("region")
        assert f"{region:05d}.dict.arrow" in worker_maps
        assert str(table_dir().resolve()) not in Path(f"/proc/{plain.sql_worker_pid}/maps").read_text(encoding="utf-8")
        # ...and answers every kind of column without NumPy (6 MB a worker; issue 29)
        assert "_multiarray_umath" not in worker_maps
        for query in queries:
            expected = plain.execute("run_sql", {"query": query})
            got = shared.execute("run_sql", {"query": query})
            assert "error" not in got, got
            expected.pop("elapsed_ms"), got.pop("elapsed_ms")
            assert got == expected, query


def test_a_spilled_upload_reads_as_the_bytes_and_leaves_no_file(data_dir: Path) -> None:
    data = os.urandom(100_000)
    spilled = spill_bytes(data)
    assert bytes(spilled) == data and len(spilled) == len(data)
    assert list((data_dir / "uploads").iterdir()) == []  # unlinked at once; the mapping stays
    assert spill_bytes(b"") == b""
