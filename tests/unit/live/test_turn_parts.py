"""The per-turn pieces of the session on their own: late user lines, turn figures, barge-in, speech."""

from __future__ import annotations

import numpy as np

from livechat.live.events import TranscriptUpdate
from livechat.live.inputs import SpeechGate
from livechat.live.metrics import TurnClock
from livechat.live.reply_audio import ReplyAudio
from livechat.live.seeding import TranscriptTracker


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _tracker(clock=None) -> tuple[TranscriptTracker, list[TranscriptUpdate]]:
    updates: list[TranscriptUpdate] = []
    return TranscriptTracker(updates.append, clock=clock or _Clock()), updates


def test_a_late_user_line_takes_the_id_reserved_before_the_reply() -> None:
    tracker, updates = _tracker()
    tracker.note_speech()
    tracker.add("model", "Four keepers.")
    tracker.finish_all()
    late = tracker.add("user", "How many keepers?", finished=True)
    assert late and not tracker.is_open("user")
    user = next(u for u in updates if u.role == "user")
    model = next(u for u in updates if u.role == "model")
    assert user.turn_id < model.turn_id
    assert tracker.history == [("user", "How many keepers?"), ("model", "Four keepers.")]


def test_no_reservation_without_speech_and_a_normal_line_is_not_late() -> None:
    tracker, updates = _tracker()
    tracker.add("model", "Proactive hello.")  # no speech went up: nothing reserved
    tracker.finish_all()
    assert tracker.add("user", "Hi") is False
    user = next(u for u in updates if u.role == "user")
    model = next(u for u in updates if u.role == "model")
    assert user.turn_id > model.turn_id


def test_reservations_expire() -> None:
    clock = _Clock()
    tracker, updates = _tracker(clock)
    tracker.note_speech()
    tracker.add("model", "Reply.")
    tracker.finish_all()
    clock.now += 31
    assert tracker.add("user", "Much later") is False


def test_a_late_line_does_not_count_as_the_analyst_speaking() -> None:
    tracker, _ = _tracker()
    tracker.note_speech()
    tracker.add("model", "Reply.")
    tracker.finish_all()
    tracker.add("user", "late piece")  # not finished yet
    assert tracker.is_open("user") and tracker.user_line_is_late()


def test_turn_clock_measures_from_the_end_of_input_and_keeps_the_last_real_usage() -> None:
    clock = _Clock()
    turns = TurnClock(clock)
    turns.input_ended()
    clock.now += 0.8
    turns.usage(100, 0, 100)  # at generation start
    turns.reply_audio()
    clock.now += 2.0
    turns.reply_audio()  # later chunks do not move the first
    turns.usage(0, 0, 0)  # the empty block on turnComplete
    seconds, usage = turns.turn_complete()
    assert abs(seconds - 0.8) < 1e-9 and usage == (100, 0, 100)
    assert turns.turn_complete() == (None, None)  # a reply to no input has no latency


class _Sink:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, pcm24k: bytes) -> None:
        self.calls.append("write")

    def clear(self) -> None:
        self.calls.append("clear")

    def end_of_turn(self) -> None:
        self.calls.append("end")


def test_local_barge_in_clears_once_mutes_the_rest_and_the_next_reply_plays() -> None:
    sink = _Sink()
    reply = ReplyAudio(sink)
    assert reply.local_barge_in() is False  # nothing playing: nothing to cut
    reply.play(b"\x00\x00", "audio/pcm;rate=24000")
    assert reply.local_barge_in() is True
    assert reply.local_barge_in() is False
    assert reply.play(b"\x00\x00", "audio/pcm;rate=24000") is False  # the cut reply's tail
    assert reply.interrupt() is False  # the service's interrupted after it: no second clear
    reply.end_of_turn()
    assert reply.play(b"\x00\x00", "audio/pcm;rate=24000") is True
    assert sink.calls == ["write", "clear", "end", "write"]


def test_speech_gate_needs_sustained_level() -> None:
    gate = SpeechGate()
    loud = (np.sin(np.arange(1_600) / 5) * 8_000).astype(np.int16).tobytes()  # 100 ms at 16 kHz
    quiet = np.zeros(1_600, dtype=np.int16).tobytes()
    assert gate.feed(quiet, 0.1) is None
    assert [gate.feed(loud, 0.1) for _ in range(3)] == ["speech", "speech", "sustained_speech"]
    assert gate.feed(quiet, 0.1) is None
    assert gate.feed(loud, 0.1) == "speech"
