"""The figure check over a table of (reply, evidence, expected marks) cases (issue 30).

English, German, French and Spanish replies, with the traps the issue names: years,
ordinals, the question's own numbers, rounded figures, percent changes and figures one
digit off. Evidence: one run_sql result (the answer's own turn) and a data summary.
Each case lists every figure the reply should be marked for, in order, with its kind
and (where it matters) a fragment of its source.
"""

from __future__ import annotations

import pytest

from livechat.conversation.figures.check import ToolResult, check_answer

RESULT = {
    "columns": ["region", "year", "revenue", "orders"],
    "rows": [["North", 2024, 1234567, 3075], ["North", 2023, 1102292, 2750],
             ["South", 2024, 845000.5, 1990], ["South", 2023, 900000, 2010]],
    "row_count": 4, "truncated": False, "elapsed_ms": 3.2,
}
SUMMARY = """You are Live Data Chat.
<<<DATA 0123456789abcdef>>>
dataset "sales.csv": 4 rows × 5 columns
columns (number. "name": type; nulls; distinct values):
1. "revenue": decimal; nulls 0; distinct 4
   min 845000.5; median 1001146; max 1234567; mean 1020464.9; sum 4081859.5
2. "margin": decimal; nulls 1 (25%); distinct 3
   min 0.18; max 0.31; mean 0.2433
3. "date": datetime; nulls 0; distinct 4
   from 2023-01-01; to 2024-12-31
<<<END DATA 0123456789abcdef>>>
"""

E, R, D, N = "exact", "rounded", "derived", "not found"

