"""The Data page with files from anywhere: the encoding used and its picker, the columns
read from text as numbers, and the note in "What the model sees" (AppTest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from livechat.data.load import encoding_label
from tests.app.apptest_support import new_app
from tests.unit.data.corpus import CODEPAGE_CASES

RUSSIAN = next(c for c in CODEPAGE_CASES if c.language == "Russian")
GERMAN_SALES = (
    "Filiale;Umsatz;Anteil\r\nKöln;1.234,56;12,5 %\r\nBonn;987,10;3 %\r\nMünchen;2.000,00;84,5 %\r\n"
).encode("cp1252")


def _upload(name: str, data: bytes) -> AppTest:
    at = new_app().run()
    assert not at.exception
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception
    return at


def _encoding_picker(at: AppTest):  # noqa: ANN202 - AppTest's Selectbox type is generic
    pickers = [s for s in at.selectbox if s.label == "Text encoding"]
    assert len(pickers) == 1
    return pickers[0]


def test_a_legacy_code_page_is_named_and_can_be_changed() -> None:
    at = _upload("города.csv", RUSSIAN.encoded())
    picker = _encoding_picker(at)
    assert picker.value == "cp1251"
    assert picker.options[0] == encoding_label("cp1251")
    assert list(at.dataframe[0].value.columns) == list(RUSSIAN.header)
    assert not at.warning  # detected with certainty: no warning

    picker.set_value("cp1252").run()
    assert not at.exception and not at.error
    assert _encoding_picker(at).value == "cp1252"
    columns = list(at.dataframe[0].value.columns)
    assert columns != list(RUSSIAN.header)
    assert columns[0] == RUSSIAN.header[0].encode("cp1251").decode("cp1252")

    _encoding_picker(at).set_value("cp1251").run()
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == list(RUSSIAN.header)
    assert at.dataframe[0].value.iloc[0, 0] == RUSSIAN.rows[0][0]


def test_a_utf8_file_shows_its_encoding_without_a_picker() -> None:
    at = _upload("plain.csv", "a,b\nZürich,1\n".encode())
    assert not [s for s in at.selectbox if s.label == "Text encoding"]
    assert any(c.value == f"Text encoding: {encoding_label('utf-8')}" for c in at.main.caption)


def test_conversions_are_listed_and_reach_the_model() -> None:
    at = _upload("umsatz.csv", GERMAN_SALES)
    assert not at.exception and not at.error
    shown = at.dataframe[0].value
    assert shown["Umsatz"].tolist() == [1234.56, 987.1, 2000.0]
    info = "\n".join(i.value for i in at.info)
    assert "Umsatz: read '1.234,56' as 1234.56, decimal comma" in info
    assert "Anteil: read '12,5 %' as 12.5, decimal comma, percent" in info
    profile = at.dataframe[1].value
    assert profile.set_index("column").loc["Anteil", "type"] == "decimal (percent)"
    instruction = at.code[0].value
    assert "read from text as written in the file" in instruction
    assert '"Umsatz" "1.234,56" as 1234.56 (decimal comma)' in instruction
    assert '"Anteil": decimal (percent)' in instruction
