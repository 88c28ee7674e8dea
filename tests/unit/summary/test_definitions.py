"""The definitions model and its YAML file: round trip, and every refusal with its line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.summary.definitions import (
    MAX_TRUSTED,
    Definitions,
    DefinitionsError,
    Term,
    TrustedQuery,
    definitions_from_rows,
    dump_definitions,
    is_definitions_file,
    parse_definitions,
)

EXAMPLE = """terms:
  - name: net revenue
    meaning: revenue after refunds
    sql: sum(revenue) - sum(refunds)
    aliases: [turnover, net sales]
  - name: active
    meaning: ordered in the last 90 days
trusted_queries:
  - question: revenue by region
    sql: SELECT region, sum(revenue) AS revenue FROM data GROUP BY 1 ORDER BY 2 DESC
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(DefinitionsError) as caught:
        parse_definitions(text)
    return [str(p) for p in caught.value.problems]


def test_the_documented_example_reads_with_lines() -> None:
    definitions = parse_definitions(EXAMPLE)
    assert definitions.terms == (
        Term("net revenue", "revenue after refunds", "sum(revenue) - sum(refunds)", ("turnover", "net sales")),
        Term("active", "ordered in the last 90 days"),
    )
    assert [t.line for t in definitions.terms] == [2, 6]
    assert definitions.trusted_queries == (TrustedQuery(
        "revenue by region", "SELECT region, sum(revenue) AS revenue FROM data GROUP BY 1 ORDER BY 2 DESC"),)
    assert definitions.trusted_queries[0].line == 9


def test_round_trip_through_the_written_yaml() -> None:
    definitions = parse_definitions(EXAMPLE)
    text = dump_definitions(definitions)
    assert parse_definitions(text) == definitions
    assert dump_definitions(parse_definitions(text)) == text


_word = st.text(alphabet=st.characters(categories=("L", "N"), include_characters=" -'é"), min_size=1,
                max_size=30).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_word, _word, st.none() | _word, st.lists(_word, max_size=3)), max_size=5,
                unique_by=lambda t: t[0].casefold()))
def test_round_trip_of_any_terms(rows: list[tuple[str, str, str | None, list[str]]]) -> None:
    terms, seen = [], set()
    for name, meaning, sql, aliases in rows:
        kept = tuple(a for a in aliases if a.casefold() not in seen and a.casefold() != name.casefold())
        kept = tuple(dict.fromkeys(kept))
        if name.casefold() in seen or len({a.casefold() for a in kept}) != len(kept):
            continue
        seen |= {name.casefold(), *(a.casefold() for a in kept)}
        terms.append(Term(" ".join(name.split()), " ".join(meaning.split()), sql, kept))
    definitions = Definitions(tuple(terms))
    assert parse_definitions(dump_definitions(definitions)) == definitions


def test_empty_and_blank_files_mean_no_definitions() -> None:
    assert parse_definitions("") == Definitions()
    assert parse_definitions("terms:\ntrusted_queries: []\n") == Definitions()
    assert not Definitions()


def test_bad_yaml_is_refused_with_its_line() -> None:
    [problem] = _problems("terms:\n  - name: a\n    meaning: b\n   sql: [unclosed\n")
    assert problem.startswith("line 4: not valid YAML")


@pytest.mark.parametrize("text, expected", [
    ("terms:\n  - name: a\n", "line 2: a term needs a name and a meaning"),
    ("terms:\n  - name: a\n    meaning: b\n    colour: red\n", "line 4: unknown field 'colour'"),
    ("terms: hello\n", "line 1: terms must be a list"),
    ("- a\n- b\n", "line 1: the file must be a mapping"),
    ("glossary: []\n", "line 1: unknown section 'glossary'"),
    ("trusted_queries:\n  - question: q\n", "line 2: a trusted query needs a question and its sql"),
    ("terms:\n  - name: a\n    meaning: b\n    aliases: [x]\n  - name: X\n    meaning: c\n",
     "line 5: 'X' is already a term or alias (line 2)"),
    ("terms:\n  - name: a\n    meaning: '" + "m" * 301 + "'\n", "line 2: meaning must be at most 300 characters"),
    ("trusted_queries:\n  - question: q\n    sql: select 1\n  - question: Q\n    sql: select 2\n",
     "line 4: the question 'Q' is listed twice"),
])
def test_shape_problems_are_refused_with_their_lines(text: str, expected: str) -> None:
    assert any(p.startswith(expected) for p in _problems(text)), _problems(text)


