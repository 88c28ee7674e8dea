"""Budgets (livechat.usage) on a real LiveSession against the emulator, counted in a real store.

Small limits keep each test seconds long: a refused mint names the limit and its reset
time; a call is warned, then ended cleanly (Live close 1000) at ``max_call_minutes``;
counts are still there for a new store object on the same database (a restart), and two
independent writers on one PostgreSQL (two replicas) see each other's calls and minutes.
"""

from __future__ import annotations

import threading
import time

import pytest

from livechat.live.events import ErrorEvent, SessionState
from livechat.live.session import LiveSession
from livechat.store import ConversationStore, StoreWriter
from livechat.store.audit import EventKind, read_events
from livechat.usage import Limits
from livechat.usage.ledger import Delta, add_usage, open_call, read_standing
from livechat.usage.meter import CallMeter
from tests.conftest import LIVE_MODEL
from tests.integration.session_support import Recorder, assert_ended_cleanly, live_settings, service_config

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]


def _writer(url: str) -> StoreWriter:
    return StoreWriter(lambda: ConversationStore.open(url)).start()


def _session(emulator, meter: CallMeter) -> tuple[LiveSession, Recorder]:
    session = LiveSession(config=service_config(emulator), settings=live_settings(), guard=meter)
    session.start()
    return session, Recorder(session)


def _meter(writer: StoreWriter, limits: Limits, *, analyst: str = "ana@example.org", voice: bool = True,
           **kwargs) -> CallMeter:
    return CallMeter(store=writer, limits=limits, analyst=analyst, model=LIVE_MODEL, voice=voice, **kwargs)


def _refused(emulator, meter: CallMeter) -> list[str]:
    """Start a session guarded by ``meter``, let it end, return its final errors' messages."""
    session, recorder = _session(emulator, meter)
    try:
        recorder.wait_state(SessionState.ERROR, SessionState.CLOSED)
    finally:
        assert_ended_cleanly(session)
    return [e.message for e in recorder.errors() if not e.recoverable]


def _events(writer: StoreWriter, kind: EventKind):
    writer.flush()
    return writer.read(lambda store: read_events(store, kinds=[kind]), [])


def test_a_mint_over_voice_minutes_per_day_is_refused_naming_the_limit_and_reset(emulator, store_url):
    writer = _writer(store_url)
    try:
        writer.read(lambda store: add_usage(store, "ana@example.org", Delta(seconds=120.0), now=time.time()), None)
        (error,) = _refused(emulator, _meter(writer, Limits(voice_minutes_per_day=2)))
        assert "voice_minutes_per_day" in error
        assert "resets at 00:00 UTC" in error
        assert emulator.tokens() == []  # refused before the mint: the service was never asked
        (refused,) = _events(writer, EventKind.LIMIT_REFUSED)
        assert refused.details["limit"] == "voice_minutes_per_day" and refused.details["during"] == "mint"
    finally:
        writer.close()


def test_a_call_is_warned_then_ended_cleanly_at_max_call_minutes(emulator, store_url):
    writer = _writer(store_url)
    try:
        meter = _meter(writer, Limits(max_call_minutes=0.05))  # 3 s: under a minute, so warned at once
        session, recorder = _session(emulator, meter)
        try:
            recorder.wait_state(SessionState.CLOSED, SessionState.ERROR, timeout=20)
            recorder.drain()
        finally:
            assert_ended_cleanly(session)
        notices = recorder.notices()
        warning = next(i for i, n in enumerate(notices) if n.startswith("This call ends"))
        ending = next(i for i, n in enumerate(notices) if n.startswith("The call was ended"))
        assert warning < ending and "max_call_minutes" in notices[warning] and "max_call_minutes" in notices[ending]
        assert not [e for e in recorder.events if isinstance(e, ErrorEvent)]
        assert session.state is SessionState.CLOSED
        (record,) = emulator.wait_for(lambda s: s and s[0]["ended"] is not None)
        assert record["ended"]["code"] == 1000, record["ended"]
        (end,) = _events(writer, EventKind.CALL_END)
        assert "max_call_minutes" in end.details["reason"]
        assert end.details["minutes"] >= 0.05  # it ran to its limit, not less
        assert end.details["model"] == LIVE_MODEL
        assert [e.details["call_id"] for e in _events(writer, EventKind.CALL_START)] == [meter.call_id]
        standing = writer.read(lambda store: read_standing(store, "ana@example.org", now=time.time()), None)
        assert standing.open_calls == 0 and standing.analyst.calls == 1
        assert standing.analyst.seconds >= 3.0
    finally:
        writer.close()


