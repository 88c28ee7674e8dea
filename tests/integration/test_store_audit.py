"""The audit trail (livechat.store.audit) on both engines: appended, filtered, exported."""

from __future__ import annotations

import csv
import io

from livechat.store.audit import AuditEvent, EventKind, append_event, events_csv, read_events


def test_events_come_back_in_time_order_and_filter_by_analyst_kind_and_time(conversation_store):
    store = conversation_store
    append_event(store, AuditEvent(EventKind.SIGN_IN, "ana@example.org", at=100.0))
    append_event(store, AuditEvent(EventKind.CALL_END, "ana@example.org", {"minutes": 1.5, "tokens": 900}, at=200.0))
    append_event(store, AuditEvent(EventKind.CALL_END, "bo@example.org", {"minutes": 0.5}, at=150.0))

    everything = read_events(store)
    assert [(e.at, e.analyst, e.kind) for e in everything] == [
        (100.0, "ana@example.org", "sign_in"), (150.0, "bo@example.org", "call_end"),
        (200.0, "ana@example.org", "call_end")]
    assert everything[2].details == {"minutes": 1.5, "tokens": 900}
    assert [e.at for e in read_events(store, analyst="ana@example.org")] == [100.0, 200.0]
    assert [e.at for e in read_events(store, kinds=[EventKind.CALL_END])] == [150.0, 200.0]
    assert [e.at for e in read_events(store, since=150.0, until=200.0)] == [150.0]


def test_an_event_without_a_time_takes_the_clock(conversation_store):
    append_event(conversation_store, AuditEvent(EventKind.DELETION, "local"), clock=lambda: 1234.5)
    assert [e.at for e in read_events(conversation_store)] == [1234.5]


def test_the_csv_export_has_one_row_per_event_with_utc_time_and_json_details():
    text = events_csv([AuditEvent(EventKind.TOOL_CALL, "ana@example.org", {"name": "run_sql", "rows": 3}, at=0.5),
                       AuditEvent(EventKind.REPORT_DOWNLOAD, "bo@example.org", at=86400.0)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["time_utc", "analyst", "kind", "details"],
                    ["1970-01-01T00:00:00Z", "ana@example.org", "tool_call", '{"name": "run_sql", "rows": 3}'],
                    ["1970-01-02T00:00:00Z", "bo@example.org", "report_download", "{}"]]
