"""StoreWriter on SQLite and PostgreSQL: writes never block the caller, a stalled store
loses nothing it can keep, an unreachable store is retried, and every loss is counted."""

from __future__ import annotations

import threading
import time

from livechat.store import ConversationStore, StoreError, StoreWriter

CID = "w" * 22


def _until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _record(text: str):
    return lambda store: store.save_record(CID, title="t", questions=1, totals={},
                                           entries=[{"kind": "message", "text": text}])


def test_a_stalled_store_never_blocks_submit_and_keeps_the_latest_record(store_url: str) -> None:
    writer = StoreWriter(lambda: ConversationStore.open(store_url), max_queue=4).start()
    release = threading.Event()
    try:
        assert writer.submit(lambda store: release.wait(5.0))  # the store stalls (up to 5 s)
        accepted = [writer.submit(_record(f"v{i}"), key=f"record:{CID}") for i in range(200)]
        extra = [writer.submit(lambda store: None) for _ in range(10)]
        # Returned while stalled: every record version coalesced into one queued write,
        # unkeyed writes beyond the bound were refused and counted.
        assert all(accepted) and not release.is_set()
        assert writer.status().dropped == extra.count(False) > 0
        release.set()
        assert writer.flush(10.0)
        saved = writer.read(lambda store: store.load(CID), None)
        assert saved is not None and saved.entries == [{"kind": "message", "text": "v199"}]
    finally:
        release.set()
        writer.close(10.0)


def test_an_unreachable_store_is_said_retried_and_then_written(store_url: str) -> None:
    attempts = []

    def opener() -> ConversationStore:
        attempts.append(1)
        if len(attempts) < 3:
            raise StoreError("could not connect to server")
        return ConversationStore.open(store_url)

    writer = StoreWriter(opener, retry_s=0.05).start()
    try:
        status = writer.status()
        assert not status.saving and status.reason == "could not connect to server"
        assert writer.read(lambda store: store.list_conversations(), "down") == "down"
        assert writer.submit(_record("kept while down"), key=f"record:{CID}")
        assert _until(lambda: writer.status().saving)
        assert writer.flush(10.0)
        assert writer.read(lambda store: store.load(CID).entries, None) == [
            {"kind": "message", "text": "kept while down"}]
        assert writer.status().dropped == 0
    finally:
        writer.close()


def test_a_write_refused_mid_session_is_parked_and_replayed(store_url: str) -> None:
    writer = StoreWriter(lambda: ConversationStore.open(store_url), retry_s=0.05).start()
    calls = []

    def flaky(store: ConversationStore) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("database or disk is full")
        _record("after the disk was freed")(store)

    try:
        writer.submit(flaky)
        assert _until(lambda: len(calls) >= 2)
        assert writer.flush(10.0) and writer.status().saving
        assert writer.read(lambda store: store.load(CID).entries[0]["text"], None) == "after the disk was freed"
    finally:
        writer.close()


def test_close_flushes_and_stops_the_thread(store_url: str) -> None:
    before = {t.name for t in threading.enumerate()}
    writer = StoreWriter(lambda: ConversationStore.open(store_url)).start()
    writer.submit(_record("last words"))
    assert writer.close(10.0)
    assert "livechat-store-writer" not in {t.name for t in threading.enumerate()} - before
    check = ConversationStore.open(store_url)
    try:
        assert check.load(CID).entries == [{"kind": "message", "text": "last words"}]
    finally:
        check.close()
    assert not writer.submit(_record("too late"))


def test_the_writer_sweeps_at_start(store_url: str) -> None:
    seed = ConversationStore.open(store_url, clock=lambda: 1000.0)
    seed.save_record(CID, title="ancient", questions=0, totals={}, entries=[])
    seed.close()
    writer = StoreWriter(lambda: ConversationStore.open(store_url), keep_s=86400.0).start()
    try:
        assert _until(lambda: writer.read(lambda store: store.load(CID), "x") is None)
    finally:
        writer.close()
