"""The store: what outlives a page, a process or a replica (conversations, their tables).

SQLAlchemy Core over an embedded SQLite file by default, one PostgreSQL for several
replicas (``livechat.store.settings``). Plain data in and out: conversation rows, record
entries as JSON-ready dicts, tables as bytes (Arrow IPC) plus a JSON description, and
per-table-set ``extras`` for other features. Knows nothing of Streamlit, transcripts or
DataFrames (``livechat.conversation.saved`` and ``livechat.data.snapshot`` translate).

- ``settings``: where the store is (URL from secrets or environment, data directory,
  retention).
- ``engine``: the engine, SQLite pragmas on connect.
- ``migrate``: Alembic migrations shipped in ``migrations/``, run in process at start.
- ``schema``: the tables.
- ``repository``: ``ConversationStore``, every read and write as a method.
- ``writer``: ``StoreWriter``, the background writer (bounded queue, retry, flush).
- ``audit``: the append-only audit trail (events in, filtered events and CSV out).
"""

from livechat.store.repository import (
    ConversationRow,
    ConversationStore,
    MemberRow,
    SavedConversation,
    StoreError,
    TableBlob,
)
from livechat.store.settings import StoreSettings, resolve_store_settings
from livechat.store.writer import StoreStatus, StoreWriter

__all__ = [
    "ConversationRow",
    "ConversationStore",
    "MemberRow",
    "SavedConversation",
    "StoreError",
    "StoreSettings",
    "StoreStatus",
    "StoreWriter",
    "TableBlob",
    "resolve_store_settings",
]
