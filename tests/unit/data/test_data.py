"""load_table: every format, every bad input, and the guards."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import json
import logging
import random
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from livechat.data import load as data_module
from livechat.data.load import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    SUPPORTED_EXTENSIONS,
    DataLoadError,
    LoadedTable,
    content_digest,
    load_table,
)
from livechat.data.loaders import csv_reader
from livechat.data.loaders.common import NULL_MARKERS, Limits, check_cells
from livechat.data.loaders.excel_reader import read_excel

REPO = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------- builders


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parquet_bytes(table: pa.Table | pd.DataFrame) -> bytes:
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def cfb_bytes(*, encrypted: bool) -> bytes:
    """A Compound File Binary header plus a directory entry name, as Excel writes for
    a password-protected workbook (EncryptionInfo stream) or a legacy .xls (Workbook)."""
    stream = "EncryptionInfo" if encrypted else "Workbook"
    body = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    body += stream.encode("utf-16-le") + bytes(512 - 2 * len(stream))
    body += random.Random(7).randbytes(2048)
    return bytes(body)


SIMPLE_CSV = "id,name,amount,when\n1,Ann,3.5,2024-01-02\n2,Bob,4.25,2024-02-03\n3,Cé,5,2024-03-04\n"


def assert_simple(table: LoadedTable) -> None:
    df = table.df
    assert list(df.columns) == ["id", "name", "amount", "when"]
    assert df["id"].tolist() == [1, 2, 3]
    assert pd.api.types.is_integer_dtype(df["id"])
    assert df["name"].tolist() == ["Ann", "Bob", "Cé"]
    assert df["amount"].tolist() == [3.5, 4.25, 5.0]
    assert pd.api.types.is_datetime64_any_dtype(df["when"])
    assert df["when"].iloc[2] == pd.Timestamp("2024-03-04")


# ---------------------------------------------------------------- constants


def test_upload_limit_matches_streamlit_config() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert MAX_UPLOAD_BYTES == MAX_UPLOAD_MB * 1024 * 1024


def test_limits_and_extensions_are_as_documented() -> None:
    assert MAX_COLUMNS == 2_000
    assert MAX_CELLS == 50_000_000
    assert SUPPORTED_EXTENSIONS == (
        ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods", ".parquet", ".json", ".jsonl",
    )


def test_null_markers_match_pandas_defaults() -> None:
    from pandas._libs.parsers import STR_NA_VALUES  # private: checked here, not imported in livechat

    assert set(NULL_MARKERS) == set(STR_NA_VALUES)


def test_content_digest_is_sha256_hex() -> None:
    assert content_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert content_digest(b"abc") != content_digest(b"abd")


def test_loaded_table_is_frozen() -> None:
    table = load_table(SIMPLE_CSV.encode(), "s.csv")
    with pytest.raises(AttributeError):
        table.name = "other"  # type: ignore[misc]


# ---------------------------------------------------------------- delimited text


@pytest.mark.parametrize(
    ("text", "filename"),
    [
        (SIMPLE_CSV, "s.csv"),
        (SIMPLE_CSV.replace(",", ";"), "s.csv"),
        (SIMPLE_CSV.replace(",", "\t"), "s.tsv"),
        (SIMPLE_CSV.replace(",", "\t"), "s.txt"),
        (SIMPLE_CSV.replace(",", "|"), "s.txt"),
        (SIMPLE_CSV.replace("\n", "\r\n"), "s.csv"),
        (SIMPLE_CSV.rstrip("\n"), "s.csv"),  # no final newline
    ],
    ids=["comma", "semicolon", "tab-tsv", "tab-txt", "pipe", "crlf", "no-final-newline"],
)
def test_delimiters_are_sniffed(text: str, filename: str) -> None:
    table = load_table(text.encode("utf-8"), filename)
    assert_simple(table)
    assert table.warnings == ()
    assert table.name == filename
    assert table.sheets == () and table.sheet is None


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        (SIMPLE_CSV.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + SIMPLE_CSV.encode("utf-8"), "utf-8-bom"),
        (codecs.BOM_UTF16_LE + SIMPLE_CSV.encode("utf-16-le"), "utf-16-le-bom"),
        (codecs.BOM_UTF16_BE + SIMPLE_CSV.encode("utf-16-be"), "utf-16-be-bom"),
        (SIMPLE_CSV.encode("utf-16-le"), "utf-16-le-no-bom"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_unicode_encodings(encoded: bytes, label: str) -> None:
    table = load_table(encoded, "s.csv")
    assert_simple(table)
    assert table.warnings == ()


def test_cp1252_falls_back_with_a_warning() -> None:
    text = "city,price\nMünchen,3\nSão Paulo,4\nCafé “Noir”,5\n"
    table = load_table(text.encode("cp1252"), "s.csv")
    assert table.df["city"].tolist() == ["München", "São Paulo", "Café “Noir”"]
    assert any("Windows-1252" in w for w in table.warnings)


def test_latin1_when_cp1252_cannot_decode() -> None:
    # 0x81 is undefined in cp1252 but is a (control) character in latin-1.
    data = b"name,v\nA\x81B,1\nCaf\xe9,2\n"
    table = load_table(data, "s.csv")
    assert table.df["name"].tolist() == ["A\x81B", "Café"]
    assert any("Latin-1" in w for w in table.warnings)


def test_invalid_utf8_after_the_sniffed_prefix_is_reread_as_cp1252() -> None:
    rows = "".join(f"{i},plain{i}\n" for i in range(20_000))
    data = ("n,word\n" + rows).encode() + "20000,Zürich\n".encode("cp1252")
    table = load_table(data, "late.csv")
    assert table.df["word"].iloc[-1] == "Zürich"
    assert len(table.df) == 20_001
    assert table.encoding == "cp1252"


def test_decimal_comma_with_semicolons() -> None:
    table = load_table(b"item;price;qty\nA;3,5;2\nB;10,25;3\n", "s.csv")
    assert table.df["price"].tolist() == [3.5, 10.25]
    assert table.df["qty"].tolist() == [2, 3]


def test_quoted_fields_with_delimiters_and_newlines() -> None:
    data = b'id,note\n1,"a, b"\n2,"line one\nline two"\n3,"say ""hi"""\n'
    table = load_table(data, "q.csv")
    assert table.df["note"].tolist() == ["a, b", "line one\nline two", 'say "hi"']


