"""Every read and write of the store, as methods of ``ConversationStore`` (plain data).

Writes run on the background writer's thread (``livechat.store.writer``), reads on page
runs; every method opens its own connection in a ``with`` and commits or rolls back
there, so nothing is left open between calls. Database errors come out as
``StoreError`` with a reason an analyst can read ("database is locked", "could not
connect to server"); the original exception is chained for the log.

The record is written as a diff: the store remembers (per conversation, in this
process) every entry it wrote, and rewrites only entries that changed (a message still
being transcribed, a tool call that finished) or are new. A turn adds a few small rows,
whatever the length of the conversation. Callers hand over entry dicts they never change
afterwards (``livechat.conversation.saved.RecordSnapshots`` reuses the dict of an
unchanged entry), so most comparisons are identity checks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from livechat.store import migrate
from livechat.store.engine import make_engine
from livechat.store.schema import (
    blob_chunks,
    conversation_tables,
    conversations,
    record_entries,
    set_extras,
    table_blobs,
)

__all__ = [
    "CHUNK_BYTES",
    "BlobMissingError",
    "ConversationRow",
    "ConversationStore",
    "MemberRow",
    "SavedConversation",
    "StoreError",
    "TableBlob",
]

logger = logging.getLogger(__name__)

CHUNK_BYTES = 4 * 1024 * 1024  # well under SQLite's and bytea's limits; few rows per table
LOCAL_OWNER = "local"  # the owner without sign-in (livechat.access.LOCAL_ANALYST's id)
# A blob no conversation names yet may be one a replica is about to name: sweeps leave
# such blobs alone for this long.
ORPHAN_GRACE_S = 3600.0


class StoreError(RuntimeError):
    """The store could not do what was asked; ``reason`` is short and readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BlobMissingError(StoreError):
    """A table's stored copy is missing or incomplete."""


@dataclass(frozen=True)
class ConversationRow:
    """One conversation as the list shows it."""

    id: str
    owner: str
    created_at: float
    updated_at: float
    title: str
    questions: int


@dataclass(frozen=True)
class MemberRow:
    """One table of a conversation's set: which blob, its SQL name, tick and load choices."""

    table_key: str
    digest: str
    source: str
    sql_name: str | None = None  # None: a single table (no set)
    ticked: bool = True
    shown: bool = False  # the table the Data page shows
    sheet: str | None = None
    header_row: int | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class SavedConversation:
    """A conversation read back: its row, record entries (dicts), totals and tables."""

    row: ConversationRow
    entries: list[dict[str, Any]]
    totals: dict[str, Any]
    members: list[MemberRow] = field(default_factory=list)


@dataclass(frozen=True)
class TableBlob:
    """One stored table: its bytes (``livechat.data.snapshot``) and the JSON description saved with them."""

    table_key: str
    digest: str
    meta: dict[str, Any]
    data: bytes | bytearray


