"""The store's tables (SQLAlchemy Core). Changes go through a new Alembic revision.

- ``conversations``: one row per conversation (owner ``local`` until sign-in exists).
- ``record_entries``: the record, one JSON entry per row in transcript order.
- ``conversation_tables``: the conversation's table set, one row per table, naming the
  table's blob by ``table_key`` (no foreign key: a blob that is missing is reported by
  name and the rest of the conversation opens).
- ``table_blobs`` / ``blob_chunks``: each loaded table once, as Arrow IPC (Parquet before) in chunks (one
  engine holds everything; no row near a driver's size limit).
- ``set_extras``: JSON values other features keep per table set (definitions, trusted
  queries), keyed by ``(set_key, name)``.
- ``audit_events``: the append-only audit trail (``livechat.store.audit``).
- ``usage_daily`` / ``usage_open_calls``: budgets' counts (``livechat.usage.ledger``): what
  each analyst used per UTC day, and the voice calls open now (a heartbeat each).

Times are UTC epoch seconds (floats): the same on both engines and trivial to compare.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "audit_events",
    "blob_chunks",
    "conversation_tables",
    "conversations",
    "metadata",
    "record_entries",
    "set_extras",
    "table_blobs",
    "usage_daily",
    "usage_open_calls",
]

# Constraint names fixed, so migrations (and SQLite's batch mode) can address them.
metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(320), nullable=False, server_default="local"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False, index=True),
    sa.Column("title", sa.String(500), nullable=False, server_default=""),
    sa.Column("questions", sa.Integer, nullable=False, server_default="0"),
    sa.Column("totals", sa.JSON, nullable=True),
)

record_entries = sa.Table(
    "record_entries", metadata,
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("body", sa.JSON, nullable=False),
)

conversation_tables = sa.Table(
    "conversation_tables", metadata,
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("table_key", sa.String(64), nullable=False, index=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("sql_name", sa.String(200), nullable=True),
    sa.Column("ticked", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("shown", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("sheet", sa.String(500), nullable=True),
    sa.Column("header_row", sa.Integer, nullable=True),
    sa.Column("encoding", sa.String(64), nullable=True),
)

table_blobs = sa.Table(
    "table_blobs", metadata,
    sa.Column("table_key", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("chunks", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

blob_chunks = sa.Table(
    "blob_chunks", metadata,
    sa.Column("table_key", sa.String(64), sa.ForeignKey("table_blobs.table_key", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

set_extras = sa.Table(
    "set_extras", metadata,
    sa.Column("set_key", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Append-only: who did what (sign-in, calls, tool calls, downloads, deletions, refusals).
# Rows are only ever inserted; ``details`` holds the event's own fields as JSON.
audit_events = sa.Table(
    "audit_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("analyst", sa.String(320), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)

# Budgets (livechat.usage.ledger): one row per analyst per UTC day, added to in place
# (``x = x + delta``: atomic on both engines, so replicas never lose each other's counts).
usage_daily = sa.Table(
    "usage_daily", metadata,
    sa.Column("analyst", sa.String(320), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True, index=True),  # YYYY-MM-DD, UTC
    sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("tool_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Voice calls open now, on any replica: a row per call, its heartbeat moved on while the
# call lives, deleted when it ends. A row whose heartbeat stopped (a replica died) stops
# counting after the ledger's expiry.
usage_open_calls = sa.Table(
    "usage_open_calls", metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("analyst", sa.String(320), nullable=False, index=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
)