def test_single_column_file() -> None:
    table = load_table(b"value\n1\n2\n3\n", "one.csv")
    assert list(table.df.columns) == ["value"]
    assert table.df["value"].tolist() == [1, 2, 3]


def test_numbers_stay_numeric_and_null_markers_are_nulls() -> None:
    data = b"a,b,c,flag\n1,2.5,NA,true\n2,,x,false\n3,4,,TRUE\n"
    df = load_table(data, "n.csv").df
    assert df["a"].dtype == np.int64
    assert df["b"].dtype == np.float64 and np.isnan(df["b"].iloc[1])
    assert df["c"].isna().tolist() == [True, False, True]
    assert df["flag"].dtype == bool and df["flag"].tolist() == [True, False, True]


def test_path_is_stripped_from_the_display_name() -> None:
    assert load_table(SIMPLE_CSV.encode(), r"C:\Users\me\Q1 sales.CSV").name == "Q1 sales.CSV"
    assert load_table(SIMPLE_CSV.encode(), "/tmp/x/y.csv").name == "y.csv"


def test_ragged_rows_are_padded_or_skipped_with_warnings() -> None:
    data = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"
    table = load_table(data, "ragged.csv")
    df = table.df
    assert df["a"].tolist() == [1, 4, 10]
    assert np.isnan(df["c"].iloc[1])
    text = " ".join(table.warnings)
    assert "1 row(s) had more fields than the 3 header columns and were skipped" in text
    assert "line 4" in text
    assert "1 row(s) had fewer fields" in text


def test_only_long_rows_are_skipped_with_an_example() -> None:
    data = b"a,b\n1,2\n3,4,5\n6,7\n"
    table = load_table(data, "long.csv")
    assert table.df["a"].tolist() == [1, 6]
    assert table.warnings == (
        "1 row(s) had more fields than the 2 header columns and were skipped (e.g. '3,4,5').",
    )


