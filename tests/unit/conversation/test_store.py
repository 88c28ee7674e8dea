"""RecordStore: the conversation record outlives a page reload, for a bounded time and count."""

from __future__ import annotations

import pytest

from livechat.conversation.store import (
    RecordStore,
    StoreConfigError,
    new_conversation_id,
    valid_conversation_id,
)
from livechat.conversation.transcript import Transcript
from livechat.live.events import ToolCallStarted, TranscriptUpdate
from livechat.voice.bridge import TaggedEvent


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _said(text: str) -> Transcript:
    t = Transcript()
    t.apply([TaggedEvent(1, TranscriptUpdate(1, "user", text, True))])
    return t


def test_a_saved_record_comes_back_as_a_copy_with_later_changes() -> None:
    store = RecordStore()
    original = _said("first question")
    store.save("id-1234567890abcdef", original, "sales.csv")
    original.apply([TaggedEvent(1, TranscriptUpdate(2, "model", "an answer", True))])  # kept by reference
    restored = store.restore("id-1234567890abcdef")
    assert restored is not None and restored.dataset == "sales.csv"
    assert restored.transcript.messages() == ["first question", "an answer"]
    assert restored.transcript is not original
    restored.transcript.add_error("only in the copy")
    assert len(original.entries) == 2  # two pages never share one mutable transcript


def test_unknown_ids_give_nothing() -> None:
    assert RecordStore().restore("never-saved-id-0000") is None


def test_records_expire_after_the_ttl_since_the_last_save() -> None:
    clock = _Clock()
    store = RecordStore(ttl_s=60, clock=clock)
    store.save("a" * 22, _said("q"), "d")
    clock.now += 50
    store.save("a" * 22, _said("q"), "d")  # a page run refreshes it
    clock.now += 50
    assert store.restore("a" * 22) is not None
    clock.now += 61
    assert store.restore("a" * 22) is None and len(store) == 0


def test_the_least_recently_saved_record_goes_first_when_full() -> None:
    store = RecordStore(max_records=2)
    for key in ("k" * 20, "m" * 20, "n" * 20):
        store.save(key, _said(key), "d")
    assert store.restore("k" * 20) is None
    assert store.restore("m" * 20) is not None and store.restore("n" * 20) is not None


@pytest.mark.parametrize("kwargs", [{"ttl_s": 0}, {"max_records": 0}, {"max_records": True}])
def test_impossible_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(StoreConfigError):
        RecordStore(**kwargs)


def test_ids_are_random_and_only_id_shaped_values_are_looked_up() -> None:
    a, b = new_conversation_id(), new_conversation_id()
    assert a != b and valid_conversation_id(a) and valid_conversation_id(b)
    for bad in (None, "", "short", "x" * 65, "../../etc/passwd-xxxxxxx", "a b c d e f g h i j k", 12345):
        assert not valid_conversation_id(bad)


def test_a_restored_record_takes_new_sessions_turns_as_new_entries() -> None:
    # After a reload the new page's bridge numbers its sessions from 1 again: the old
    # session's turn (1, 1) must not be overwritten by the new session's turn (1, 1).
    store = RecordStore()
    original = _said("old question")
    original.apply([TaggedEvent(1, ToolCallStarted("fc_1", "run_sql", {"query": "SELECT 1"}))])
    store.save("b" * 22, original, "d")
    restored = store.restore("b" * 22)
    assert restored is not None
    history = restored.transcript
    history.apply([TaggedEvent(1, TranscriptUpdate(1, "user", "new question", True))])
    assert history.messages() == ["old question", "new question"]
    pending = [e for e in history.entries if e.kind == "tool"]
    assert pending[0].final and pending[0].cancelled  # cannot finish in the new page
    assert original.entries[1].final is False  # the original is untouched
