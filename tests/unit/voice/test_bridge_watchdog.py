"""VoiceBridge's own uplink watchdog: a closed tab ends the session, a late frame does not,
and how a STOP differs from a dropped stream (no error after STOP). Fake sessions, fake
browser probes and an injected clock; the tests wait on the watchdog's clock reads and the
session's stop event, never on time."""

from __future__ import annotations

import threading

from livechat.voice.bridge import (
    STREAM_DROPPED_MESSAGE,
    STREAM_GONE_MESSAGE,
    BrowserSignals,
    UplinkGaps,
    VoiceBridge,
)
from livechat.voice.gaps import VoiceLedger
from livechat.live.events import ErrorEvent, TurnFigures
from tests.unit.voice.test_bridge import _browser_frame, _Factory, _start_stream

WAIT = 10.0


class _WatchedClock:
    """A settable clock that lets a test wait until other threads have read it ``n`` times."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._reads = 0
        self._cond = threading.Condition()

    def __call__(self) -> float:
        with self._cond:
            self._reads += 1
            self._cond.notify_all()
            return self.now

    def advance(self, seconds: float) -> None:
        with self._cond:
            self.now += seconds

    def wait_reads(self, n: int) -> bool:
        """Wait for ``n`` more reads (each watchdog tick reads once); True if they came."""
        with self._cond:
            target = self._reads + n
            return self._cond.wait_for(lambda: self._reads >= target, WAIT)


def _bridge(clock: _WatchedClock, name: str, **kwargs) -> VoiceBridge:
    return VoiceBridge(name=name, clock=clock, watchdog_interval_s=0.01, **kwargs)


def _watchdogs(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"{name}-watchdog"]


def _errors(bridge: VoiceBridge) -> list[str]:
    return [e.event.message for e in bridge.poll_events() if isinstance(e.event, ErrorEvent)]


def test_a_gap_pauses_the_call_and_only_the_stall_bound_ends_it() -> None:
    clock, ledger = _WatchedClock(), VoiceLedger()
    bridge, factory = _bridge(clock, "wd-stall", ledger=ledger), _Factory()
    session = _start_stream(bridge, factory)
    assert len(_watchdogs("wd-stall")) == 1
    bridge.on_uplink_frame(_browser_frame(0))
    clock.advance(14.99)  # the default bound is 15 s
    assert clock.wait_reads(3)  # the watchdog looked (three ticks) and let it be
    assert session.stop_calls == 0 and bridge.stream_active and bridge.uplink_paused
    clock.advance(0.01)
    assert session.stopped.wait(WAIT)  # nobody called check_stream: the page is gone
    assert not bridge.stream_active
    bridge.close()
    assert not _watchdogs("wd-stall")
    assert ledger.snapshot().ended == {"stalled": 1}


class _Browser:
    """Fake probes: the websocket's state and the peer connection's, set by the test."""

    def __init__(self) -> None:
        self.connected = True
        self.peer = "connected"

    def signals(self) -> BrowserSignals:
        return BrowserSignals(connected=lambda: self.connected, peer_state=lambda: self.peer)


def _watched_call(name: str, **kwargs):
    """A call with fake browser probes that has carried one frame: (clock, ledger, browser, bridge, session)."""
    clock, ledger, browser = _WatchedClock(), VoiceLedger(), _Browser()
    bridge = _bridge(clock, name, ledger=ledger, **kwargs)
    bridge.watch_browser(browser.signals())
    session = _start_stream(bridge, _Factory())
    bridge.on_uplink_frame(_browser_frame(0))
    return clock, ledger, browser, bridge, session


def test_a_closed_tab_ends_the_call_after_the_reconnect_grace_not_the_stall_bound() -> None:
    clock, ledger, browser, bridge, session = _watched_call("wd-gone", drop_notice_grace_s=2.0,
                                                           reconnect_grace_s=1.0)
    browser.connected = False  # the tab closed: its websocket and its frames stop together
    assert clock.wait_reads(3)
    clock.advance(0.99)
    assert clock.wait_reads(3)
    assert session.stop_calls == 0
    clock.advance(0.01)
    assert session.stopped.wait(WAIT)
    assert ledger.snapshot().ended == {"browser gone": 1}
    clock.advance(2.0)
    assert _errors(bridge) == [STREAM_GONE_MESSAGE]
    bridge.close()


def test_a_closed_peer_connection_ends_the_call_at_once() -> None:
    clock, ledger, browser, bridge, session = _watched_call("wd-peer")
    assert clock.wait_reads(3)  # the watchdog saw it connected
    browser.peer = "failed"
    assert session.stopped.wait(WAIT)
    assert ledger.snapshot().ended == {"browser gone": 1}
    bridge.close()


def test_a_late_frame_with_the_browser_there_is_counted_and_reported_once() -> None:
    clock, ledger, browser, bridge, session = _watched_call("wd-late-frame")
    clock.advance(4.0)  # a frozen tab: no frames, but its connection is still there
    assert clock.wait_reads(3)
    assert bridge.uplink_paused and session.stop_calls == 0
    bridge.on_uplink_frame(_browser_frame(1))
    assert not bridge.uplink_paused
    assert (bridge.stats().uplink_gaps, bridge.stats().longest_gap_s) == (1, 4.0)
    session.emit(TurnFigures(3, 0.8, 120))
    events = [t.event for t in bridge.poll_events()]
    assert events == [TurnFigures(3, 0.8, 120), UplinkGaps(1, 4.0, 1)]
    session.emit(TurnFigures(5, 0.7, 90))
    assert [t.event for t in bridge.poll_events()] == [TurnFigures(5, 0.7, 90)]  # reported once
    snap = ledger.snapshot()
    assert (snap.calls, snap.gaps, snap.ended) == (1, 1, {})
    bridge.sync_stream(playing=False, signalling=False, factory=_Factory(), key="k")
    assert ledger.snapshot().ended == {"stopped": 1}
    bridge.close()


def test_frames_every_20ms_keep_the_session_alive() -> None:
    clock = _WatchedClock()
    bridge, factory = _bridge(clock, "wd-alive"), _Factory()
    session = _start_stream(bridge, factory)
    for i in range(100):  # 2 s of stream time, frames every 20 ms
        bridge.on_uplink_frame(_browser_frame(i))
        clock.advance(0.02)
        if i % 25 == 0:
            assert clock.wait_reads(2)
    assert session.stop_calls == 0 and bridge.stream_active
    bridge.close()


def test_no_frame_at_all_is_allowed_for_the_first_frame_timeout() -> None:
    clock = _WatchedClock()
    bridge, factory = _bridge(clock, "wd-first", first_frame_timeout_s=15.0), _Factory()
    session = _start_stream(bridge, factory)
    clock.advance(14.9)
    assert clock.wait_reads(3)
    assert session.stop_calls == 0
    clock.advance(0.1)
    assert session.stopped.wait(WAIT)
    bridge.close()


def test_a_stall_is_reported_only_after_the_grace_when_the_page_does_not_stop() -> None:
    clock = _WatchedClock()
    bridge, factory = _bridge(clock, "wd-report", drop_notice_grace_s=2.0), _Factory()
    session = _start_stream(bridge, factory)
    bridge.on_uplink_frame(_browser_frame(0))
    clock.advance(15.0)
    assert session.stopped.wait(WAIT)
    assert _errors(bridge) == []
    clock.advance(2.0)
    [message] = _errors(bridge)
    assert "for 15 s" in message and "START" in message
    assert _errors(bridge) == []  # reported once
    bridge.close()


def test_stop_shows_no_error_even_though_the_track_ended_first() -> None:
    """STOP: streamlit-webrtc ends the uplink track inside the run that sees the stop."""
    clock = _WatchedClock()
    bridge, factory = _bridge(clock, "wd-stop"), _Factory()
    session = _start_stream(bridge, factory)
    bridge.on_uplink_frame(_browser_frame(0))
    bridge.on_uplink_ended()  # worker.stop() closes the peer connection first
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")
    assert session.stopped.wait(WAIT)
    assert not _watchdogs("wd-stop")  # stopped and joined with the stream
    clock.advance(60.0)
    assert _errors(bridge) == []
    bridge.close()


def test_stop_after_the_watchdog_fired_shows_no_error() -> None:
    """A late page run after STOP: the frames stopped, the watchdog fired first."""
    clock = _WatchedClock()
    bridge, factory = _bridge(clock, "wd-late"), _Factory()
    session = _start_stream(bridge, factory)
    bridge.on_uplink_frame(_browser_frame(0))
    clock.advance(15.5)
    assert session.stopped.wait(WAIT)
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")
    clock.advance(60.0)
    assert _errors(bridge) == []
    bridge.close()


def test_a_dropped_track_without_stop_is_an_error_after_the_grace() -> None:
    clock = _WatchedClock()
    bridge, factory = _bridge(clock, "wd-drop", drop_notice_grace_s=2.0), _Factory()
    session = _start_stream(bridge, factory)
    bridge.on_uplink_frame(_browser_frame(0))
    bridge.on_uplink_ended()
    assert session.stopped.wait(WAIT)
    clock.advance(1.9)
    assert _errors(bridge) == []
    clock.advance(0.1)
    assert _errors(bridge) == [STREAM_DROPPED_MESSAGE]
    bridge.close()


def test_each_stream_has_its_own_watchdog_and_close_stops_it() -> None:
    clock = _WatchedClock()
    bridge, factory = _bridge(clock, "wd-close"), _Factory()
    _start_stream(bridge, factory)
    bridge.sync_stream(playing=False, signalling=False, factory=factory, key="k")
    assert not _watchdogs("wd-close")
    _start_stream(bridge, factory)
    assert len(_watchdogs("wd-close")) == 1
    bridge.close()
    assert not _watchdogs("wd-close")
    assert all(s.stop_calls >= 1 for s in factory.sessions)


def test_without_a_watchdog_no_thread_is_started() -> None:
    bridge, factory = VoiceBridge(name="wd-none", watchdog_interval_s=None), _Factory()
    _start_stream(bridge, factory)
    assert not _watchdogs("wd-none")
    bridge.close()