def test_quoted_newlines_beyond_the_sniffed_prefix(caplog: pytest.LogCaptureFixture) -> None:
    # The first 5,000 rows (> the 64 KB sniffed prefix) have no quoted newlines, so the
    # fast path runs without quoted-newline support, hits one at a block boundary
    # (the file spans several 1 MB blocks) and the file is read again.
    rows = [
        f'{i},"note {i}\nsecond line, with comma",{i * 2}'
        if i >= 5000 and i % 7 == 0
        else f"{i},plain {i},{i * 2}"
        for i in range(300_000)
    ]
    data = ("a,b,c\n" + "\n".join(rows) + "\n").encode()
    assert data.find(b'"') > 64 * 1024
    with caplog.at_level(logging.INFO, logger="livechat.data.loaders.csv_reader"):
        table = load_table(data, "nl.csv")
    assert "fast CSV parse failed" in caplog.text
    assert len(table.df) == 300_000
    assert table.df["b"].iloc[5005] == "note 5005\nsecond line, with comma"
    assert table.df["c"].iloc[-1] == 599_998
    assert table.warnings == ()


def test_header_shorter_than_every_data_row_keeps_all_columns() -> None:
    table = load_table(b"a,b\n1,2,3\n4,5,6\n", "short-header.csv")
    assert list(table.df.columns) == ["a", "b", "column_3"]
    assert table.df["column_3"].tolist() == [3, 6]
    assert any("column_3" in w for w in table.warnings)


def test_blank_and_duplicate_headers_are_renamed_with_warnings() -> None:
    data = b"name,,name,amount, ,name_2\nA,1,B,2,3,4\n"
    table = load_table(data, "h.csv")
    assert list(table.df.columns) == ["name", "column_2", "name_3", "amount", "column_5", "name_2"]
    text = " ".join(table.warnings)
    assert "2 column(s) had no name" in text
    assert "'name' → 'name_3'" in text


def test_one_megabyte_cell_is_kept_whole() -> None:
    big = "x" * 1_000_000
    data = f"id,blob,n\n1,{big},2\n2,small,3\n".encode()
    df = load_table(data, "big.csv").df
    assert len(df["blob"].iloc[0]) == 1_000_000
    assert df["n"].tolist() == [2, 3]


def test_one_megabyte_quoted_cell_with_newlines() -> None:
    big = ("y" * 999 + "\n") * 1000
    data = f'id,blob\n1,"{big}"\n2,z\n'.encode()
    df = load_table(data, "bigq.csv").df
    assert df["blob"].iloc[0] == big
    assert df["id"].tolist() == [1, 2]


def test_2000_columns_is_allowed() -> None:
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS))
    row = ",".join("1" for _ in range(MAX_COLUMNS))
    df = load_table(f"{header}\n{row}\n".encode(), "wide.csv").df
    assert df.shape == (1, MAX_COLUMNS)


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024-01-02 10:00", "2024-01-03"], ["2024-01-02 10:00", "2024-01-03"]),
        (["25/12/2023", "01/02/2024"], ["2023-12-25", "2024-02-01"]),
        (["12/25/2023", "02/01/2024"], ["2023-12-25", "2024-02-01"]),
        (["31.01.2024 08:30", "01.02.2024 09:45"], ["2024-01-31 08:30", "2024-02-01 09:45"]),
        (["2024/01/31", "2024/02/01"], ["2024-01-31", "2024-02-01"]),
        (["5 Jan 2024", "March 7, 2024"], ["2024-01-05", "2024-03-07"]),
        (["2024-01-02T10:00:00Z", "2024-01-02T12:00:00+02:00"], ["2024-01-02 10:00Z", "2024-01-02 10:00Z"]),
    ],
    ids=["iso-mixed-precision", "day-first", "month-first", "dotted-with-time", "year-first-slash",
         "month-names", "offsets-to-utc"],
)
def test_unambiguous_dates_are_parsed(values: list[str], expected: list[str]) -> None:
    frame = pd.DataFrame({"d": values, "n": range(len(values))})
    df = load_table(frame.to_csv(index=False).encode(), "d.csv").df
    assert pd.api.types.is_datetime64_any_dtype(df["d"])
    assert df["d"].tolist() == [pd.Timestamp(v) for v in expected]


