"""A big CSV is parsed in row-aligned parts side by side, with the same result as one stream.

``csv_reader`` cuts a file without quoted line breaks at line breaks and streams each part
on its own thread (``_stream_parts``). The parts threshold is lowered here so small files
exercise it; every case is compared with the same file read as one stream.
"""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from livechat.data.load import load_table
from livechat.data.loaders import csv_reader


def _load(data: bytes, monkeypatch: pytest.MonkeyPatch, *, parts: int) -> pd.DataFrame:
    monkeypatch.setattr(csv_reader, "_PARALLEL_MIN_BYTES", 64)
    monkeypatch.setattr(csv_reader, "_parse_threads", lambda: parts)
    return load_table(data, "t.csv").df


def _rows(count: int, line: str = "{i},region-{r},{x:.2f},\"a, b\"") -> list[str]:
    return [line.format(i=i, r=i % 4, x=i / 3) for i in range(count)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("parts", [2, 3, 4])
def test_parts_read_the_same_table_as_one_stream(monkeypatch: pytest.MonkeyPatch, newline: str, parts: int) -> None:
    data = newline.join(["id,region,x,note", *_rows(5_000)]).encode() + newline.encode()
    one = _load(data, monkeypatch, parts=1)
    split = _load(data, monkeypatch, parts=parts)
    assert len(split) == 5_000 and list(split["id"]) == list(range(5_000))  # every row, in order
    pd.testing.assert_frame_equal(split, one)


def test_parts_whose_types_differ_fall_back_to_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whole numbers in the first half, decimals in the second: one float column either way.
    lines = [f"{i},{i}" for i in range(3_000)] + [f"{i},{i}.5" for i in range(3_000, 6_000)]
    data = "\n".join(["id,value", *lines]).encode()
    split = _load(data, monkeypatch, parts=2)
    assert split["value"].dtype == "float64"
    assert split["value"].iloc[0] == 0.0 and split["value"].iloc[-1] == 5_999.5
    pd.testing.assert_frame_equal(split, _load(data, monkeypatch, parts=1))


def test_a_file_with_quoted_line_breaks_is_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f'{i},"line one\nline two {i}"' for i in range(2_000)]
    data = "\n".join(["id,note", *lines]).encode()
    split = _load(data, monkeypatch, parts=2)
    assert len(split) == 2_000 and split["note"].iloc[1_999] == "line one\nline two 1999"


def test_trailing_blank_lines_and_no_final_line_break(monkeypatch: pytest.MonkeyPatch) -> None:
    for tail in ("\n\n\n", ""):
        data = ("\n".join(["id,region,x,note", *_rows(3_000)]) + tail).encode()
        pd.testing.assert_frame_equal(_load(data, monkeypatch, parts=2), _load(data, monkeypatch, parts=1))


def test_the_parse_threads_are_gone_after_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    data = "\n".join(["id,region,x,note", *_rows(5_000)]).encode()
    _load(data, monkeypatch, parts=4)
    assert not [t for t in threading.enumerate() if t.name.startswith("csv-part")]


def test_line_start_after_finds_the_next_row_or_none() -> None:
    view = memoryview(b"ab\ncd\nef")
    assert csv_reader._line_start_after(view, 0, window=2) == 3
    assert csv_reader._line_start_after(view, 3, window=2) == 6
    assert csv_reader._line_start_after(view, 6, window=2) is None
