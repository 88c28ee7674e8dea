"""Budgets' counts in the store: what each analyst used per UTC day, and the calls open now.

Why counters and not sums over the audit trail: the check before every mint must be
cheap whatever the history's length (one primary-key row per analyst and day, and one
small sum for the deployment), and the counts must be right across replicas and
restarts. Each write adds a delta in place (``INSERT ... ON CONFLICT DO UPDATE SET
x = x + delta``), which both engines apply atomically, so two replicas adding at once
never lose either's count; a restarted process reads what the database holds.

Open voice calls are rows with a heartbeat (``seen_at``): a call moves its heartbeat on
while it lives and deletes its row when it ends; a row not seen for ``EXPIRY_S`` (its
replica died) no longer counts and is deleted by the next ``open_call``.

Functions take the ``ConversationStore`` the process's writer holds (writes through
``StoreWriter.submit``, reads through ``StoreWriter.read``) and raise ``StoreError``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from livechat.store.repository import ConversationStore
from livechat.store.schema import usage_daily, usage_open_calls
from livechat.usage.decide import Figures, Standing, day_of

__all__ = ["EXPIRY_S", "HEARTBEAT_S", "Delta", "DayRow", "add_usage", "close_call", "daily_rows",
           "open_call", "read_standing"]

HEARTBEAT_S = 15.0  # how often a live call writes its time and reads the others' figures
EXPIRY_S = 4 * HEARTBEAT_S  # an open call unseen this long belongs to a replica that died


@dataclass(frozen=True)
class Delta:
    """What to add to one analyst's day."""

    seconds: float = 0.0
    tokens: int = 0
    tool_calls: int = 0
    calls: int = 0

    @property
    def empty(self) -> bool:
        return not (self.seconds or self.tokens or self.tool_calls or self.calls)

    def __add__(self, other: Delta) -> Delta:
        return Delta(self.seconds + other.seconds, self.tokens + other.tokens,
                     self.tool_calls + other.tool_calls, self.calls + other.calls)


@dataclass(frozen=True)
class DayRow:
    """One analyst's figures on one UTC day (the Usage section's rows)."""

    analyst: str
    day: str
    figures: Figures


def _upsert(connection: Connection, values: dict[str, object], added: dict[str, object]) -> None:
    name = connection.dialect.name
    if name in ("sqlite", "postgresql"):
        insert = (sqlite.insert if name == "sqlite" else postgresql.insert)(usage_daily).values(**values)
        sets = {column: usage_daily.c[column] + insert.excluded[column] for column in added}
        sets["updated_at"] = insert.excluded.updated_at
        connection.execute(insert.on_conflict_do_update(index_elements=["analyst", "day"], set_=sets))
        return
    # Another engine: update, else insert (correct for one writer at a time).
    key = (usage_daily.c.analyst == values["analyst"]) & (usage_daily.c.day == values["day"])
    sets = {column: usage_daily.c[column] + amount for column, amount in added.items()}
    updated = connection.execute(usage_daily.update().where(key).values(updated_at=values["updated_at"], **sets))
    if updated.rowcount == 0:
        connection.execute(usage_daily.insert().values(**values))


def add_usage(store: ConversationStore, analyst: str, delta: Delta, *, now: float) -> None:
    """Add ``delta`` to ``analyst``'s figures for the UTC day of ``now``."""
    if delta.empty:
        return
    added = {"seconds": float(delta.seconds), "tokens": int(delta.tokens), "tool_calls": int(delta.tool_calls),
             "calls": int(delta.calls)}
    with store.transaction() as connection:
        _upsert(connection, {"analyst": analyst[:320], "day": day_of(now), "updated_at": now, **added}, added)


def open_call(store: ConversationStore, call_id: str, analyst: str, *, now: float) -> None:
    """Mark the voice call ``call_id`` open now (insert, or move its heartbeat on)."""
    with store.transaction() as connection:
        moved = connection.execute(usage_open_calls.update().where(usage_open_calls.c.call_id == call_id)
                                   .values(seen_at=now)).rowcount
        if not moved:
            connection.execute(usage_open_calls.delete().where(usage_open_calls.c.seen_at < now - EXPIRY_S))
            connection.execute(usage_open_calls.insert().values(call_id=call_id, analyst=analyst[:320],
                                                                started_at=now, seen_at=now))


def close_call(store: ConversationStore, call_id: str) -> None:
    """The call ended: it no longer counts as open."""
    with store.transaction() as connection:
        connection.execute(usage_open_calls.delete().where(usage_open_calls.c.call_id == call_id))


def read_standing(store: ConversationStore, analyst: str, *, now: float, exclude_call: str | None = None,
                  expiry_s: float = EXPIRY_S) -> Standing:
    """The analyst's figures today, the deployment's voice seconds today, and the analyst's
    open voice calls (heartbeat within ``expiry_s``) other than ``exclude_call``."""
    day = day_of(now)
    calls = sa.select(sa.func.count()).select_from(usage_open_calls).where(
        usage_open_calls.c.analyst == analyst, usage_open_calls.c.seen_at >= now - expiry_s)
    if exclude_call is not None:
        calls = calls.where(usage_open_calls.c.call_id != exclude_call)
    with store.transaction() as connection:
        row = connection.execute(sa.select(usage_daily).where(
            usage_daily.c.analyst == analyst, usage_daily.c.day == day)).mappings().first()
        total = connection.execute(sa.select(sa.func.coalesce(sa.func.sum(usage_daily.c.seconds), 0.0))
                                   .where(usage_daily.c.day == day)).scalar_one()
        open_now = connection.execute(calls).scalar_one()
    return Standing(analyst=_figures(row), deployment_seconds=float(total), open_calls=int(open_now))


def daily_rows(store: ConversationStore, *, since: float, now: float) -> list[DayRow]:
    """Every analyst's figures per day from the UTC day of ``since`` to today, oldest first."""
    first = day_of(since)
    with store.transaction() as connection:
        rows = connection.execute(sa.select(usage_daily).where(usage_daily.c.day >= first,
                                                               usage_daily.c.day <= day_of(now))
                                  .order_by(usage_daily.c.day, usage_daily.c.analyst)).mappings().all()
    return [DayRow(row["analyst"], row["day"], _figures(row)) for row in rows]


def days_ago(now: float, days: int) -> float:
    """The start of the UTC day ``days`` before ``now``'s day (a report's window)."""
    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    return dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), dt.timezone.utc).timestamp()


def _figures(row) -> Figures:
    if row is None:
        return Figures()
    return Figures(seconds=float(row["seconds"]), tokens=int(row["tokens"]), tool_calls=int(row["tool_calls"]),
                   calls=int(row["calls"]))
