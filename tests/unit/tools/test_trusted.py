"""Trusted queries as a tool: SQL checked against the tables in the sandbox (refused with
the line, or marked broken after a table edit), declared only when some exist, and run
through the same ToolBox with the question named in the result."""

from __future__ import annotations

import pandas as pd
import pytest

from livechat.summary.definitions import Definitions, DefinitionsError, parse_definitions
from livechat.tools.declarations import TOOL_BEHAVIOR, live_tools
from livechat.tools.toolbox import ToolBox
from livechat.tools.trusted import TRUSTED_TOOL, TrustedQueryRunner, check_definitions, mark_broken

SALES = pd.DataFrame({"region": ["North", "South", "North", "East"], "revenue": [10.0, 20.0, 5.0, 7.5],
                      "refunds": [1.0, 0.0, 0.5, 0.0]})
YAML = """terms:
  - name: net revenue
    meaning: revenue after refunds
    sql: sum(revenue) - sum(refunds)
  - name: big sale
    meaning: a sale over 9
    sql: revenue > 9
trusted_queries:
  - question: revenue by region
    sql: SELECT region, sum(revenue) AS revenue FROM data GROUP BY 1 ORDER BY 2 DESC, 1
"""


def test_sql_that_binds_is_accepted_and_marked_runnable() -> None:
    checked = check_definitions(parse_definitions(YAML), SALES)
    assert [q.broken for q in checked.trusted_queries] == [None]


@pytest.mark.parametrize("old, new, line, words", [
    ("sum(refunds)", "sum(refundz)", 2, ["'net revenue'", 'Column "refundz" not found', "refunds"]),
    ("revenue > 9", "revenue >", 5, ["'big sale'", "syntax error"]),
    ("FROM data GROUP", "FROM sales GROUP", 9, ["'revenue by region'", "sales"]),
    ("SELECT region,", "DELETE FROM data; SELECT region,", 9, ["Only one SELECT"]),
])
def test_sql_that_does_not_run_is_refused_with_its_line(old: str, new: str, line: int, words: list[str]) -> None:
    with pytest.raises(DefinitionsError) as caught:
        check_definitions(parse_definitions(YAML.replace(old, new)), SALES)
    [problem] = caught.value.problems
    assert problem.line == line
    for word in words:
        assert word in problem.reason


def test_a_table_set_binds_against_any_of_its_tables() -> None:
    customers = pd.DataFrame({"region": ["North"], "manager": ["Ann"]})
    definitions = parse_definitions("terms:\n  - name: managers\n    meaning: how many\n"
                                    "    sql: count(DISTINCT manager)\ntrusted_queries:\n"
                                    "  - question: managers by region\n    sql: SELECT c.manager, sum(s.revenue) "
                                    "FROM sales s JOIN customers c USING (region) GROUP BY 1\n")
    check_definitions(definitions, {"sales": SALES, "customers": customers})
    with pytest.raises(DefinitionsError):
        check_definitions(definitions, SALES)


def test_a_table_edit_marks_a_trusted_query_broken_and_keeps_it() -> None:
    definitions = check_definitions(parse_definitions(YAML), SALES)
    edited = SALES.rename(columns={"region": "area"})
    marked = mark_broken(definitions, edited)
    [query] = marked.trusted_queries
    assert query.question == "revenue by region"
    assert query.broken is not None and 'Column "region" not found' in query.broken
    assert marked.terms == definitions.terms and marked.runnable == ()
    assert mark_broken(marked, SALES).runnable == definitions.trusted_queries


def test_run_trusted_query_is_declared_only_when_some_exist() -> None:
    def names(tools: list) -> list[str]:
        return [d.name for d in tools[0].function_declarations]

    assert TRUSTED_TOOL not in names(live_tools(SALES))
    declared = live_tools(SALES, trusted=("revenue by region",))
    assert names(declared)[-1] == TRUSTED_TOOL
    [declaration] = [d for d in declared[0].function_declarations if d.name == TRUSTED_TOOL]
    assert declaration.parameters.properties["name"].enum == ["revenue by region"]
    assert declaration.behavior == TOOL_BEHAVIOR["run_sql"]


def test_a_call_runs_the_trusted_sql_in_the_same_toolbox_and_names_the_question() -> None:
    definitions = check_definitions(parse_definitions(YAML), SALES)
    with ToolBox(SALES) as toolbox:
        runner = TrustedQueryRunner(toolbox, definitions)
        result = runner.execute(TRUSTED_TOOL, {"name": "Revenue by  region"})
        assert result["trusted_query"] == "revenue by region"
        assert result["sql"] == definitions.trusted_queries[0].sql
        assert result["rows"] == [["South", 20.0], ["North", 15.0], ["East", 7.5]]
        assert runner.execute("run_sql", {"query": "SELECT count(*) AS n FROM data"})["rows"] == [[4]]
        unknown = runner.execute(TRUSTED_TOOL, {"name": "profit"})
        assert unknown["error"].startswith("No trusted query is named 'profit'. Trusted questions: revenue by region")
        assert "needs a name" in runner.execute(TRUSTED_TOOL, {})["error"]
        broken = TrustedQueryRunner(toolbox, mark_broken(definitions, SALES.drop(columns=["region"])))
        assert "no longer runs" in broken.execute(TRUSTED_TOOL, {"name": "revenue by region"})["error"]


def test_no_sql_no_sandbox() -> None:
    # Terms without SQL need no check: nothing starts (and nothing can fail).
    plain = parse_definitions("terms:\n  - name: active\n    meaning: ordered lately\n")
    assert check_definitions(plain, SALES) == plain
    assert mark_broken(Definitions(), SALES) == Definitions()