def test_ambiguous_dates_stay_text_with_a_warning() -> None:
    table = load_table(b"d,n\n01/02/2024,1\n03/04/2024,2\n", "amb.csv")
    assert table.df["d"].tolist() == ["01/02/2024", "03/04/2024"]
    assert any("day-first or month-first" in w for w in table.warnings)


@pytest.mark.parametrize(
    "values",
    [["2024-01-02", "not a date"], ["1.2.3", "4.5.6"], ["2024-01-02T10:00Z", "2024-01-02T10:00"],
     ["ID-2024-01", "ID-2024-02"]],
    ids=["one-bad-value", "version-numbers", "aware-and-naive", "ids"],
)
def test_non_dates_stay_text(values: list[str]) -> None:
    frame = pd.DataFrame({"d": values})
    df = load_table(frame.to_csv(index=False).encode(), "t.csv").df
    assert df["d"].tolist() == values


def test_a_late_non_date_value_keeps_the_column_as_text() -> None:
    values = [f"2024-01-{(i % 28) + 1:02d}" for i in range(30_000)] + ["soon"]
    frame = pd.DataFrame({"d": values})
    df = load_table(frame.to_csv(index=False).encode(), "late.csv").df
    assert df["d"].iloc[-1] == "soon"
    assert df["d"].iloc[0] == "2024-01-01"


# ---------------------------------------------------------------- excel


def test_xlsx_types_and_first_non_empty_sheet() -> None:
    data = xlsx_bytes(
        {
            "Cover": [],
            "Q1": [
                [None],
                ["id", "name", "amount", "when", "ok"],
                [1, "Ann", 3.5, dt.datetime(2024, 1, 2), True],
                [2, "Bob", None, dt.datetime(2024, 2, 3), False],
            ],
            "Q2": [["x"], [9]],
        }
    )
    table = load_table(data, "sales.xlsx")
    assert table.name == "sales.xlsx — Q1"
    assert table.sheets == ("Cover", "Q1", "Q2")
    assert table.sheet == "Q1"
    df = table.df
    assert list(df.columns) == ["id", "name", "amount", "when", "ok"]
    assert df["id"].tolist() == [1, 2] and pd.api.types.is_integer_dtype(df["id"])
    assert df["amount"].iloc[0] == 3.5 and np.isnan(df["amount"].iloc[1])
    assert pd.api.types.is_datetime64_any_dtype(df["when"])
    assert df["ok"].tolist() == [True, False]


def test_xlsx_sheet_choice_and_xlsm_extension() -> None:
    data = xlsx_bytes({"A": [["a"], [1]], "B": [["b"], [2], [3]]})
    table = load_table(data, "book.xlsm", sheet="B")
    assert table.name == "book.xlsm — B"
    assert table.df["b"].tolist() == [2, 3]


def test_xlsx_mixed_column_numeric_headers_and_na_strings() -> None:
    data = xlsx_bytes(
        {"S": [[2023, "code", None, "v"], [1, "A1", 5, 1.5], [2, 7, 6, "n/a"], [3, "B", 7, 2]]}
    )
    table = load_table(data, "m.xlsx")
    df = table.df
    assert list(df.columns) == ["2023", "code", "column_3", "v"]
    assert df["code"].tolist() == ["A1", "7", "B"]
    assert pd.api.types.is_string_dtype(df["code"])
    assert df["v"].iloc[0] == 1.5 and np.isnan(df["v"].iloc[1])
    assert any("'code' mixes numbers" in w for w in table.warnings)


# ---------------------------------------------------------------- parquet


def test_parquet_round_trip_with_index() -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.5, 2.5],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "kind": pd.Categorical(["a", "b"]),
        },
        index=pd.Index(["x", "y"], name="key"),
    )
    df = load_table(parquet_bytes(frame), "t.parquet").df
    assert list(df.columns) == ["key", "amount", "when", "kind"]
    assert df["key"].tolist() == ["x", "y"]
    assert df["amount"].tolist() == [1.5, 2.5]
    assert pd.api.types.is_datetime64_any_dtype(df["when"])


# ---------------------------------------------------------------- json


