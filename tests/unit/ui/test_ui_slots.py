"""Typed session slots (livechat.ui.slots), driven with a plain dict as the session state."""

from __future__ import annotations

from typing import Any

import pytest

from livechat.conversation.saved import RecordSnapshots
from livechat.ui import slots
from livechat.ui.slots import Slot, SlotFamily, SlotTypeError


def test_a_default_is_made_once_per_session_and_kept() -> None:
    made: list[RecordSnapshots] = []

    def factory() -> RecordSnapshots:
        made.append(RecordSnapshots())
        return made[-1]

    slot: Slot[RecordSnapshots] = Slot("test.snapshots", RecordSnapshots, factory)
    session: dict[str, Any] = {}
    first = slot.get(session)
    assert slot.get(session) is first and len(made) == 1
    assert session == {"livechat.test.snapshots": first}
    assert slot.get({}) is not first  # another session gets its own


def test_set_get_pop_exists() -> None:
    session: dict[str, Any] = {}
    assert not slots.CONVERSATION_ID.exists(session)
    slots.CONVERSATION_ID.set("abc", session)
    assert slots.CONVERSATION_ID.exists(session) and slots.CONVERSATION_ID.get(session) == "abc"
    assert session[slots.CONVERSATION_ID.key] == "abc"
    assert slots.CONVERSATION_ID.pop(session) == "abc"
    assert slots.CONVERSATION_ID.get(session) is None


def test_a_value_of_another_type_is_refused_and_a_stale_one_reads_as_the_default() -> None:
    session: dict[str, Any] = {}
    with pytest.raises(SlotTypeError, match="livechat.store.deleted"):
        slots.DELETED.set({"a"}, session)  # type: ignore[arg-type]
    session[slots.BUDGET.key] = "many"  # e.g. written by an older version of the app
    assert slots.BUDGET.get(session) == 8_000


def test_a_slot_named_as_module_and_class_resolves_its_type() -> None:
    from livechat.ui.tables import CurrentTableSet

    session: dict[str, Any] = {}
    with pytest.raises(SlotTypeError):
        slots.TABLE_SET.set("not a set", session)  # type: ignore[arg-type]
    table_set = CurrentTableSet((), frozenset())
    slots.TABLE_SET.set(table_set, session)
    assert slots.TABLE_SET.get(session) is table_set


def test_a_widget_slot_never_stores_its_default() -> None:
    # Streamlit owns a drawn widget's value: writing a default first would warn and override it.
    session: dict[str, Any] = {}
    assert slots.AUTOPLAY_WIDGET.get(session) is False
    assert session == {}
    session[slots.AUTOPLAY_WIDGET.key] = True
    assert slots.AUTOPLAY_WIDGET.get(session) is True


def test_a_family_makes_keys_and_finds_the_slot_of_a_key() -> None:
    family: SlotFamily[bool] = SlotFamily("widget.test.", bool, lambda: False, widget=True)
    key = family.key("t1.orders")
    assert key == "livechat.widget.test.t1.orders"
    session = {key: True}
    assert family.slot_of(key).get(session) is True
    with pytest.raises(KeyError):
        family.slot_of("livechat.widget.other.t1")


def test_a_foreign_key_is_used_as_is() -> None:
    assert slots.WEBRTC_CONTEXT.key("voice") == "voice"  # streamlit-webrtc's own key


def test_every_key_is_declared_once() -> None:
    declared = [v for v in vars(slots).values() if isinstance(v, Slot)]
    keys = [s.key for s in declared]
    assert len(keys) == len(set(keys))
    prefixes = [v.prefix for v in vars(slots).values() if isinstance(v, SlotFamily) and v.prefix]
    assert len(prefixes) == len(set(prefixes))
    assert all(s.key.startswith(slots.PREFIX) for s in declared if not s.foreign)
    assert {s.key for s in declared if s.foreign} == {"voice", "voice-uplink"}
