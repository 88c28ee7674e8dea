"""CallMeter's bookkeeping with a hand-driven clock over an in-memory store: what counts as
voice time, when a typed session becomes a call, the verdict's notice and end, a store that
cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from livechat.live.guard import LimitReached
from livechat.store import ConversationStore
from livechat.store.audit import EventKind, read_events
from livechat.usage.ledger import read_standing
from livechat.usage.limits import Limits
from livechat.usage.meter import CallMeter

NOW = 1_796_600_000.0  # 2026-12-06 22:13 UTC


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class _Writer:
    """The StoreWriter's face, running each job at once (or refusing while ``down``)."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        self.down = False

    def submit(self, job: Callable[[ConversationStore], Any], *, key: str | None = None) -> bool:
        if not self.down:
            job(self.store)
        return True

    def read(self, fn: Callable[[ConversationStore], Any], default: Any) -> Any:
        return default if self.down else fn(self.store)


@pytest.fixture
def writer():
    store = ConversationStore.open("sqlite://")
    try:
        yield _Writer(store)
    finally:
        store.close()


def _meter(writer: _Writer, mono: _Clock, limits: Limits = Limits(), *, voice: bool) -> CallMeter:
    return CallMeter(store=writer, limits=limits, analyst="ana", model="m", voice=voice,
                     clock=lambda: NOW + mono.t, monotonic=mono)


def test_only_connected_voice_time_counts_and_a_typed_session_counts_from_its_first_word(writer):
    mono = _Clock()
    meter = _meter(writer, mono, voice=False)
    meter.before_mint()
    meter.connected(True)
    mono.t = 100.0
    assert meter.figures.seconds == 0.0  # typed: no minutes
    meter.mark_voice()
    mono.t = 130.0
    meter.connected(False)  # reconnecting: not counted
    mono.t = 200.0
    meter.connected(True)
    mono.t = 210.0
    meter.tokens(500)
    meter.ended("stopped")
    assert meter.figures.seconds == pytest.approx(40.0) and meter.figures.tokens == 500
    standing = read_standing(writer.store, "ana", now=NOW + 210)
    assert standing.analyst.seconds == pytest.approx(40.0) and standing.analyst.tokens == 500
    assert standing.analyst.calls == 1 and standing.open_calls == 0
    (end,) = read_events(writer.store, kinds=[EventKind.CALL_END])
    assert end.details["minutes"] == pytest.approx(40 / 60, abs=1e-3) and end.details["reason"] == "stopped"


def test_the_verdict_warns_a_minute_ahead_then_ends_and_audits_the_limit_once(writer):
    mono = _Clock()
    meter = _meter(writer, mono, Limits(voice_minutes_per_day=2), voice=True)
    meter.before_mint()
    meter.connected(True)
    mono.t = 30.0
    assert meter.verdict().seconds_left == pytest.approx(90.0)
    mono.t = 65.0
    verdict = meter.verdict()
    assert verdict.seconds_left == pytest.approx(55.0) and "ends in 55 s" in verdict.warning
    assert meter.limit_hit is None
    mono.t = 121.0
    assert meter.verdict().seconds_left == 0.0 and meter.verdict().seconds_left == 0.0
    assert meter.limit_hit.limit == "voice_minutes_per_day"
    refused = read_events(writer.store, kinds=[EventKind.LIMIT_REFUSED])
    assert [e.details["during"] for e in refused] == ["call"]


def test_a_second_call_is_refused_while_the_first_is_claimed(writer):
    mono = _Clock()
    first = _meter(writer, mono, Limits(max_concurrent_calls=1), voice=True)
    first.before_mint()
    second = _meter(writer, mono, Limits(max_concurrent_calls=1), voice=True)
    with pytest.raises(LimitReached, match="max_concurrent_calls"):
        second.before_mint()
    first.ended("stopped")
    second.before_mint()  # the first call's row is gone


def test_with_the_store_unreadable_the_last_figures_decide(writer):
    mono = _Clock()
    meter = _meter(writer, mono, Limits(tokens_per_day=100), voice=False)
    meter.before_mint()
    meter.connected(True)
    writer.down = True
    meter.tokens(150)  # not written: kept by the meter
    with pytest.raises(LimitReached, match="tokens_per_day"):
        meter.before_mint()
