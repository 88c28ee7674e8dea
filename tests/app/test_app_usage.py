"""The admin's Usage section on Settings: per-analyst figures from the store, the deployment's
cap, the limits in force, and the audit trail as CSV; unusable limits said plainly."""

from __future__ import annotations

import csv
import io
import time

from livechat.store.audit import AuditEvent, EventKind, append_event
from livechat.ui import conversations
from livechat.usage.ledger import Delta, add_usage
from tests.app.apptest_support import new_app

ANALYST = "usage-test@example.org"


def _settings(limits: dict):
    at = new_app()
    at.secrets["limits"] = limits
    at.run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    return at


def test_the_usage_section_shows_analysts_the_cap_the_limits_and_exports_the_trail():
    writer = conversations.store_writer()
    now = time.time()
    writer.read(lambda store: add_usage(store, ANALYST, Delta(seconds=90.0, tokens=1234, calls=2), now=now), None)
    writer.read(lambda store: add_usage(store, ANALYST, Delta(seconds=60.0, tokens=100), now=now - 5 * 86400), None)
    writer.read(lambda store: append_event(store, AuditEvent(EventKind.CALL_END, ANALYST, {"minutes": 1.5})), None)

    at = _settings({"voice_minutes_per_day_total": 600, "max_call_minutes": 20})
    assert "Usage" in [h.value for h in at.header]
    (table,) = [d.value for d in at.dataframe if "analyst" in d.value.columns]
    row = table[table["analyst"] == ANALYST].iloc[0]
    assert row["minutes today"] == 1.5 and row["tokens today"] == 1234 and row["calls today"] == 2
    assert row["minutes (30 days)"] == 2.5 and row["tokens (30 days)"] == 1334
    texts = [p.proto.text for p in at.get("progress")]
    assert any("of 600 for the whole deployment" in t for t in texts), texts
    assert any("`max_call_minutes` = 20" in m.value for m in at.markdown)
    (button,) = [b for b in at.get("download_button") if "audit trail" in b.proto.label]
    # The CSV is built when pressed; the builder is the section's own.
    from livechat.ui.usage_view import _trail_csv

    rows = list(csv.reader(io.StringIO(_trail_csv(writer))))
    assert rows[0] == ["time_utc", "analyst", "kind", "details"]
    assert [ANALYST, "call_end"] in [r[1:3] for r in rows[1:]]


def test_unusable_limits_are_named_on_settings():
    at = _settings({"voice_minutes_per_day": "lots"})
    assert any("voice_minutes_per_day must be a number of minutes" in e.value for e in at.error)


def test_unusable_limits_keep_voice_off_on_the_talk_page_with_the_setting_named():
    at = new_app()
    at.secrets["limits"] = {"max_concurrent_calls": "two"}
    at.run()
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    assert any("max_concurrent_calls must be a whole number" in e.value for e in at.error)
