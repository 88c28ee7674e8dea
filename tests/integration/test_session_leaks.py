"""Start/stop cycles leave no thread, socket or other file descriptor behind."""

from __future__ import annotations

import threading

import pytest

from livechat.live.events import SessionState
from livechat.live.session import LiveSession, SessionOptions
from tests.integration.session_support import (
    Recorder,
    live_settings,
    open_fds,
    service_config,
    wait_until,
)

pytestmark = [pytest.mark.timeout(240),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]


def _our_threads() -> set[str]:
    # The emulator's own threads (server, synthesis pool) are not the session's to stop.
    return {t.name for t in threading.enumerate() if not t.name.startswith("livechat-emulator")}


# Stopped sessions stay referenced, as a Streamlit session state keeps its handle after
# stop(): whatever a stopped session still holds on to would show up as a leak.
_kept: list[LiveSession] = []


def _cycle(server, index: int, *, stop_at: str = "ready", question: str | None = None) -> None:
    session = LiveSession(config=service_config(server), settings=live_settings(),
                          options=SessionOptions(name=f"leak-{index}"))
    _kept.append(session)
    session.start()
    recorder = Recorder(session)
    if stop_at != "start":
        recorder.wait_state(SessionState.READY, SessionState.RECONNECTING, timeout=20)
    if question is not None:
        recorder.ask(question)
    assert session.stop(timeout=5.0), f"cycle {index}: thread still running after stop()"
    assert session.state in (SessionState.CLOSED, SessionState.ERROR)
    assert session.state is SessionState.CLOSED, session.last_error


def _baseline(server) -> tuple[set[str], int]:
    _kept.clear()
    # One warm-up cycle first: the SDK and TLS stack load lazily on first use.
    _cycle(server, -1, question="warm up?")
    return _our_threads(), open_fds()


def _assert_back_to(baseline: tuple[set[str], int]) -> None:
    threads, fds = baseline
    wait_until(lambda: _our_threads() == threads, 10, f"threads back to {sorted(threads)}")
    # Closed sockets may take a moment on the server side; ours must all be gone.
    wait_until(lambda: open_fds() <= fds, 10, f"open file descriptors back to {fds}")


def test_fifty_start_stop_cycles_leak_nothing(emulator) -> None:
    baseline = _baseline(emulator)
    for index in range(50):
        _cycle(emulator, index)
    _assert_back_to(baseline)
    assert len(emulator.sessions()) == 51


def test_two_hundred_mixed_cycles_leak_nothing(emulator_factory) -> None:
    steady = emulator_factory()
    # A server that recycles every connection almost at once: stops land mid-reconnection.
    churning = emulator_factory(go_away_after_s=0.02, go_away_time_left_s=1.0)
    baseline = _baseline(steady)
    _cycle(churning, -2)
    for index in range(200):
        kind = index % 4
        if kind == 0:
            _cycle(steady, index, stop_at="start")  # stop while still minting/connecting
        elif kind == 1:
            _cycle(steady, index)
        elif kind == 2:
            _cycle(steady, index, question=f"Cycle {index}?")
        else:
            _cycle(churning, index)
    _assert_back_to(baseline)
    assert len(churning.sessions()) > 50  # the churning server really did recycle connections
