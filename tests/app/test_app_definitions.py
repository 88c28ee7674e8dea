"""The analyst's definitions in the app (AppTest): a ``.definitions.yaml`` uploaded beside
the data, what the model is then told, a refused file, first questions on the Talk page,
and the definitions coming back from the store with the same tables."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from livechat.summary.definitions_section import SECTION_LABEL
from livechat.summary.escape import FENCE_CLOSE
from livechat.ui import conversations
from tests.app.apptest_support import new_app
from tests.app.test_app_talk_tables import ORDERS_CSV, _parquet

SALES_CSV = "region,revenue,refunds,day\n".encode() + "".join(
    f"{('North', 'South', 'East')[i % 3]},{100 + 7 * i}.5,{i % 4},2024-{1 + i % 6:02d}-{1 + i:02d}\n"
    for i in range(12)).encode()
DEFINITIONS = b"""terms:
  - name: net revenue
    meaning: revenue after refunds
    sql: sum(revenue) - sum(refunds)
    aliases: [turnover, net sales]
trusted_queries:
  - question: revenue by region
    sql: SELECT region, sum(revenue) AS revenue FROM data GROUP BY 1 ORDER BY 2 DESC
"""
YAML_MIME = "application/x-yaml"


def _fresh(tag: str) -> bytes:
    """The sales table with one more row: tables of their own, so no definitions kept for
    them in the store by another test."""
    return SALES_CSV + f"{tag},1,0,2024-03-01\n".encode()


def _upload(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader[0].set_value(list(files)).run()
    assert not at.exception
    return at


def _instruction(at: AppTest) -> str:
    return next(c.value for c in at.code if c.value.startswith("You are Live Data Chat"))


def test_a_definitions_file_beside_the_data_reaches_the_instruction_and_vocabulary() -> None:
    at = _upload(new_app().run(), ("sales.csv", SALES_CSV, "text/csv"),
                 ("sales.definitions.yaml", DEFINITIONS, YAML_MIME))
    assert not at.error
    assert at.main.header[0].value == "sales.csv"  # one table: the YAML is not a table
    instruction = _instruction(at)
    fence_end = instruction.index(FENCE_CLOSE)
    section = instruction.index(SECTION_LABEL)
    assert section > fence_end  # after the data block, outside its fence
    after = instruction[fence_end:]
    assert "revenue after refunds" in after and "sum(revenue) - sum(refunds)" in after
    assert '"revenue by region"' in after
    vocabulary = next(c.value for c in at.code if "turnover" in c.value.split("\n"))
    assert vocabulary.split("\n")[:3] == ["net revenue", "turnover", "net sales"]


def test_a_refused_definitions_file_says_the_line_and_applies_nothing() -> None:
    bad = DEFINITIONS.replace(b"sum(refunds)", b"sum(refundz)")
    at = _upload(new_app().run(), ("sales.csv", _fresh("refused"), "text/csv"),
                 ("sales.definitions.yaml", bad, YAML_MIME))
    [error] = [e.value for e in at.error]
    assert error.startswith("sales.definitions.yaml not applied: line 2: the SQL of 'net revenue'")
    assert "refundz" in error
    assert SECTION_LABEL not in _instruction(at)  # not even the trusted query, which was fine


def test_first_questions_are_offered_before_the_first_question_only() -> None:
    at = _upload(new_app().run(), ("sales.csv", SALES_CSV, "text/csv"),
                 ("sales.definitions.yaml", DEFINITIONS, YAML_MIME))
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    buttons = [b for b in at.button if b.key and b.key.startswith("livechat.widget.first_question.")]
    assert 3 <= len(buttons) <= 5
    assert buttons[0].label == "What is the net revenue by region?"  # the defined term first


def test_definitions_return_with_the_same_tables_in_a_new_session() -> None:
    table = _fresh("kept")
    first = _upload(new_app().run(), ("sales.csv", table, "text/csv"),
                    ("sales.definitions.yaml", DEFINITIONS, YAML_MIME))
    assert SECTION_LABEL in _instruction(first)
    assert conversations.store_writer().flush(10.0)
    # Another browser session uploads the same table alone: its definitions come back.
    again = _upload(new_app().run(), ("sales.csv", table, "text/csv"))
    instruction = _instruction(again)
    assert "revenue after refunds" in instruction[instruction.index(SECTION_LABEL):]
    # And they are the set's own: other tables do not get them.
    other = _upload(new_app().run(), ("other.csv", b"a,b\n1,2\n3,4\n", "text/csv"))
    assert SECTION_LABEL not in _instruction(other)


def test_unticking_a_table_marks_a_trusted_query_broken_and_keeps_it() -> None:
    joined = (b"trusted_queries:\n  - question: total by region\n    sql: SELECT c.region, sum(o.amount) "
              b"FROM orders o JOIN customers c USING (customer_id) GROUP BY 1\n")
    orders = ORDERS_CSV + b"5,10,9.0\n"  # tables of this test's own
    at = _upload(new_app().run(), ("orders.csv", orders, "text/csv"),
                 ("customers.parquet", _parquet(), "application/octet-stream"),
                 ("shop.definitions.yaml", joined, YAML_MIME))
    assert not at.error and '"total by region"' in _instruction(at)
    assert not [w for w in at.warning if w.value.startswith("Broken")]
    at.checkbox(key=next(c.key for c in at.checkbox if c.key and c.key.endswith(".customers"))).uncheck().run()
    assert not at.exception
    [broken] = [w.value for w in at.warning if w.value.startswith("Broken")]
    assert "customers" in broken
    assert '"total by region"' not in _instruction(at)  # not offered to the model
    assert any(c.value.startswith("SELECT c.region") for c in at.code)  # but kept, shown on the page
    at.checkbox(key=next(c.key for c in at.checkbox if c.key and c.key.endswith(".customers"))).check().run()
    assert not [w for w in at.warning if w.value.startswith("Broken")]


def test_definitions_return_with_a_reopened_conversation() -> None:
    at = _upload(new_app().run(), ("sales.csv", _fresh("reload"), "text/csv"),
                 ("sales.definitions.yaml", DEFINITIONS, YAML_MIME))
    conversation = at.query_params[conversations.QUERY_PARAM]
    assert conversations.store_writer().flush(10.0)
    reloaded = new_app()
    reloaded.query_params[conversations.QUERY_PARAM] = conversation
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.main.header[0].value == "sales.csv"  # the tables came back from the store
    instruction = _instruction(reloaded)
    assert "revenue after refunds" in instruction[instruction.index(SECTION_LABEL):]
