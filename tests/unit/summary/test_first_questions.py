"""First questions from the tables and definitions: 3-5, the right kinds, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from livechat.summary.definitions import parse_definitions
from livechat.summary.first_questions import first_questions, table_language

RNG = np.random.default_rng(7)
DAYS = pd.date_range("2024-01-01", periods=120, freq="D")


def _sales() -> pd.DataFrame:
    return pd.DataFrame({"region": ["North", "South", "East", "West"] * 30, "revenue": RNG.random(120) * 100,
                         "refunds": RNG.random(120) * 5, "order_date": DAYS})


def _tables() -> dict[str, dict[str, pd.DataFrame] | pd.DataFrame]:
    """Ten varied tables (or sets): the questions must suit each."""
    orders = pd.DataFrame({"order_id": range(1, 121), "customer_id": [1 + i % 12 for i in range(120)],
                           "amount": RNG.random(120) * 50, "placed": DAYS})
    customers = pd.DataFrame({"customer_id": range(1, 13), "segment": ["retail", "trade", "online"] * 4,
                              "name": [f"Customer {i}" for i in range(12)]})
    return {
        "sales": _sales(),
        "orders_customers": {"orders": orders, "customers": customers},
        "german": pd.DataFrame({"Datum": DAYS, "Filiale": ["Nord", "Süd", "Ost"] * 40,
                                "Umsatz": RNG.random(120) * 900, "Menge": RNG.integers(1, 5, 120)}),
        "french": pd.DataFrame({"date_commande": DAYS, "ville": ["Paris", "Lyon", "Lille"] * 40,
                                "montant": RNG.random(120) * 80, "quantité": RNG.integers(1, 9, 120)}),
        "spanish": pd.DataFrame({"fecha": DAYS, "tienda": ["Centro", "Norte"] * 60,
                                 "importe": RNG.random(120) * 30}),
        "text_only": pd.DataFrame({"comment": [f"note number {i}" for i in range(40)],
                                   "author": ["ann", "bob", "cy", "di"] * 10}),
        "numbers_only": pd.DataFrame({"x": RNG.random(50), "y": RNG.random(50) * 3}),
        "ids_and_years": pd.DataFrame({"id": range(60), "year": [2000 + i % 20 for i in range(60)],
                                       "score": RNG.random(60)}),
        "empty": pd.DataFrame(),
        "booleans": pd.DataFrame({"storm_night": [True, False] * 30, "wind_knots": RNG.random(60) * 60,
                                  "keeper": ["Ada", "Bram", "Cleo"] * 20}),
    }


@pytest.mark.parametrize("name", list(_tables()))
def test_three_to_five_distinct_questions_for_every_table(name: str) -> None:
    questions = first_questions(_tables()[name])
    assert 3 <= len(questions) <= 5, questions
    assert len(set(questions)) == len(questions)
    assert all(q.endswith("?") for q in questions)


def test_the_same_tables_give_the_same_questions() -> None:
    for name, tables in _tables().items():
        copy = {k: v.copy() for k, v in tables.items()} if isinstance(tables, dict) else tables.copy()
        assert first_questions(tables) == first_questions(copy), name


def test_a_measure_by_category_a_trend_and_an_extreme() -> None:
    questions = first_questions(_sales())
    assert questions[:2] == ("Which region has the highest total revenue?",
                             "How has the total revenue changed over time (order date)?")
    assert "What is the highest revenue, and where does it occur?" in questions


def test_a_join_when_a_key_links_two_tables() -> None:
    questions = first_questions(_tables()["orders_customers"])
    assert "Joining orders with customers: what is the total amount per segment?" in questions


def test_a_defined_term_comes_first() -> None:
    definitions = parse_definitions("terms:\n  - name: net revenue\n    meaning: after refunds\n"
                                    "    sql: sum(revenue) - sum(refunds)\n")
    questions = first_questions(_sales(), definitions)
    assert questions[0] == "What is the net revenue by region?"
    assert len(questions) <= 5
    trusted = parse_definitions("trusted_queries:\n  - question: revenue by region\n    sql: select 1\n")
    assert first_questions(_sales(), trusted)[0] == "revenue by region"


@pytest.mark.parametrize("name, language, expected", [
    ("german", "de", "Bei welchem Wert von Filiale ist die Summe von Umsatz am höchsten?"),
    ("french", "fr", "Quel ville a le plus grand total de montant ?"),
    ("spanish", "es", "¿Qué tienda tiene el mayor total de importe?"),
    ("sales", "en", "Which region has the highest total revenue?"),
])
def test_the_tables_language_where_the_column_names_make_it_obvious(name: str, language: str, expected: str) -> None:
    tables = _tables()[name]
    assert table_language([str(c) for c in tables.columns]) == language
    assert expected in first_questions(tables)


def test_english_when_the_names_do_not_say() -> None:
    assert table_language(["x", "y", "datum"]) == "en"  # one word is not obvious
    assert table_language([]) == "en"


def test_names_are_spoken_and_escaped() -> None:
    df = pd.DataFrame({"stormNight<<<": ["a", "b"] * 20, "wave_height_m": RNG.random(40)})
    questions = first_questions(df)
    assert any("wave height m" in q for q in questions)
    assert not any("<<<" in q for q in questions)
