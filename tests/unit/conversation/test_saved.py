"""The record as plain data: what the store keeps comes back as the same history."""

from __future__ import annotations

import json

from livechat.conversation.saved import (
    RecordSnapshots,
    new_conversation_id,
    record_snapshot,
    transcript_from_saved,
    valid_conversation_id,
)
from livechat.conversation.transcript import Transcript
from livechat.live.events import Notice, ToolCallFinished, ToolCallStarted, TranscriptUpdate, TurnFigures
from livechat.voice.bridge import TaggedEvent


def _transcript() -> Transcript:
    t = Transcript()
    t.apply([
        TaggedEvent(1, TranscriptUpdate(1, "user", "How many storms?", True)),
        TaggedEvent(1, ToolCallStarted("fc_1", "run_sql", {"query": "SELECT count(*) FROM data"})),
        TaggedEvent(1, ToolCallFinished("fc_1", "run_sql", {"columns": ["n"], "rows": [[3, float("nan")]],
                                                           "row_count": 1}, False)),
        TaggedEvent(1, TranscriptUpdate(2, "model", "Three.", True)),
        TaggedEvent(1, TurnFigures(2, 0.8, 120)),
        TaggedEvent(1, Notice("Reconnected.")),
        TaggedEvent(1, ToolCallStarted("fc_2", "run_sql", {"query": "SELECT 1"})),
    ])
    return t


def test_a_saved_record_comes_back_with_sql_results_figures_and_notices() -> None:
    snapshot = record_snapshot(_transcript())
    stored = json.loads(json.dumps(snapshot.entries, allow_nan=False))  # strict JSON (PostgreSQL's json)
    back = transcript_from_saved(stored, snapshot.totals)
    assert snapshot.questions == 1
    assert back.messages() == ["How many storms?", "Three."]
    tool = back.entries[1]
    assert tool.args == {"query": "SELECT count(*) FROM data"} and tool.result["rows"] == [[3, None]]
    assert back.entries[2].figures_caption == "first audio 0.80 s · 120 tokens"
    assert back.entries[3].text == "Reconnected."
    assert back.entries[4].final and back.entries[4].cancelled  # was running: cannot finish now
    assert back.first_audio_s == [0.8]


def test_new_sessions_add_to_a_restored_record() -> None:
    snapshot = record_snapshot(_transcript())
    back = transcript_from_saved(snapshot.entries, snapshot.totals)
    back.apply([TaggedEvent(1, TranscriptUpdate(1, "user", "And wind?", True))])
    assert back.messages("user") == ["How many storms?", "And wind?"]


def test_ids_are_random_and_only_id_shaped_values_are_looked_up() -> None:
    a, b = new_conversation_id(), new_conversation_id()
    assert a != b and valid_conversation_id(a) and valid_conversation_id(b)
    for bad in (None, "", "short", "x" * 65, "../../etc/passwd-xxxxxxx", "a b c d e f g h i j k", 12345):
        assert not valid_conversation_id(bad)


def test_snapshots_convert_only_what_changed() -> None:
    transcript = _transcript()
    snapshots = RecordSnapshots()
    first = snapshots.take(transcript)
    transcript.apply([TaggedEvent(1, ToolCallFinished("fc_2", "run_sql", {"rows": [[1]]}, False)),
                      TaggedEvent(1, TranscriptUpdate(3, "user", "And", False))])
    second = snapshots.take(transcript)
    assert second.entries == record_snapshot(transcript).entries
    same = [a is b for a, b in zip(first.entries, second.entries)]
    assert same == [True, True, True, True, False]  # only the tool call that finished
    assert len(second.entries) == 6 and second.entries[5]["text"] == "And"
    transcript.apply([TaggedEvent(1, TranscriptUpdate(3, "user", "And wind?", True))])
    assert snapshots.take(transcript).entries[5]["text"] == "And wind?"
