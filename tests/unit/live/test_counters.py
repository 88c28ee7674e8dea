"""A session's counters are updated by typed member, and read by their stats() names."""

from __future__ import annotations

import threading

import pytest

from livechat.live.metrics import Counter, SessionCounters


def test_counters_start_at_zero_and_add_by_member() -> None:
    counters = SessionCounters()
    counters.add(Counter.INTERRUPTIONS)
    counters.add(Counter.AUDIO_SECONDS_SENT, 0.04)
    snapshot = counters.snapshot()
    assert snapshot["interruptions"] == 1 and snapshot["audio_seconds_sent"] == pytest.approx(0.04)
    assert counters.get(Counter.RECONNECTS) == 0
    assert set(snapshot) == {counter.value for counter in Counter}


def test_a_counter_named_by_string_is_refused() -> None:
    with pytest.raises(TypeError, match="Counter member"):
        SessionCounters().add("interruptions")  # type: ignore[arg-type]


def test_adds_from_several_threads_are_all_counted() -> None:
    counters = SessionCounters()

    def bump() -> None:
        for _ in range(1_000):
            counters.add(Counter.AUDIO_CHUNKS_IN)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.get(Counter.AUDIO_CHUNKS_IN) == 4_000