RECORDS = [{"id": 1, "name": "Ann", "when": "2024-01-02"}, {"id": 2, "name": "Bob", "when": "2024-02-03"}]


@pytest.mark.parametrize(
    "doc",
    [
        RECORDS,
        {"columns": ["id", "name", "when"], "data": [[1, "Ann", "2024-01-02"], [2, "Bob", "2024-02-03"]]},
        {"id": {"0": 1, "1": 2}, "name": {"0": "Ann", "1": "Bob"}, "when": {"0": "2024-01-02", "1": "2024-02-03"}},
        {"id": [1, 2], "name": ["Ann", "Bob"], "when": ["2024-01-02", "2024-02-03"]},
        {"schema": {"fields": []}, "data": RECORDS},
        {"results": RECORDS},
    ],
    ids=["records", "split", "columns", "columns-lists", "table", "wrapped-records"],
)
def test_json_orientations(doc: object) -> None:
    df = load_table(json.dumps(doc).encode(), "d.json").df
    assert list(df.columns) == ["id", "name", "when"]
    assert df["id"].tolist() == [1, 2]
    assert df["name"].tolist() == ["Ann", "Bob"]
    assert df["when"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-02-03")]


def test_jsonl_and_nested_values() -> None:
    lines = [
        {"id": 1, "tags": ["a", "b"], "geo": {"lat": 1.5}},
        {},
        {"id": 2, "tags": [], "geo": {"lat": 2.5}, "extra": True},
    ]
    text = "\n".join(json.dumps(x) for x in lines[:1]) + "\n\n" + json.dumps(lines[2]) + "\n"
    table = load_table(text.encode(), "d.jsonl")
    df = table.df
    assert df["id"].tolist() == [1, 2]
    assert df["geo.lat"].tolist() == [1.5, 2.5]
    assert df["tags"].tolist() == ['["a", "b"]', "[]"]
    assert any("'tags' holds nested lists" in w for w in table.warnings)


def test_json_file_holding_json_lines() -> None:
    text = "\n".join(json.dumps(r) for r in RECORDS)
    table = load_table(text.encode(), "d.json")
    assert table.df["id"].tolist() == [1, 2]
    assert any("JSON Lines" in w for w in table.warnings)


# ---------------------------------------------------------------- bad input


def _zip_with(member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, "a,b\n1,2\n")
    return buf.getvalue()


def _corrupt_xlsx() -> bytes:
    good = xlsx_bytes({"S": [["a"], [1]]})
    src = zipfile.ZipFile(io.BytesIO(good))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                body = body[: len(body) // 2]  # broken XML
            dst.writestr(item, body)
    return buf.getvalue()


_GOOD_XLSX = xlsx_bytes({"S": [["a", "b"], *[[i, f"v{i}"] for i in range(200)]]})
_GOOD_PARQUET = parquet_bytes(pd.DataFrame({"a": range(1000), "b": [f"v{i}" for i in range(1000)]}))

BAD_INPUTS = [
    ("empty", b"", "e.csv", r"e\.csv is empty \(0 bytes\)"),
    ("blank", b"  \n\n \r\n", "b.csv", "contains no data: it is blank"),
    ("header-only", b"a,b,c\n", "h.csv", "has a header but no rows"),
    ("header-only-xlsx", xlsx_bytes({"S": [["a", "b"]]}), "h.xlsx", r"h\.xlsx — S has a header but no rows"),
    ("binary-garbage", random.Random(1).randbytes(5000), "g.csv", "does not look like a text file"),
    ("csv-is-zip", _zip_with("data.csv"), "z.csv", "is a zip archive.*Unzip it"),
    ("csv-is-xlsx", _GOOD_XLSX, "x.csv", r"is an Excel workbook\. Rename it to \.xlsx"),
    ("csv-is-parquet", _GOOD_PARQUET, "p.csv", r"Rename it to \.parquet"),
    ("csv-is-gzip", b"\x1f\x8b\x08\x00" + bytes(100), "g.csv", "gzip-compressed"),
    ("truncated-xlsx", _GOOD_XLSX[: len(_GOOD_XLSX) // 2], "t.xlsx", "damaged or truncated"),
    ("corrupt-xlsx", _corrupt_xlsx(), "c.xlsx", "damaged or truncated"),
    ("encrypted-xlsx", cfb_bytes(encrypted=True), "secret.xlsx", r"secret\.xlsx is password-protected"),
    ("legacy-xls-as-xlsx", cfb_bytes(encrypted=False), "old.xlsx", "password-protected workbook or an Excel 97-2003"),
    ("xlsx-is-text", b"a,b\n1,2\n", "t.xlsx", "is not an Excel workbook"),
    ("missing-sheet", _GOOD_XLSX, "s.xlsx", "has no sheet named 'Nope'; its sheets are 'S'"),
    ("all-sheets-empty", xlsx_bytes({"A": [], "B": [[None]]}), "e.xlsx", "every sheet is empty"),
    ("truncated-parquet", _GOOD_PARQUET[: len(_GOOD_PARQUET) - 40], "t.parquet", "truncated or damaged"),
    ("corrupt-parquet", b"PAR1" + random.Random(2).randbytes(3000) + b"PAR1", "c.parquet", "could not be read as Parquet"),
    ("parquet-is-csv", b"a,b\n1,2\n", "p.parquet", "is not a Parquet file"),
    ("json-invalid", b'{"a": [1, 2', "j.json", "is not valid JSON: .* at line 1"),
    ("json-scalar", b"42", "j.json", "is JSON but not a table: it is a single int"),
    ("json-empty-list", b"[]", "j.json", "contains no rows"),
    ("json-list-of-lists", b"[[1, 2], [3, 4]]", "j.json", "holds a list, not only records"),
    ("jsonl-bad-line", b'{"a": 1}\n{"a": \n', "j.jsonl", "line 2 is not valid JSON"),
    ("jsonl-not-object", b'{"a": 1}\n[1]\n', "j.jsonl", "line 2 is a JSON list"),
    ("unsupported-ext", b"a,b\n1,2\n", "report.pdf", r"'\.pdf' are not supported\. Supported types: \.csv, \.tsv"),
    ("no-ext", b"a,b\n1,2\n", "README", "'no extension' are not supported"),
]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_raises_a_clear_data_load_error(data: bytes, filename: str, message: str) -> None:
    sheet = "Nope" if filename == "s.xlsx" else None
    with pytest.raises(DataLoadError, match=message) as info:
        load_table(data, filename, sheet=sheet)
    assert "unexpected" not in str(info.value)
    assert info.value.filename is not None


def test_data_load_error_is_a_value_error() -> None:
    assert issubclass(DataLoadError, ValueError)


# ---------------------------------------------------------------- guards


def test_file_over_the_upload_limit() -> None:
    with pytest.raises(DataLoadError, match=r"big\.csv is 1\.0 MB; the upload limit is 0\.5 MB"):
        load_table(b"a\n" + b"1\n" * (512 * 1024), "big.csv", max_bytes=512 * 1024)


def test_default_upload_limit_is_checked_before_parsing() -> None:
    too_big = bytearray(MAX_UPLOAD_BYTES + 1)  # zeros: would be "binary" if parsed
    with pytest.raises(DataLoadError, match="upload limit is 200.0 MB"):
        load_table(too_big, "huge.csv")  # type: ignore[arg-type]


def test_ten_thousand_columns_in_csv() -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    with pytest.raises(DataLoadError, match="has 10,000 columns; the limit is 2,000 columns"):
        load_table(f"{header}\n{row}\n".encode(), "wide.csv")


def test_too_many_columns_in_parquet_and_json() -> None:
    wide = pa.table({f"c{i}": [1] for i in range(MAX_COLUMNS + 1)})
    with pytest.raises(DataLoadError, match="has 2,001 columns"):
        load_table(parquet_bytes(wide), "w.parquet")
    doc = [{f"c{i}": 1 for i in range(MAX_COLUMNS + 1)}]
    with pytest.raises(DataLoadError, match="has 2,001 columns"):
        load_table(json.dumps(doc).encode(), "w.json")


def test_too_many_columns_in_xlsx() -> None:
    data = xlsx_bytes({"S": [list(range(MAX_COLUMNS + 5)), [1] * (MAX_COLUMNS + 5)]})
    with pytest.raises(DataLoadError, match="has 2,005 columns"):
        load_table(data, "w.xlsx")


def test_too_many_cells_is_refused_from_parquet_metadata() -> None:
    rows = MAX_CELLS + 1
    table = pa.table({"x": pa.nulls(rows, pa.int8())})
    with pytest.raises(DataLoadError, match=r"50,000,001 cells; the limit is 50,000,000 cells"):
        load_table(parquet_bytes(table), "tall.parquet")


def test_cell_guard_message() -> None:
    check_cells("t.csv", 10, 5, Limits(max_columns=10, max_cells=50))  # at the limit: fine
    with pytest.raises(DataLoadError, match=r"t\.csv has 11 rows × 5 columns = 55 cells; the limit is 50"):
        check_cells("t.csv", 11, 5, Limits(max_columns=10, max_cells=50))


def test_excel_reader_stops_at_the_cell_limit_while_streaming() -> None:
    data = xlsx_bytes({"S": [["a", "b"], *[[i, i] for i in range(5000)]]})
    with pytest.raises(DataLoadError, match="the limit is 1,000 cells"):
        read_excel(data, "big.xlsx", sheet=None, limits=Limits(max_columns=10, max_cells=1000))


# ---------------------------------------------------------------- robustness


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.binary(min_size=1, max_size=3000), ext=st.sampled_from(SUPPORTED_EXTENSIONS))
def test_arbitrary_bytes_give_a_table_or_an_anticipated_error(payload: bytes, ext: str) -> None:
    try:
        table = load_table(payload, "fuzz" + ext)
    except DataLoadError as exc:
        assert "unexpected" not in str(exc), str(exc)
    else:
        assert len(table.df) > 0
        assert all(isinstance(c, str) and c for c in table.df.columns)
        assert table.df.columns.is_unique


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list('ab1,;\t|"\n .-/:')), min_size=1, max_size=400),
    ext=st.sampled_from([".csv", ".tsv", ".txt"]),
)
def test_arbitrary_delimited_text_never_escapes(text: str, ext: str) -> None:
    try:
        table = load_table(text.encode(), "fuzz" + ext)
    except DataLoadError as exc:
        assert "unexpected" not in str(exc), str(exc)
    else:
        assert table.df.columns.is_unique
        assert not any(dtype == object for dtype in table.df.dtypes), table.df.dtypes


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(doc=_JSON_VALUES)
def test_arbitrary_json_gives_typed_columns_or_an_anticipated_error(doc: object) -> None:
    try:
        table = load_table(json.dumps(doc).encode(), "fuzz.json")
    except DataLoadError as exc:
        assert "unexpected" not in str(exc), str(exc)
    else:
        assert not any(dtype == object for dtype in table.df.dtypes), table.df.dtypes


