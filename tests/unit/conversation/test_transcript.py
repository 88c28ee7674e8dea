"""Unit tests for livechat.conversation.transcript.Transcript: folding session events into a history."""

from __future__ import annotations

import pytest

from livechat.voice.bridge import TaggedEvent
from livechat.live.events import (
    ErrorEvent,
    Interrupted,
    Notice,
    SessionState,
    StateChanged,
    ToolCallFinished,
    ToolCallStarted,
    TranscriptUpdate,
    Usage,
)
from livechat.conversation.transcript import Transcript, TranscriptError


def _tag(*events, session: int = 1) -> list[TaggedEvent]:
    return [TaggedEvent(session, e) for e in events]


def test_streamed_utterances_are_replaced_in_place_until_final() -> None:
    t = Transcript()
    assert t.apply(_tag(TranscriptUpdate(1, "user", "How many", False)))
    assert t.apply(_tag(TranscriptUpdate(1, "user", "How many rows?", True),
                        TranscriptUpdate(2, "model", "About", False)))
    assert not t.apply(_tag(TranscriptUpdate(2, "model", "About", False)))  # nothing new
    t.apply(_tag(TranscriptUpdate(2, "model", "About three thousand.", True)))
    assert [(e.role, e.text, e.final) for e in t.entries] == [
        ("user", "How many rows?", True), ("model", "About three thousand.", True)]
    assert t.messages("model") == ["About three thousand."]


def test_turn_ids_of_different_sessions_do_not_collide() -> None:
    t = Transcript()
    t.apply(_tag(TranscriptUpdate(1, "user", "first session", True), session=1))
    t.apply(_tag(TranscriptUpdate(1, "user", "second session", True), session=2))
    assert t.messages() == ["first session", "second session"]


def test_tool_calls_keep_args_result_and_the_chart_spec() -> None:
    t = Transcript()
    spec = {"kind": "bar", "x": "keeper", "y": None, "aggregate": "count", "title": None}
    t.apply(_tag(ToolCallStarted("c1", "show_chart", {"kind": "bar", "x": "keeper"}),
                 ToolCallStarted("c2", "run_sql", {"query": "SELECT 1"})))
    assert [e.final for e in t.entries] == [False, False]
    t.apply(_tag(ToolCallFinished("c1", "show_chart", {"chart": spec, "points": 4}),
                 ToolCallFinished("c2", "run_sql", {"error": "no such table"})))
    chart, sql = t.entries
    assert chart.final and chart.chart == spec and chart.args == {"kind": "bar", "x": "keeper"}
    assert sql.tool_failed and sql.chart is None


@pytest.mark.parametrize("finished", [
    ToolCallFinished("c1", "show_chart", None, cancelled=True),
    ToolCallFinished("c1", "show_chart", {"error": "x is not a column"}),
    ToolCallFinished("c1", "run_sql", {"chart": {"kind": "bar", "x": "a"}}),
])
def test_no_chart_unless_show_chart_succeeded(finished: ToolCallFinished) -> None:
    t = Transcript()
    t.apply(_tag(ToolCallStarted("c1", finished.name, {}), finished))
    assert t.entries[0].chart is None


def test_interruptions_mark_the_model_reply_once() -> None:
    t = Transcript()
    assert not t.apply(_tag(Interrupted()))  # nothing to mark
    t.apply(_tag(TranscriptUpdate(1, "model", "The answer is", False)))
    assert t.apply(_tag(Interrupted()))
    assert not t.apply(_tag(Interrupted()))
    assert t.entries[0].interrupted


def test_errors_notices_and_usage() -> None:
    t = Transcript()
    t.apply(_tag(ErrorEvent("Lost the connection.", 1011, recoverable=True),
                 ErrorEvent("Lost the connection.", 1011, recoverable=True),
                 Notice("Reconnected"),
                 ErrorEvent("The key was refused.", 1008),
                 Usage(10, 20, 30), Usage(1, 2, 3),
                 StateChanged(SessionState.READY)))
    assert [(e.kind, e.text) for e in t.entries] == [
        ("error", "Lost the connection. Reconnecting…"),
        ("notice", "Reconnected"),
        ("error", "The key was refused."),
    ]
    assert t.tokens_used == 33
    t.add_error("could not start")
    assert t.entries[-1].text == "could not start"


def test_the_history_is_bounded_and_trimmed_entries_are_forgotten() -> None:
    t = Transcript(max_entries=3)
    t.apply(_tag(*(TranscriptUpdate(i, "user", f"q{i}", True) for i in range(1, 6))))
    assert t.messages() == ["q3", "q4", "q5"]
    t.apply(_tag(TranscriptUpdate(1, "user", "q1 again", True)))  # its old entry is gone
    assert t.messages() == ["q4", "q5", "q1 again"]
    version = t.version
    t.clear()
    assert t.entries == [] and t.version > version


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_max_entries_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(TranscriptError, match="max_entries"):
        Transcript(max_entries=bad)  # type: ignore[arg-type]


def test_a_late_user_line_goes_above_the_reply_and_figures_caption_the_reply() -> None:
    from livechat.live.events import TurnFigures

    t = Transcript()
    t.apply(_tag(TranscriptUpdate(2, "model", "Four keepers.", True),
                 TurnFigures(2, 0.84, 1234),
                 TranscriptUpdate(1, "user", "How many keepers?", True)))
    assert t.messages() == ["How many keepers?", "Four keepers."]
    assert t.entries[1].figures_caption == "first audio 0.84 s · 1,234 tokens"
    assert t.session_total() == "1 reply · 0 tokens · first audio median 0.84 s"


def test_a_notice_from_the_page_is_kept_in_order() -> None:
    transcript = Transcript()
    transcript.add_error("first")
    version = transcript.version
    transcript.add_notice("The data changed (now: orders).")
    assert [(e.kind, e.text) for e in transcript.entries] == [
        ("error", "first"), ("notice", "The data changed (now: orders).")]
    assert transcript.version == version + 1


def test_microphone_gaps_show_in_the_figures_of_the_next_reply_and_the_session_total() -> None:
    from livechat.live.events import TurnFigures
    from livechat.voice.gaps import UplinkGaps

    transcript = Transcript()
    transcript.apply(_tag(TranscriptUpdate(1, "user", "How many?", True), UplinkGaps(1, 4.2, 1),
                          TranscriptUpdate(2, "model", "Four.", True), TurnFigures(2, 0.84, 1234),
                          UplinkGaps(2, 1.6, 3), TranscriptUpdate(3, "model", "And five.", True)))
    first, second = [e for e in transcript.entries if e.role == "model"]
    assert first.figures_caption == "first audio 0.84 s · 1,234 tokens · 1 mic gap (4.2 s)"
    assert second.figures_caption == "2 mic gaps (longest 1.6 s)"
    assert transcript.session_total().endswith("· 3 mic gaps")
    assert transcript.history_copy().mic_gaps == 3
    transcript.clear()
    assert transcript.mic_gaps == 0
