"""The audit trail: an append-only record of who did what, kept in the store.

Sign-in and refusals, calls (start and end with minutes, tokens, model, end reason), tool
calls (name, SQL text, rows), report downloads, deletions and limit refusals are each one
row of ``audit_events``. Rows are inserted, never updated or deleted (retention sweeps
leave them alone), so every replica reads the same history and usage can be summed from
it. Details are plain JSON: never a key, a token or a table's content.

Functions take the ``ConversationStore`` the process's writer holds: writes go through
``StoreWriter.submit`` (off the page's thread), reads through ``StoreWriter.read``.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from livechat.store.repository import ConversationStore
from livechat.store.schema import audit_events

__all__ = ["AuditEvent", "EventKind", "append_event", "events_csv", "read_events"]


class EventKind(StrEnum):
    """What an audit row records (the ``kind`` column)."""

    SIGN_IN = "sign_in"
    SIGN_IN_REFUSED = "sign_in_refused"
    SIGN_OUT = "sign_out"
    CALL_START = "call_start"
    CALL_END = "call_end"
    TOOL_CALL = "tool_call"
    REPORT_DOWNLOAD = "report_download"
    DELETION = "deletion"
    LIMIT_REFUSED = "limit_refused"


@dataclass(frozen=True)
class AuditEvent:
    """One row of the trail."""

    kind: str
    analyst: str
    details: Mapping[str, Any] = field(default_factory=dict)
    at: float = 0.0  # UTC epoch seconds; 0 means "now" when appended


def append_event(store: ConversationStore, event: AuditEvent, *, clock=time.time) -> None:
    """Insert ``event`` (its time is the store clock's now when ``event.at`` is 0).

    Raises StoreError when the database fails."""
    with store.transaction() as connection:
        connection.execute(audit_events.insert().values(
            at=event.at or clock(), analyst=event.analyst[:320], kind=str(event.kind)[:40],
            details=dict(event.details)))


def read_events(store: ConversationStore, *, since: float | None = None, until: float | None = None,
                analyst: str | None = None, kinds: Iterable[str] | None = None,
                limit: int | None = None) -> list[AuditEvent]:
    """Events in time order, filtered by time range ``[since, until)``, analyst and kinds.

    Raises StoreError when the database fails."""
    query = sa.select(audit_events).order_by(audit_events.c.at, audit_events.c.id)
    if since is not None:
        query = query.where(audit_events.c.at >= since)
    if until is not None:
        query = query.where(audit_events.c.at < until)
    if analyst is not None:
        query = query.where(audit_events.c.analyst == analyst)
    if kinds is not None:
        query = query.where(audit_events.c.kind.in_([str(kind) for kind in kinds]))
    if limit is not None:
        query = query.limit(limit)
    with store.transaction() as connection:
        rows = connection.execute(query).mappings().all()
    return [AuditEvent(kind=row["kind"], analyst=row["analyst"], details=row["details"] or {}, at=row["at"])
            for row in rows]


def events_csv(events: Sequence[AuditEvent]) -> str:
    """The events as CSV (UTC ISO time, analyst, kind, details as JSON) for an admin's export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time_utc", "analyst", "kind", "details"])
    for event in events:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event.at))
        writer.writerow([stamp, event.analyst, event.kind, json.dumps(dict(event.details), sort_keys=True)])
    return buffer.getvalue()