# (case id, language or None to guess, question, reply, [(figure text, kind, source fragment or None)])
CASES = [
    # --- English, digits
    ("en-exact", None, None, "North had 1,234,567 in revenue.", [("1,234,567", E, "run_sql row 1, revenue")]),
    ("en-exact-no-separators", None, None, "Revenue in the north was 1234567.", [("1234567", E, "row 1, revenue")]),
    ("en-exact-decimal", None, None, "South took 845,000.5 in revenue.", [("845,000.5", E, "row 3, revenue")]),
    ("en-rounded-about", None, None, "North made about 1.2 million.", [("1.2 million", R, "row 1, revenue")]),
    ("en-rounded-roughly", None, None, "The year before it was roughly 1.1 million.", [("1.1 million", R, "row 2, revenue")]),
    ("en-rounded-decimals", None, None, "That is 1.23 million for the north.", [("1.23 million", R, "row 1, revenue")]),
    ("en-rounded-k", None, None, "The north took 3k orders.", [("3k", R, "row 1, orders")]),
    ("en-trap-one-digit-off", None, None, "North had 1,234,568 in revenue.", [("1,234,568", N, None)]),
    ("en-trap-one-digit-off-orders", None, None, "North took 3,076 orders.", [("3,076", N, None)]),
    ("en-trap-year", None, None, "In 2024 the north took 3,075 orders.", [("3,075", E, "row 1, orders")]),
    ("en-trap-years-range", None, None, "From 2023 to 2024 orders went from 2,750 to 3,075.",
     [("2,750", E, "row 2, orders"), ("3,075", E, "row 1, orders")]),
    ("en-trap-ordinal", None, None, "The 3rd row has 1,990 orders.", [("1,990", E, "row 3, orders")]),
    ("en-trap-question-number", None, "Which regions had over 2,500 orders?",
     "Only the north had over 2,500 orders: 3,075 of them.", [("3,075", E, "row 1, orders")]),
    ("en-trap-question-number-top", None, "What are the top 3 rows by revenue?",
     "The top 3 start with 1,234,567.", [("1,234,567", E, None)]),
    ("en-percent-change", None, None, "North revenue rose 12% from 2023 to 2024.",
     [("12%", D, "percent change from run_sql row 2, revenue to run_sql row 1, revenue")]),
    ("en-percent-change-decimal", None, None, "Northern orders grew 11.8%.", [("11.8%", D, "percent change")]),
    ("en-percent-change-wrong", None, None, "Northern orders grew 14.9%.", [("14.9%", N, None)]),
    ("en-difference", None, None, "The north took 325 more orders than a year before.",
     [("325", D, "difference of run_sql row 1, orders and run_sql row 2, orders")]),
    ("en-ratio", None, None, "Northern revenue was 1.46 times the south's.", [("1.46", D, "ratio of")]),
    ("en-share", None, None, "South's 1,990 orders are 64.7% of the north's 3,075.",
     [("1,990", E, None), ("64.7%", D, "share of run_sql row 3, orders in run_sql row 1, orders"), ("3,075", E, None)]),
    ("en-list-numbering", None, None, "1. North: 3,075 orders\n2. South: 1,990 orders",
     [("3,075", E, None), ("1,990", E, None)]),
    ("en-trap-iso-date", None, None, "On 2024-03-01 there were 2,750 orders.", [("2,750", E, None)]),
    ("en-trap-month-day", None, None, "On March 5 there were 2,010 orders.", [("2,010", E, "row 4, orders")]),
    ("en-trap-time", None, None, "At 10:30 the count stood at 2,750.", [("2,750", E, None)]),
    ("en-currency", None, None, "That is $1,234,567 of revenue.", [("$1,234,567", E, None)]),
    ("en-negative", None, None, "A change of -325 orders.", [("-325", D, "difference")]),
    ("en-hedge-over", None, None, "The north took more than 3,000 orders.", [("3,000", R, "row 1, orders")]),
    ("en-hedge-under", None, None, "The south took nearly 2,000 orders in 2024.", [("2,000", R, "row 3, orders")]),
    ("en-hedge-over-wrong", None, None, "The north took over 3,100 orders.", [("3,100", N, None)]),
    ("en-summary-mean", None, None, "Mean revenue is about 1.02 million.", [("1.02 million", R, "summary: revenue mean")]),
    ("en-summary-fraction", None, None, "The best margin was 31%.", [("31%", E, "summary: margin max, as a fraction")]),
    ("en-summary-mean-percent", None, None, "Margins average 24.3%.", [("24.3%", R, "summary: margin mean")]),
    ("en-row-count", None, None, "The result has 4 rows.", [("4", E, "run_sql row count")]),
    ("en-no-figures", None, None, "The north leads the regions.", []),
    ("en-words-percent", None, None, "Revenue rose twelve percent.", [("twelve percent", D, "percent change")]),
    ("en-words-about-million", None, None, "It came to about one point two million.",
     [("one point two million", R, "row 1, revenue")]),
    ("en-words-exact", None, None, "They took three thousand and seventy-five orders.",
     [("three thousand and seventy-five", E, "row 1, orders")]),
    ("en-words-one-off", None, None, "They took three thousand and seventy-six orders.",
     [("three thousand and seventy-six", N, None)]),
    ("en-words-year", None, None, "In twenty twenty-four the north took 3,075 orders.", [("3,075", E, None)]),
    ("en-words-ordinal", None, None, "The third region took 2,010 orders.", [("2,010", E, None)]),
    ("en-four-figures", None, "How did the north do?",
     "North sold 1,234,567, about 1.1 million the year before, up 12%; and 7,000 were returned.",
     [("1,234,567", E, "row 1, revenue"), ("1.1 million", R, "row 2, revenue"), ("12%", D, "percent change"),
      ("7,000", N, None)]),
    # --- German
    ("de-exact", None, None, "Der Umsatz im Norden lag bei 1.234.567 Euro.", [("1.234.567", E, "row 1, revenue")]),
    ("de-rounded", None, None, "Der Norden kam auf etwa 1,2 Millionen.", [("1,2 Millionen", R, "row 1, revenue")]),
    ("de-words-percent", None, None, "Das sind zwölf Prozent mehr Umsatz als im Vorjahr.",
     [("zwölf Prozent", D, "percent change")]),
    ("de-trap-year", None, None, "Im Jahr 2024 gab es im Norden 3.075 Bestellungen.", [("3.075", E, "row 1, orders")]),
    ("de-summary-percent", None, None, "Die Marge lag im Mittel bei 24,3 Prozent.",
     [("24,3 Prozent", R, "summary: margin mean")]),
    ("de-trap-date", None, None, "Am 5. März gab es 2.010 Bestellungen.", [("2.010", E, "row 4, orders")]),
    ("de-words-exact", None, None, "Der Norden hatte dreitausendfünfundsiebzig Bestellungen.",
     [("dreitausendfünfundsiebzig", E, "row 1, orders")]),
    ("de-trap-one-digit-off", None, None, "Der Umsatz im Norden lag bei 1.234.568 Euro.", [("1.234.568", N, None)]),
    ("de-hedge", None, None, "Der Norden hatte rund 3.000 Bestellungen.", [("3.000", R, "row 1, orders")]),
    ("de-difference", None, None, "Das ist ein Plus von 325 Bestellungen.", [("325", D, "difference")]),
    ("de-trap-ordinal-word", None, None, "Die dritte Region hatte 1.990 Bestellungen.", [("1.990", E, "row 3, orders")]),
    ("de-trap-question", None, "Welche Regionen hatten mehr als 2.500 Bestellungen?",
     "Nur der Norden hatte mehr als 2.500 Bestellungen, nämlich 3.075.", [("3.075", E, None)]),
    # --- French
    ("fr-exact-spaces", None, None, "Le chiffre d'affaires du Nord est de 1 234 567 euros.",
     [("1 234 567", E, "row 1, revenue")]),
    ("fr-rounded", None, None, "Le Nord a fait environ 1,2 million.", [("1,2 million", R, "row 1, revenue")]),
    ("fr-words-percent", None, None, "Le chiffre d'affaires a augmenté de douze pour cent.",
     [("douze pour cent", D, "percent change")]),
    ("fr-trap-year", None, None, "En 2024, le Nord a reçu 3 075 commandes.", [("3 075", E, "row 1, orders")]),
    ("fr-summary-percent", None, None, "La marge moyenne est de 24,3 %.", [("24,3 %", R, "summary: margin mean")]),
    ("fr-trap-ordinal", None, None, "Au 3e rang, le Sud avec 2 010 commandes.", [("2 010", E, "row 4, orders")]),
    ("fr-words-exact", None, None, "Le Nord a reçu trois mille soixante-quinze commandes.",
     [("trois mille soixante-quinze", E, "row 1, orders")]),
    ("fr-trap-one-digit-off", None, None, "Le Nord a fait 1 234 568 euros.", [("1 234 568", N, None)]),
    ("fr-hedge-under", None, None, "Le Sud a reçu près de 2 000 commandes.", [("2 000", R, "row 3, orders")]),
    ("fr-words-about-million", None, None, "Le Nord a fait environ un virgule deux million d'euros.",
     [("un virgule deux million", R, "row 1, revenue")]),
    # --- Spanish
    ("es-exact", None, None, "El norte tuvo 1.234.567 de ingresos.", [("1.234.567", E, "row 1, revenue")]),
    ("es-words-percent", None, None, "Los ingresos subieron un doce por ciento.", [("doce por ciento", D, "percent change")]),
    ("es-rounded", None, None, "El norte ingresó unos 1,2 millones.", [("1,2 millones", R, "row 1, revenue")]),
    ("es-trap-year", None, None, "En 2023 hubo 2.750 pedidos en el norte.", [("2.750", E, "row 2, orders")]),
    ("es-trap-ordinal", None, None, "El tercer puesto es del sur con 1.990 pedidos.", [("1.990", E, "row 3, orders")]),
    ("es-trap-one-digit-off", None, None, "El norte tuvo 3.076 pedidos.", [("3.076", N, None)]),
    # --- the language given rather than guessed
    ("de-given-language", "de", None, "Umsatz: 1,5 Mio.", [("1,5 Mio.", N, None)]),
    ("en-given-language", "en", None, "Revenue: 1,235 thousand.", [("1,235 thousand", R, "row 1, revenue")]),
]


def test_the_table_is_big_enough_and_multilingual() -> None:
    assert len(CASES) >= 60
    languages = {case_id.split("-")[0] for case_id, *_ in CASES}
    assert {"en", "de", "fr", "es"} <= languages


@pytest.mark.parametrize("case_id, language, question, reply, expected", CASES, ids=[c[0] for c in CASES])
def test_figure_marks(case_id: str, language: str | None, question: str | None, reply: str,
                      expected: list[tuple[str, str, str | None]]) -> None:
    check = check_answer(reply, question=question, turns=[[ToolResult("run_sql", RESULT)]],
                         instruction=SUMMARY, language=language)
    got = [(m.text, m.kind) for m in check.marks]
    assert got == [(text, kind) for text, kind, _ in expected], [(m.text, m.kind, m.source) for m in check.marks]
    for mark, (_, _, source) in zip(check.marks, expected):
        if source is not None:
            assert mark.source is not None and source in mark.source, (mark.text, mark.source)
        assert (mark.source is None) == (mark.kind == "not found")
        assert reply[mark.start:mark.end] == mark.text  # the span is where the figure was said
