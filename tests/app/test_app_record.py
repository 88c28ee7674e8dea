"""The analyst's record on the Talk page (AppTest): each tool call shows its work, the
report downloads are offered, and the conversation outlives a page reload.

A reload is a new Streamlit session: AppTest models it as a new app with the URL's query
parameters, in the same server process (the record store is process-wide).
"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from livechat.store.audit import EventKind, read_events
from livechat.ui import conversations, record
from livechat.voice.bridge import VoiceBridge
from tests.app.apptest_support import new_app
from tests.app.test_app_talk import REPLY_TIMEOUT_S, _ask, _bridge, _messages, _rerun_until

STORM_SQL = "SELECT keeper, count(*) AS nights FROM data WHERE storm_night GROUP BY keeper ORDER BY nights DESC, keeper"


def _talk(bridges: list[VoiceBridge], query: dict[str, str] | None = None) -> AppTest:
    at = new_app()
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    bridges.append(_bridge(at))
    return at


def test_a_sql_call_shows_its_query_rows_and_time(bridges: list[VoiceBridge]) -> None:
    at = _talk(bridges)
    _ask(at, f"call run_sql {json.dumps({'query': STORM_SQL})}")
    _rerun_until(at, lambda a: any(e.label == "Tool: run\\_sql (done)" for e in a.expander), "the finished call")
    tool = next(e for e in at.expander if e.label == "Tool: run\\_sql (done)")
    assert tool.proto.expanded is False
    [code] = tool.code
    assert code.value == STORM_SQL and code.language == "sql"
    [table] = tool.table
    assert list(table.value.columns) == ["keeper", "nights"] and len(table.value) == 16
    caption = " ".join(c.value for c in tool.caption)
    assert "16 rows" in caption and "query took" in caption and " ms" in caption


def test_both_downloads_are_offered_once_the_report_is_prepared(bridges: list[VoiceBridge]) -> None:
    at = _talk(bridges)
    assert at.get("download_button") == []
    at.button(key="livechat.widget.talk.prepare_report").click().run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download report (Markdown + charts, .zip)", "Download report (HTML, opens offline)"]
    # A download is one audit row: who, which conversation, which format.
    at.get("download_button")[1].click().run()
    assert not at.exception and len(at.get("download_button")) == 2
    writer = conversations.store_writer()
    assert writer.flush(10.0)
    conversation = at.query_params[record.QUERY_PARAM]
    downloads = writer.read(lambda store: read_events(store, kinds=[EventKind.REPORT_DOWNLOAD]), [])
    assert [(e.analyst, dict(e.details)) for e in downloads if e.details.get("conversation") == conversation] \
        == [("local", {"conversation": conversation, "format": "html"})]
    _ask(at, "a question after the report")
    _rerun_until(at, lambda a: any("moved on since the report was prepared" in c.value for c in a.caption),
                 "the note that the prepared report is older than the conversation")


def test_the_conversation_survives_a_reload(bridges: list[VoiceBridge]) -> None:
    at = _talk(bridges)
    conversation = at.query_params[record.QUERY_PARAM]
    assert isinstance(conversation, str) and len(conversation) >= 16
    _ask(at, "remember this question")
    assert _bridge(at).wait_for_replies(1, REPLY_TIMEOUT_S)
    _rerun_until(at, lambda a: len(_messages(a)) >= 2, "the reply")
    before = _messages(at)

    reloaded = _talk(bridges, {record.QUERY_PARAM: conversation})
    assert _messages(reloaded)[: len(before)] == before
    assert any("Restored the conversation" in i.value for i in reloaded.info)
    assert reloaded.query_params[record.QUERY_PARAM] == conversation


def test_a_record_that_is_gone_is_said_not_silently_lost(bridges: list[VoiceBridge]) -> None:
    at = _talk(bridges, {record.QUERY_PARAM: "no-such-conversation-0000"})
    assert any(i.value.startswith("Conversation not found") for i in at.info)
    assert _messages(at) == []
    fresh = at.query_params[record.QUERY_PARAM]
    assert fresh != "no-such-conversation-0000" and len(fresh) >= 16