def test_typed_usage_survives_a_restart_and_then_refuses_over_tokens_per_day(emulator, store_url):
    writer = _writer(store_url)
    try:
        meter = _meter(writer, Limits(tokens_per_day=1_000_000), voice=False)
        session, recorder = _session(emulator, meter)
        try:
            recorder.wait_state(SessionState.READY)
            recorder.ask("How many keepers are there?")
        finally:
            assert_ended_cleanly(session)
        used = meter.figures.tokens
        assert used > 0 and meter.figures.seconds == 0.0  # typed: tokens count, minutes do not
    finally:
        writer.close()

    restarted = _writer(store_url)  # a new process: a new store object on the same database
    try:
        standing = restarted.read(lambda store: read_standing(store, "ana@example.org", now=time.time()), None)
        assert standing.analyst.tokens == used
        (error,) = _refused(emulator, _meter(restarted, Limits(tokens_per_day=used), voice=False))
        assert "tokens_per_day" in error
    finally:
        restarted.close()


def test_two_replicas_on_postgresql_share_open_calls_and_minutes(emulator, postgres_url):
    first, second = _writer(postgres_url), _writer(postgres_url)
    try:
        limits = Limits(max_concurrent_calls=1)
        meter_a = _meter(first, limits)
        session_a, recorder_a = _session(emulator, meter_a)
        try:
            recorder_a.wait_state(SessionState.READY)
            # The other replica: the analyst's second call is refused while the first is open.
            (error,) = _refused(emulator, _meter(second, limits))
            assert "max_concurrent_calls" in error
        finally:
            assert_ended_cleanly(session_a)
        first.flush()
        # The minutes as stored (the cap below is exactly them): the meter's own figure may run
        # a few milliseconds past its last write, which would leave a sliver under the cap.
        standing = second.read(lambda store: read_standing(store, "ana@example.org", now=time.time()), None)
        minutes = standing.analyst.seconds / 60.0
        assert minutes > 0
        # Replica B now sees the call closed and its minutes: a day's cap of exactly that is used up.
        (error,) = _refused(emulator, _meter(second, Limits(max_concurrent_calls=1, voice_minutes_per_day=minutes)))
        assert "voice_minutes_per_day" in error
    finally:
        first.close()
        second.close()


def test_an_open_call_of_a_replica_that_died_stops_counting(conversation_store):
    now = time.time()
    open_call(conversation_store, "dead", "ana@example.org", now=now - 600)
    open_call(conversation_store, "alive", "ana@example.org", now=now - 5)
    assert read_standing(conversation_store, "ana@example.org", now=now).open_calls == 1
    assert read_standing(conversation_store, "ana@example.org", now=now, exclude_call="alive").open_calls == 0


def test_two_replicas_adding_at_once_lose_no_count(store_url):
    stores = [ConversationStore.open(store_url), ConversationStore.open(store_url)]
    now = time.time()
    gate = threading.Barrier(2)

    def add(store: ConversationStore) -> None:
        gate.wait()
        for _ in range(50):
            add_usage(store, "ana@example.org", Delta(seconds=1.5, tokens=10, tool_calls=1), now=now)

    try:
        threads = [threading.Thread(target=add, args=(store,), name=f"replica-{i}") for i, store in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        standing = read_standing(stores[0], "ana@example.org", now=now)
    finally:
        for store in stores:
            store.close()
    assert (standing.analyst.seconds, standing.analyst.tokens, standing.analyst.tool_calls) == (150.0, 1000, 100)
    assert standing.deployment_seconds == 150.0
