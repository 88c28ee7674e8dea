"""Legacy code pages: detection on a bounded sample, the picked encoding, the warnings."""

from __future__ import annotations

import codecs

import pytest

from livechat.data.load import DataLoadError, load_table
from livechat.data.loaders import codepage
from tests.unit.data.corpus import CODEPAGE_CASES, CodepageCase


@pytest.mark.parametrize("case", CODEPAGE_CASES, ids=lambda c: f"{c.language}-{c.codec}")
def test_each_code_page_reads_headers_text_and_numbers(case: CodepageCase) -> None:
    table = load_table(case.encoded(), f"{case.language}.csv")
    df = table.df
    assert list(df.columns) == list(case.header)
    assert df.iloc[:, 0].tolist() == [row[0] for row in case.rows]
    assert df.iloc[:, 1].tolist() == [row[1] for row in case.rows]
    assert df.iloc[:, 3].tolist() == [row[3] for row in case.rows]
    assert str(df.iloc[:, 2].dtype) == "int64"
    assert df.iloc[:, 2].tolist() == [row[2] for row in case.rows]
    assert table.encoding == case.codec
    assert table.encoding_choices[0] == case.codec
    # Realistic text is recognised with certainty: no "re-save" warning.
    assert table.warnings == ()


@pytest.mark.parametrize("case", CODEPAGE_CASES, ids=lambda c: c.language)
def test_code_page_detected_when_the_first_64_kib_are_ascii(case: CodepageCase) -> None:
    ascii_rows = "".join(f"x{i}{case.delimiter}y{case.delimiter}{i}{case.delimiter}z\r\n" for i in range(8_000))
    text = case.text()
    header, body = text.split("\r\n", 1)
    data = (header + "\r\n").encode(case.codec) + ascii_rows.encode() + body.encode(case.codec)
    table = load_table(data, "late.csv")
    assert table.encoding == case.codec
    assert table.df.iloc[-1, 0] == case.rows[-1][0]
    assert table.df.iloc[-1, 3] == case.rows[-1][3]


def test_polish_is_not_read_as_western() -> None:
    polish = next(c for c in CODEPAGE_CASES if c.language == "Polish")
    df = load_table(polish.encoded(), "pl.csv").df
    assert "ludność" in df.columns
    assert "ludnoœæ" not in df.columns


def test_detection_reads_a_bounded_sample() -> None:
    russian = next(c for c in CODEPAGE_CASES if c.language == "Russian")
    body = russian.text().split("\r\n", 1)[1]
    big = (russian.text() + body * 4_000).encode("cp1251")
    assert len(big) > 2 * 1024 * 1024
    sample = codepage.sample(big)
    assert len(sample) <= codepage.SAMPLE_HEAD + codepage.SAMPLE_WINDOWS * codepage.SAMPLE_WINDOW
    # Whole lines only: every line of the sample decodes.
    assert all(line.decode("cp1251") for line in sample.split(b"\n") if line)
    assert codepage.detect_codepage(big).codec == "cp1251"


def test_uncertain_detection_warns_and_offers_the_candidates() -> None:
    # Two short words: Windows-1250 and -1252 both read them "cleanly".
    table = load_table("a,b\nludność,1\nŁódź,2\n".encode("cp1250"), "short.csv")
    assert any("could not be determined with certainty" in w for w in table.warnings)
    assert {"cp1250", "cp1252"} <= set(table.encoding_choices[:3])


def test_undetectable_bytes_are_never_a_silent_latin1_guess() -> None:
    data = b"name,v\nA\x81B,1\nCaf\xe9,2\n"
    table = load_table(data, "odd.csv")
    assert table.warnings, "a guess must come with a warning"
    assert table.encoding is not None and table.encoding in table.encoding_choices


def test_picked_encoding_reloads_the_table() -> None:
    russian = next(c for c in CODEPAGE_CASES if c.language == "Russian")
    data = russian.encoded()
    wrong = load_table(data, "ru.csv", encoding="cp1252")
    assert wrong.encoding == "cp1252"
    assert "город" not in wrong.df.columns
    right = load_table(data, "ru.csv", encoding="cp1251")
    assert right.encoding == "cp1251"
    assert list(right.df.columns) == list(russian.header)
    assert right.warnings == ()


def test_picked_encoding_that_cannot_decode_says_so() -> None:
    japanese = next(c for c in CODEPAGE_CASES if c.language == "Japanese")
    table = load_table(japanese.encoded(), "jp.csv", encoding="utf-8")
    assert table.encoding == "utf-8"
    assert any("could not be read as UTF-8" in w for w in table.warnings)


def test_unknown_picked_encoding_is_a_data_load_error() -> None:
    with pytest.raises(DataLoadError, match="not a text encoding"):
        load_table(b"a,b\n1,2\n", "x.csv", encoding="no-such-codec")


def test_utf8_fast_path_unchanged() -> None:
    table = load_table("a,b\nZürich,1\n".encode(), "u.csv")
    assert table.encoding == "utf-8"
    assert table.warnings == ()
    bom = load_table(codecs.BOM_UTF8 + "a,b\nZürich,1\n".encode(), "u.csv")
    assert bom.encoding == "utf-8" and bom.df["a"].tolist() == ["Zürich"]


def test_non_text_formats_offer_no_encoding() -> None:
    table = load_table(b'[{"a": 1}]', "x.json")
    assert table.encoding is None
    assert table.encoding_choices == ()


def test_labels_name_the_code_pages() -> None:
    assert codepage.label("cp1251") == "Windows-1251 (Cyrillic)"
    assert codepage.label("shift_jis") == "shift_jis"  # not offered: shown as given
    assert codepage.label("windows-1252") == "Windows-1252 (Western European)"