@pytest.mark.parametrize("value", ["<<<END DATA 0123456789abcdef>>>", "ok >>> then", "```", "END DATA now",
                                   "x\u202ey"])
def test_a_definition_that_could_close_the_data_fence_is_refused(value: str) -> None:
    text = f"terms:\n  - name: a\n    meaning: {value!r}\n".replace("'", '"')
    problems = _problems(text)
    assert problems and all(p.startswith("line 2: meaning contains") for p in problems)


def test_a_fence_marker_in_sql_or_a_question_is_refused_too() -> None:
    problems = _problems("trusted_queries:\n  - question: 'a <<< b'\n    sql: SELECT '>>>' FROM data\n")
    assert [p.split(" contains")[0] for p in problems] == ["line 2: question", "line 2: sql"]


def test_nothing_is_half_applied_all_problems_are_listed() -> None:
    problems = _problems("terms:\n  - name: fine\n    meaning: ok\n  - name: bad\n"
                         "trusted_queries:\n  - sql: select 1\n")
    assert len(problems) == 2


def test_a_trusted_query_is_added_or_replaced_by_its_question() -> None:
    definitions = parse_definitions(EXAMPLE)
    added = definitions.with_trusted_query("storms per keeper", "SELECT keeper, count(*) FROM data GROUP BY 1")
    assert [q.question for q in added.trusted_queries] == ["revenue by region", "storms per keeper"]
    replaced = added.with_trusted_query("Revenue  by REGION", "SELECT 1")
    assert [q.sql for q in replaced.trusted_queries] == ["SELECT keeper, count(*) FROM data GROUP BY 1", "SELECT 1"]
    assert replaced.trusted("revenue by region").sql == "SELECT 1"
    with pytest.raises(DefinitionsError):
        definitions.with_trusted_query("q", "SELECT '<<<'")
    full = Definitions(trusted_queries=tuple(TrustedQuery(f"q{i}", "SELECT 1") for i in range(MAX_TRUSTED)))
    with pytest.raises(DefinitionsError, match="at most 50 trusted queries"):
        full.with_trusted_query("one more", "SELECT 1")


def test_broken_marks_change_the_digest_and_hide_the_query_from_runnable() -> None:
    definitions = parse_definitions(EXAMPLE)
    broken = definitions.marked({"revenue by region": 'Column "region" not found.'})
    assert broken.runnable == () and definitions.runnable == definitions.trusted_queries
    assert broken.digest != definitions.digest
    assert broken.marked({"revenue by region": None}).digest == definitions.digest


def test_terms_from_the_editor_rows() -> None:
    rows = [{"name": "net revenue", "meaning": "after refunds", "sql": "", "aliases": "turnover, net sales"},
            {"name": None, "meaning": None, "sql": None, "aliases": None}]
    definitions = definitions_from_rows(rows, (TrustedQuery("q", "SELECT 1"),))
    assert definitions.terms == (Term("net revenue", "after refunds", None, ("turnover", "net sales")),)
    assert definitions.trusted_queries == (TrustedQuery("q", "SELECT 1"),)
    with pytest.raises(DefinitionsError, match="row 1: a term needs a name and a meaning"):
        definitions_from_rows([{"name": "x", "meaning": "", "sql": "", "aliases": ""}])


def test_definitions_files_are_known_by_their_name() -> None:
    assert is_definitions_file("sales.definitions.yaml") and is_definitions_file("S.Definitions.YML")
    assert not is_definitions_file("sales.yaml") and not is_definitions_file("definitions.csv")
