"""Numbers written the local way read as numbers, one convention per column."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from livechat.data.load import load_table
from livechat.data.loaders.numbers import convert_number_columns


def _csv(delimiter: str, header: list[str], rows: list[list[str]], codec: str = "utf-8") -> bytes:
    def cell(value: str) -> str:
        needs_quotes = delimiter in value or '"' in value
        return '"' + value.replace('"', '""') + '"' if needs_quotes else value

    lines = [delimiter.join(header)] + [delimiter.join(cell(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(codec)


def _values(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series.tolist()]


# (convention id, delimiter, cells as written, values as read)
CONVENTIONS = [
    ("german", ";", ["1.234,56", "", "12,5", "-3.000,00", "0,75", "1.000.000,01"], [1234.56, None, 12.5, -3000.0, 0.75, 1000000.01]),
    ("french-nnbsp", ";", ["1\u202f234,56", "2\u00a0000,5", "", "3 000", "0,5", "-12\u202f345,6"], [1234.56, 2000.5, None, 3000.0, 0.5, -12345.6]),
    ("swiss", ";", ["1'234,56", "2'000,5", "", "3'000", "0,5", "7,25"], [1234.56, 2000.5, None, 3000.0, 0.5, 7.25]),
    ("us-quoted", ",", ["1,234.56", "2,000.5", "", "3,000", "0.5", "-1,000,000.25"], [1234.56, 2000.5, None, 3000.0, 0.5, -1000000.25]),
    ("percent", ",", ["12.5%", "3%", "", "100 %", "-0.5%", "0%"], [12.5, 3.0, None, 100.0, -0.5, 0.0]),
    ("percent-comma", ";", ["12,5 %", "3 %", "", "100 %", "-0,5 %", "0 %"], [12.5, 3.0, None, 100.0, -0.5, 0.0]),
    ("dollars", ",", ["$1,200.00", "$35.50", "", "-$4.25", "$0.99", "$1,000,000.00"], [1200.0, 35.5, None, -4.25, 0.99, 1000000.0]),
    ("euros-after", ";", ["1.234,56 €", "35,50 €", "", "-4,25 €", "0,99 €", "12 €"], [1234.56, 35.5, None, -4.25, 0.99, 12.0]),
    ("iso-code", ";", ["CHF 1'234.50", "CHF 35.50", "", "CHF -4.25", "CHF 0.99", "CHF 12"], [1234.5, 35.5, None, -4.25, 0.99, 12.0]),
]


@pytest.mark.parametrize(("cid", "delimiter", "cells", "expected"), CONVENTIONS, ids=[c[0] for c in CONVENTIONS])
def test_each_convention_converts_with_blanks(cid: str, delimiter: str, cells: list[str], expected: list) -> None:
    rows = [[f"item {i}", cell] for i, cell in enumerate(cells)]
    table = load_table(_csv(delimiter, ["Artikel", "Umsatz"], rows), f"{cid}.csv")
    column = table.df["Umsatz"]
    assert column.dtype == np.float64
    got = _values(column)
    assert [None if v is None else round(v, 6) for v in got] == expected
    assert table.df["Artikel"].tolist() == [f"item {i}" for i in range(len(cells))]
    conversions = [c for c in table.conversions if c.column == "Umsatz"]
    assert len(conversions) == 1
    assert conversions[0].describe().startswith("Umsatz: read '")


def test_german_export_describes_the_conversion() -> None:
    data = _csv(";", ["Filiale", "Umsatz", "Anteil"], [["Köln", "1.234,56", "12,5%"], ["Bonn", "987,10", "3%"]])
    table = load_table(data, "umsatz.csv")
    described = [c.describe() for c in table.conversions]
    assert "Umsatz: read '1.234,56' as 1234.56, decimal comma" in described
    anteil = next(c for c in table.conversions if c.column == "Anteil")
    assert anteil.percent and anteil.unit == "%"
    assert table.df["Anteil"].tolist() == [12.5, 3.0]


def test_currency_is_kept() -> None:
    table = load_table(_csv(",", ["item", "price"], [["a", "$1,200.00"], ["b", "$3.50"]]), "p.csv")
    conversion = next(c for c in table.conversions if c.column == "price")
    assert conversion.currency == "$"
    assert conversion.unit == "$"
    assert "currency $" in conversion.describe()


def test_integers_stay_integers() -> None:
    table = load_table(_csv(";", ["Stadt", "Einwohner"], [["Köln", "1.083.498"], ["Bonn", "336.465"]]), "e.csv")
    assert table.df["Einwohner"].dtype == np.int64
    assert table.df["Einwohner"].tolist() == [1083498, 336465]


def test_one_stray_value_keeps_text_with_a_warning_naming_the_column() -> None:
    cells = ["1,5", "2,5", "3,25", "", "n. v.", "4,0", "5,75", "6,5"]
    table = load_table(_csv(";", ["id", "Messwert"], [[str(i), c] for i, c in enumerate(cells)]), "m.csv")
    assert pd.api.types.is_string_dtype(table.df["Messwert"].dtype)
    warning = next(w for w in table.warnings if "Messwert" in w)
    assert "'n. v.'" in warning and "kept as text" in warning


def test_stray_value_beyond_the_probe_is_found() -> None:
    cells = [f"{i},5" for i in range(3_000)] + ["oops"]
    table = load_table(_csv(";", ["id", "wert"], [[str(i), c] for i, c in enumerate(cells)]), "m.csv")
    assert pd.api.types.is_string_dtype(table.df["wert"].dtype)
    assert any("'wert'" in w and "'oops'" in w for w in table.warnings)


def test_plain_text_gets_no_warning() -> None:
    table = load_table(_csv(",", ["name", "code"], [["Anna", "A-1"], ["Ben", "B-2"]]), "t.csv")
    assert table.warnings == ()
    assert table.conversions == ()


def test_leading_zero_codes_stay_text() -> None:
    df = pd.DataFrame({"zip": ["01234", "02345", "0815"], "ref": ["$01", "$02", "$03"]}, dtype="str")
    out, result = convert_number_columns(df)
    assert out["zip"].tolist() == ["01234", "02345", "0815"]
    assert out["ref"].tolist() == ["$01", "$02", "$03"]
    assert result.conversions == () and result.warnings == ()


def test_ambiguous_column_follows_the_files_decimal_comma() -> None:
    # "1.234" alone reads two ways; a ";" file whose other column writes decimal commas decides.
    data = _csv(";", ["Menge", "Preis"], [["1.234", "3,50"], ["2.500", "10,25"], ["3.000", "7,00"]])
    table = load_table(data, "de.csv")
    assert table.df["Menge"].tolist() == [1234, 2500, 3000]
    assert table.df["Preis"].tolist() == [3.5, 10.25, 7.0]
    menge = next(c for c in table.conversions if c.column == "Menge")
    assert menge.by_file_convention and menge.convention == "decimal comma"


def test_ambiguous_column_follows_the_files_decimal_point() -> None:
    data = _csv(",", ["qty", "price"], [["1,234", "1,003.50"], ["2,500", "10.25"], ["3,000", "7.00"]])
    table = load_table(data, "us.csv")
    assert table.df["qty"].tolist() == [1234, 2500, 3000]


def test_ambiguous_column_without_evidence_stays_text_with_a_warning() -> None:
    data = _csv(";", ["name", "Menge"], [["a", "1.234"], ["b", "2.500"], ["c", "3.000"]])
    table = load_table(data, "amb.csv")
    assert table.df["Menge"].tolist() == ["1.234", "2.500", "3.000"]
    assert any("'Menge'" in w and "1.234" in w for w in table.warnings)


def test_column_with_other_values_is_decided_by_them() -> None:
    data = _csv(";", ["name", "Menge"], [["a", "1.234"], ["b", "2.500,5"], ["c", "3"]])
    table = load_table(data, "own.csv")
    assert table.df["Menge"].tolist() == [1234.0, 2500.5, 3.0]


def test_mixed_currencies_stay_text() -> None:
    table = load_table(_csv(",", ["x", "amount"], [["a", "$5"], ["b", "€6"], ["c", "$7"]]), "c.csv")
    assert pd.api.types.is_string_dtype(table.df["amount"].dtype)
    assert any("several currencies" in w and "'amount'" in w for w in table.warnings)


def test_day_first_dates_in_a_european_file() -> None:
    data = _csv(";", ["Datum", "Umsatz"], [["03.04.2024", "1.234,56"], ["05.06.2024", "12,5"]])
    table = load_table(data, "d.csv")
    assert table.df["Datum"].dt.strftime("%Y-%m-%d").tolist() == ["2024-04-03", "2024-06-05"]
    assert any(c.kind == "date" and c.column == "Datum" for c in table.conversions)


def test_ambiguous_dates_without_evidence_stay_text() -> None:
    data = _csv(",", ["date", "n"], [["03/04/2024", "1"], ["05/06/2024", "2"]])
    table = load_table(data, "d.csv")
    assert table.df["date"].tolist() == ["03/04/2024", "05/06/2024"]
    assert any("day-first or month-first" in w for w in table.warnings)


def test_excel_text_numbers_convert_too() -> None:
    df = pd.DataFrame({"Umsatz": ["1.234,56", "12,5", None]}, dtype="str")
    out, result = convert_number_columns(df)
    assert _values(out["Umsatz"])[:2] == [1234.56, 12.5]
    assert math.isnan(out["Umsatz"].iloc[2])
    assert result.decimal_mark == ","


def test_whole_column_converts_the_same_as_one_by_one() -> None:
    rng = np.random.default_rng(7)
    values = np.round(rng.uniform(-1e6, 1e6, 5_000), 2)
    cells = [f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") for v in values]
    out, result = convert_number_columns(pd.DataFrame({"v": pd.Series(cells, dtype="str")}))
    assert np.allclose(out["v"].to_numpy(), values)
    assert result.conversions[0].convention == "decimal comma"
