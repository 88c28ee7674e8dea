"""ConversationStore on SQLite and a real PostgreSQL: what is kept comes back, deletes and
sweeps remove what they must and nothing else, migrations are checked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from livechat.store import ConversationStore, MemberRow, StoreError, migrate
from livechat.store.repository import BlobMissingError
from livechat.store.schema import blob_chunks, record_entries, table_blobs

CID = "c" * 22
OTHER = "o" * 22


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _entries(n: int) -> list[dict]:
    return [{"kind": "message", "role": "user" if i % 2 == 0 else "model", "text": f"m{i}"} for i in range(n)]


def _count(store: ConversationStore, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_record_and_tables_come_back_in_order(conversation_store: ConversationStore) -> None:
    store = conversation_store
    store.save_record(CID, title="sales.xlsx", questions=2, totals={"tokens_used": 7}, entries=_entries(4))
    members = [MemberRow("k1", "d1", "sales.xlsx", sql_name="q1", sheet="Q1", shown=True),
               MemberRow("k2", "d1", "sales.xlsx", sql_name="q2", ticked=False, sheet="Q2", header_row=3,
                         encoding="cp1252")]
    store.save_members(CID, members, title="sales.xlsx")
    saved = store.load(CID)
    assert saved is not None
    assert saved.entries == _entries(4)
    assert saved.totals == {"tokens_used": 7}
    assert saved.members == members
    assert (saved.row.title, saved.row.questions, saved.row.owner) == ("sales.xlsx", 2, "local")
    assert store.load(OTHER) is None


def test_a_turn_rewrites_only_new_and_changed_entries(conversation_store: ConversationStore) -> None:
    store = conversation_store
    entries = _entries(10)
    assert store.save_record(CID, title="t", questions=5, totals={}, entries=entries) == 10
    entries[9] = {**entries[9], "text": "longer answer"}
    assert store.save_record(CID, title="t", questions=6, totals={}, entries=entries + _entries(1)) == 2
    assert store.load(CID).entries == entries + _entries(1)
    # a shorter record (trimmed) drops the rows past its end
    store.save_record(CID, title="t", questions=1, totals={}, entries=entries[:3])
    assert store.load(CID).entries == entries[:3]
    assert _count(store, record_entries) == 3


def test_list_is_most_recent_first(store_url: str) -> None:
    clock = Clock()
    store = ConversationStore.open(store_url, clock=clock)
    try:
        for i, cid in enumerate(("a" * 22, "b" * 22, "c" * 22)):
            clock.now += 10
            store.save_record(cid, title=f"t{i}", questions=i, totals={}, entries=[])
        clock.now += 10
        store.save_record("a" * 22, title="t0", questions=1, totals={}, entries=_entries(1))
        assert [r.id[0] for r in store.list_conversations()] == ["a", "c", "b"]
        assert store.list_conversations(owner="someone@else") == []
    finally:
        store.close()


def test_blobs_are_chunked_and_checked(store_url: str) -> None:
    store = ConversationStore.open(store_url, chunk_bytes=1000)
    try:
        data = bytes(range(256)) * 20  # 5,120 bytes: 6 chunks
        store.put_blob("k", "d", {"name": "x"}, data)
        store.put_blob("k", "d", {"name": "x"}, b"ignored: already stored")
        blob = store.get_blob("k")
        assert (blob.data, blob.meta, blob.digest) == (data, {"name": "x"}, "d")
        assert _count(store, blob_chunks) == 6
        with store.engine.begin() as connection:
            connection.execute(blob_chunks.update().where(blob_chunks.c.seq == 3).values(data=b"x" * 1001))
        with pytest.raises(BlobMissingError, match="damaged"):  # one byte more than was saved
            store.get_blob("k")
        with store.engine.begin() as connection:
            connection.execute(blob_chunks.delete().where(blob_chunks.c.seq == 3))
        with pytest.raises(BlobMissingError, match="incomplete"):
            store.get_blob("k")
        with pytest.raises(BlobMissingError, match="missing"):
            store.get_blob("nope")
    finally:
        store.close()


def test_delete_removes_the_conversation_and_tables_no_other_uses(conversation_store: ConversationStore) -> None:
    store = conversation_store
    for key in ("shared", "mine"):
        store.put_blob(key, "d", {}, b"parquet")
    store.save_record(CID, title="t", questions=1, totals={}, entries=_entries(2))
    store.save_members(CID, [MemberRow("shared", "d", "a.csv"), MemberRow("mine", "d", "b.csv")], title="t")
    store.save_members(OTHER, [MemberRow("shared", "d", "a.csv")], title="t")
    store.delete_conversation(CID)
    assert store.load(CID) is None
    assert _count(store, record_entries) == 0
    assert store.has_blob("shared") and not store.has_blob("mine")
    store.delete_conversation(OTHER)
    assert _count(store, table_blobs) == 0 and _count(store, blob_chunks) == 0


def test_conversations_belong_to_their_owner(conversation_store: ConversationStore) -> None:
    store = conversation_store
    store.save_record(CID, title="ana's", questions=1, totals={}, entries=_entries(2), owner="ana@example.com")
    store.save_members(OTHER, [MemberRow("k", "d", "b.csv")], title="ben's", owner="ben@example.com")
    store.save_record(CID, title="ana's, later", questions=2, totals={}, entries=_entries(4), owner="ben@example.com")
    assert store.load(CID, owner="ana@example.com").row.owner == "ana@example.com"  # an owner never changes
    # Someone else's conversation reads exactly as a missing one.
    assert store.load(CID, owner="ben@example.com") is None
    assert store.load("x" * 22, owner="ben@example.com") is None
    assert [r.id for r in store.list_conversations(owner="ana@example.com")] == [CID]
    assert [r.id for r in store.list_conversations(owner="ben@example.com")] == [OTHER]
    assert store.list_conversations() == []  # "local" owns nothing here
    assert store.delete_conversation(CID, owner="ben@example.com") is False
    assert store.load(CID) is not None
    assert store.delete_conversation(CID, owner="ana@example.com") is True
    assert store.load(CID) is None


def test_sweep_deletes_what_retention_no_longer_keeps(store_url: str) -> None:
    clock = Clock()
    store = ConversationStore.open(store_url, clock=clock)
    try:
        store.put_blob("old", "d", {}, b"x")
        store.save_record(CID, title="old", questions=0, totals={}, entries=_entries(1))
        store.save_members(CID, [MemberRow("old", "d", "a.csv")], title="old")
        clock.now += 20 * 86400
        store.save_record(OTHER, title="new", questions=0, totals={}, entries=[])
        clock.now += 15 * 86400
        assert store.sweep(keep_s=30 * 86400) == 1
        assert store.load(CID) is None and store.load(OTHER) is not None
        assert not store.has_blob("old")
    finally:
        store.close()


def test_extras_are_kept_per_table_set(conversation_store: ConversationStore) -> None:
    store = conversation_store
    store.put_extra("set:1", "definitions", {"revenue": "SUM(amount)"})
    store.put_extra("set:1", "definitions", {"revenue": "SUM(net)"})
    store.put_extra("set:2", "definitions", ["x"])
    assert store.get_extra("set:1", "definitions") == {"revenue": "SUM(net)"}
    assert store.get_extra("set:2", "definitions") == ["x"]
    store.delete_extra("set:1", "definitions")
    assert store.get_extra("set:1", "definitions", default="none") == "none"


def test_migrations_have_one_head_and_a_migrated_store_verifies(conversation_store: ConversationStore) -> None:
    migrate.verify(conversation_store.engine)
    assert migrate.current_revision(conversation_store.engine) == migrate.head_revision()
    migrate.upgrade(conversation_store.engine)  # again: a no-op


def test_a_store_from_a_newer_release_is_refused_and_left_alone(store_url: str) -> None:
    ConversationStore.open(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'future'"))
    engine.dispose()
    with pytest.raises(StoreError, match="does not know"):
        ConversationStore.open(store_url)


def test_an_unreachable_store_is_a_store_error_with_a_reason() -> None:
    with pytest.raises(StoreError) as caught:
        ConversationStore.open("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert caught.value.reason


def test_retention_zero_keeps_the_store_in_process_memory_safely_across_threads() -> None:
    import threading

    from livechat.store.settings import resolve_store_settings

    settings = resolve_store_settings({}, {"LIVECHAT_RETENTION_DAYS": "0"})
    store = ConversationStore.open(settings.url)
    try:
        def write(n: int) -> None:
            for i in range(20):
                store.save_record(f"{n:02d}" * 11, title="t", questions=i, totals={}, entries=_entries(i % 5))

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r.questions for r in store.list_conversations()) == [19, 19, 19, 19]
    finally:
        store.close()


def test_a_table_snapshot_comes_back_through_the_store(store_url: str) -> None:
    import numpy as np
    import pandas as pd

    from livechat.data.load import LoadedTable
    from livechat.data.snapshot import SnapshotError, decode_table, encode_table

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": rng.normal(size=5_000), "region": pd.Series(rng.choice(["n", "s"], 5_000), dtype="str"),
                       "at": pd.date_range("2024-01-01", periods=5_000, freq="s").as_unit("s")})
    data, meta = encode_table(LoadedTable(df=df, name="t.csv", sheets=(), sheet=None, warnings=()))
    store = ConversationStore.open(store_url, chunk_bytes=4096)  # many chunks, joined on the way out
    try:
        store.put_blob("k", "d", meta, data)
        blob = store.get_blob("k")
        pd.testing.assert_frame_equal(decode_table(blob.data, blob.meta).df, df)
        with store.engine.begin() as connection:  # same length, one byte changed
            piece = connection.execute(sa.select(blob_chunks.c.data).where(blob_chunks.c.seq == 2)).scalar_one()
            connection.execute(blob_chunks.update().where(blob_chunks.c.seq == 2)
                               .values(data=bytes([piece[0] ^ 1]) + bytes(piece[1:])))
        blob = store.get_blob("k")
        with pytest.raises(SnapshotError, match="checksum"):
            decode_table(blob.data, blob.meta)
    finally:
        store.close()


def test_table_chunks_are_not_compressed_a_second_time(conversation_store: ConversationStore) -> None:
    # Parquet pages are already LZ4: PostgreSQL keeps them out of line and uncompressed
    # (EXTERNAL) instead of running pglz over them again (revision 0002). SQLite stores
    # blobs as they are in any case.
    store = conversation_store
    data = bytes(range(256)) * 40_000  # compressible, so pglz would have worked on it
    store.put_blob("k", "d", {"format": "x"}, data)
    assert store.get_blob("k").data == data
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            storage = connection.execute(sa.text(
                "SELECT attstorage FROM pg_attribute WHERE attrelid = 'blob_chunks'::regclass "
                "AND attname = 'data'")).scalar_one()
            assert storage == "e"
            stored = connection.execute(sa.text("SELECT sum(pg_column_size(data)) FROM blob_chunks")).scalar_one()
            assert stored >= len(data)