def test_blank_strings_among_booleans_are_gaps() -> None:
    # Found by the property test above.
    df = load_table(json.dumps({"x": [None, False, "", True]}).encode(), "b.json").df
    assert df["x"].dtype == "boolean"
    assert df["x"].isna().tolist() == [True, False, True, False]


def test_module_exports() -> None:
    for name in data_module.__all__:
        assert hasattr(data_module, name)


@pytest.mark.parametrize("late", ["2.5", "n/a but text", ""])
def test_a_csv_whose_late_rows_change_a_columns_type_reads_as_the_whole_file(
        late: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast path streams the CSV block by block with types fixed by the first block
    # (4 MB); a later row needing another type must still give the whole-file result.
    rows = 400_000
    body = "".join(f"{i},{i % 97},w{i % 13}\n" for i in range(rows))
    data = ("id,n,word\n" + body + f"{rows},{late},w\n").encode()
    assert len(data) > csv_reader._STREAM_BLOCK_BYTES  # the odd row is past the first block
    streamed = load_table(data, "late.csv").df

    def no_streaming(*args: object, **kwargs: object) -> None:
        raise pa.ArrowInvalid("streaming off for this test")

    monkeypatch.setattr(csv_reader.pacsv, "open_csv", no_streaming)
    whole = load_table(data, "late.csv").df
    pd.testing.assert_frame_equal(streamed, whole)
    assert streamed["n"].dtype != np.int64 and len(streamed) == rows + 1