def _reason(exc: BaseException) -> str:
    """The first line of a driver's message, without SQLAlchemy's statement dump."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return (text[0] if text else type(original).__name__)[:300]


class ConversationStore:
    """The store's reads and writes over one engine (thread-safe)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time,
                 chunk_bytes: int = CHUNK_BYTES) -> None:
        self.engine = engine
        self._clock = clock
        self._chunk = chunk_bytes
        self._written: dict[str, list[Mapping[str, Any]]] = {}  # conversation -> entries written
        self._lock = threading.Lock()
        # The in-process database (retention 0) is one connection shared by every thread:
        # one transaction at a time, or two threads would interleave their statements.
        shared = engine.dialect.name == "sqlite" and (engine.url.database or ":memory:") == ":memory:"
        self._serial: threading.RLock | None = threading.RLock() if shared else None

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> ConversationStore:
        """Connect to ``url``, migrate it to this release's schema, and check it.

        Raises StoreError (unreachable, or a schema this release does not know)."""
        try:
            engine = make_engine(url)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            raise StoreError(_reason(exc)) from exc
        try:
            migrate.upgrade(engine)
            migrate.verify(engine)
        except (SQLAlchemyError, OSError) as exc:
            engine.dispose()
            raise StoreError(_reason(exc)) from exc
        except migrate.SchemaMismatchError as exc:
            engine.dispose()
            raise StoreError(str(exc)) from exc
        return cls(engine, **kwargs)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self._serial if self._serial is not None else nullcontext():
            try:
                with self.engine.begin() as connection:
                    yield connection
            except SQLAlchemyError as exc:
                raise StoreError(_reason(exc)) from exc

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction on the store's engine, for modules that own other tables (audit).

        Raises StoreError when the database fails."""
        return self._begin()

    def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        with self._begin() as connection:
            connection.execute(sa.select(1))

    # ------------------------------------------------------------------ conversations

    def _touch(self, connection: Connection, conversation_id: str, owner: str, values: dict[str, Any]) -> None:
        """Update the row, or create it for ``owner`` (a conversation's owner never changes)."""
        now = self._clock()
        updated = connection.execute(conversations.update().where(conversations.c.id == conversation_id)
                                     .values(updated_at=now, **values))
        if updated.rowcount == 0:
            connection.execute(conversations.insert().values(
                id=conversation_id, owner=owner, created_at=now, updated_at=now, **values))

    def save_record(self, conversation_id: str, *, title: str, questions: int, totals: Mapping[str, Any],
                    entries: Sequence[Mapping[str, Any]], owner: str = LOCAL_OWNER) -> int:
        """Keep the conversation's row (created for ``owner``) and record; return how many
        entry rows were written."""
        entries = list(entries)
        with self._lock:
            before = self._written.get(conversation_id)
        try:
            with self._begin() as connection:
                self._touch(connection, conversation_id, owner,
                            {"title": title[:500], "questions": int(questions), "totals": dict(totals)})
                if before is None:  # first write from this process: replace whatever is there
                    connection.execute(record_entries.delete().where(
                        record_entries.c.conversation_id == conversation_id))
                    changed = list(range(len(entries)))
                else:
                    changed = [i for i, e in enumerate(entries)
                               if i >= len(before) or (before[i] is not e and before[i] != e)]
                    stale = [i for i in changed if i < len(before)]
                    if len(before) > len(entries):
                        stale.extend(range(len(entries), len(before)))
                    if stale:
                        connection.execute(record_entries.delete().where(
                            record_entries.c.conversation_id == conversation_id,
                            record_entries.c.position.in_(stale)))
                if changed:
                    connection.execute(record_entries.insert(), [
                        {"conversation_id": conversation_id, "position": i, "body": dict(entries[i])}
                        for i in changed])
        except BaseException:
            with self._lock:  # unknown what was written: the next save rewrites everything
                self._written.pop(conversation_id, None)
            raise
        with self._lock:
            self._written[conversation_id] = entries
        return len(changed)

    def save_members(self, conversation_id: str, members: Sequence[MemberRow], *, title: str,
                     owner: str = LOCAL_OWNER) -> None:
        """Keep the conversation's table set (replaces the previous one); a new conversation
        is created for ``owner``."""
        with self._begin() as connection:
            self._touch(connection, conversation_id, owner, {"title": title[:500]})
            connection.execute(conversation_tables.delete().where(
                conversation_tables.c.conversation_id == conversation_id))
            if members:
                connection.execute(conversation_tables.insert(), [
                    {"conversation_id": conversation_id, "position": i, "table_key": m.table_key,
                     "digest": m.digest, "sql_name": m.sql_name, "ticked": m.ticked, "shown": m.shown,
                     "source": m.source[:500], "sheet": m.sheet, "header_row": m.header_row,
                     "encoding": m.encoding}
                    for i, m in enumerate(members)])

    def list_conversations(self, *, owner: str = LOCAL_OWNER, limit: int = 50) -> list[ConversationRow]:
        """The owner's conversations, most recently updated first."""
        query = (sa.select(conversations).where(conversations.c.owner == owner)
                 .order_by(conversations.c.updated_at.desc()).limit(limit))
        with self._begin() as connection:
            return [_row(r) for r in connection.execute(query).mappings()]

    def load(self, conversation_id: str, *, owner: str | None = None) -> SavedConversation | None:
        """The conversation under ``conversation_id``, or None when there is none; with
        ``owner``, also None when it is someone else's (the caller cannot tell the two apart)."""
        query = sa.select(conversations).where(conversations.c.id == conversation_id)
        if owner is not None:
            query = query.where(conversations.c.owner == owner)
        with self._begin() as connection:
            found = connection.execute(query).mappings().first()
            if found is None:
                return None
            entries = [dict(r.body) for r in connection.execute(
                sa.select(record_entries.c.body).where(record_entries.c.conversation_id == conversation_id)
                .order_by(record_entries.c.position))]
            members = [MemberRow(table_key=r.table_key, digest=r.digest, source=r.source, sql_name=r.sql_name,
                                 ticked=bool(r.ticked), shown=bool(r.shown), sheet=r.sheet,
                                 header_row=r.header_row, encoding=r.encoding)
                       for r in connection.execute(
                           sa.select(conversation_tables).where(
                               conversation_tables.c.conversation_id == conversation_id)
                           .order_by(conversation_tables.c.position))]
        return SavedConversation(_row(found), entries, dict(found["totals"] or {}), members)

    def delete_conversation(self, conversation_id: str, *, owner: str | None = None) -> bool:
        """Remove the conversation, its record and set, and its tables no other one uses.

        With ``owner``, only that owner's conversation goes; returns False when nothing of
        that id (and owner) was there."""
        with self._begin() as connection:
            which = conversations.c.id == conversation_id
            if owner is not None:
                which = sa.and_(which, conversations.c.owner == owner)
            if connection.execute(sa.select(conversations.c.id).where(which)).first() is None:
                return False
            keys = [r.table_key for r in connection.execute(
                sa.select(conversation_tables.c.table_key).where(
                    conversation_tables.c.conversation_id == conversation_id))]
            # Children first: correct with or without ON DELETE CASCADE being enforced.
            connection.execute(record_entries.delete().where(record_entries.c.conversation_id == conversation_id))
            connection.execute(conversation_tables.delete().where(
                conversation_tables.c.conversation_id == conversation_id))
            connection.execute(conversations.delete().where(conversations.c.id == conversation_id))
            if keys:
                self._delete_unreferenced(connection, sa.and_(table_blobs.c.table_key.in_(keys)))
        with self._lock:
            self._written.pop(conversation_id, None)
        return True

    def sweep(self, *, keep_s: float) -> int:
        """Delete conversations untouched for ``keep_s`` seconds and the tables only they
        used; return how many conversations went."""
        now = self._clock()
        with self._begin() as connection:
            old = [r.id for r in connection.execute(
                sa.select(conversations.c.id).where(conversations.c.updated_at < now - keep_s))]
            for chunk in _chunks(old, 500):
                connection.execute(record_entries.delete().where(record_entries.c.conversation_id.in_(chunk)))
                connection.execute(conversation_tables.delete().where(
                    conversation_tables.c.conversation_id.in_(chunk)))
                connection.execute(conversations.delete().where(conversations.c.id.in_(chunk)))
            self._delete_unreferenced(connection, table_blobs.c.created_at < now - min(keep_s, ORPHAN_GRACE_S))
        with self._lock:
            for conversation_id in old:
                self._written.pop(conversation_id, None)
        if old:
            logger.info("Store sweep: %d conversation(s) older than %.0f days deleted", len(old), keep_s / 86400)
        return len(old)

    @staticmethod
    def _delete_unreferenced(connection: Connection, which: Any) -> None:
        used = sa.select(conversation_tables.c.table_key)
        doomed = sa.select(table_blobs.c.table_key).where(which, table_blobs.c.table_key.not_in(used))
        keys = [r.table_key for r in connection.execute(doomed)]
        for chunk in _chunks(keys, 500):
            connection.execute(blob_chunks.delete().where(blob_chunks.c.table_key.in_(chunk)))
            connection.execute(table_blobs.delete().where(table_blobs.c.table_key.in_(chunk)))

    # ------------------------------------------------------------------ tables

    def has_blob(self, table_key: str) -> bool:
        """True when the table is stored (complete: its row is written with its chunks)."""
        with self._begin() as connection:
            return connection.execute(sa.select(table_blobs.c.table_key).where(
                table_blobs.c.table_key == table_key)).first() is not None

    def put_blob(self, table_key: str, digest: str, meta: Mapping[str, Any],
                 data: bytes | bytearray | memoryview) -> None:
        """Store a table's bytes in chunks, in one transaction (a no-op if stored)."""
        view = memoryview(data).cast("B")
        starts = range(0, len(view), self._chunk) or range(1)  # an empty table: one empty chunk
        with self._begin() as connection:
            if connection.execute(sa.select(table_blobs.c.table_key).where(
                    table_blobs.c.table_key == table_key)).first() is not None:
                return
            connection.execute(table_blobs.insert().values(
                table_key=table_key, digest=digest, meta=dict(meta), size=len(view), chunks=len(starts),
                created_at=self._clock()))
            # One row at a time, each chunk copied as it goes: never a second copy of the table.
            for seq, start in enumerate(starts):
                connection.execute(blob_chunks.insert().values(
                    table_key=table_key, seq=seq, data=bytes(view[start:start + self._chunk])))

    def get_blob(self, table_key: str) -> TableBlob:
        """A stored table; raises BlobMissingError when it is gone or incomplete."""
        with self._begin() as connection:
            row = connection.execute(sa.select(table_blobs).where(table_blobs.c.table_key == table_key)
                                     ).mappings().first()
            if row is None:
                raise BlobMissingError("its stored copy is missing")
            data, chunks, size = _read_chunks(connection, table_key, int(row["size"]))
        if size > row["size"]:
            raise BlobMissingError(f"its stored copy is damaged ({size:,} bytes where {row['size']:,} were saved)")
        if chunks != row["chunks"] or size != row["size"]:
            raise BlobMissingError(f"its stored copy is incomplete ({size:,} of {row['size']:,} bytes)")
        return TableBlob(table_key, row["digest"], dict(row["meta"]), data)

    # ------------------------------------------------------------------ extras (other features)

    def put_extra(self, set_key: str, name: str, body: Any) -> None:
        """Keep a JSON value under (table set, name), replacing the previous one."""
        with self._begin() as connection:
            connection.execute(set_extras.delete().where(set_extras.c.set_key == set_key,
                                                         set_extras.c.name == name))
            connection.execute(set_extras.insert().values(set_key=set_key, name=name, body=body,
                                                          updated_at=self._clock()))

    def get_extra(self, set_key: str, name: str, default: Any = None) -> Any:
        """The JSON value under (table set, name), or ``default``."""
        with self._begin() as connection:
            row = connection.execute(sa.select(set_extras.c.body).where(
                set_extras.c.set_key == set_key, set_extras.c.name == name)).first()
        return default if row is None else row.body

    def delete_extra(self, set_key: str, name: str) -> None:
        """Forget the value under (table set, name)."""
        with self._begin() as connection:
            connection.execute(set_extras.delete().where(set_extras.c.set_key == set_key,
                                                         set_extras.c.name == name))


def _row(found: Mapping[str, Any]) -> ConversationRow:
    return ConversationRow(id=found["id"], owner=found["owner"], created_at=float(found["created_at"]),
                           updated_at=float(found["updated_at"]), title=found["title"],
                           questions=int(found["questions"]))


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _read_chunks(connection: Connection, table_key: str, size: int) -> tuple[bytearray, int, int]:
    """``(data, chunks, bytes)``: a stored table's chunks joined in one buffer of the
    recorded ``size``, filled as the rows arrive (one table's bytes in memory, not its
    chunks and then their join too), with how many chunks and bytes there really were."""
    data = bytearray(size)
    view = memoryview(data)
    chunks = filled = 0
    for piece in _chunk_rows(connection, table_key):
        end = filled + len(piece)
        if end <= size:
            view[filled:end] = piece
        chunks, filled = chunks + 1, end
    view.release()
    return data, chunks, filled


def _chunk_rows(connection: Connection, table_key: str) -> Iterator[bytes]:
    """A stored table's chunks, in order, one at a time as the database sends them."""
    query = "SELECT data FROM blob_chunks WHERE table_key = %s ORDER BY seq"
    if connection.dialect.name == "postgresql":
        # psycopg returns bytea as hex text unless the cursor asks for binary: twice the
        # bytes on the wire and a decode (65 MB: 0.39 s as text, 0.10 s binary). Streamed
        # row by row, so copying a chunk overlaps the server reading the next one
        # (65 MB: 0.09 s instead of 0.15 s for fetchall). Same transaction, plain parameters.
        with connection.connection.driver_connection.cursor(binary=True) as cursor:
            for (piece,) in cursor.stream(query, (table_key,)):
                yield piece
        return
    for row in connection.execute(sa.select(blob_chunks.c.data).where(blob_chunks.c.table_key == table_key)
                                  .order_by(blob_chunks.c.seq)):
        yield row.data
