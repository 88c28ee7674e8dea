"""START/STOP leaks (issue 10.4, browser part): a dozen cycles in one page leave nothing behind.

Each cycle starts the WebRTC stream, waits until the emulator hears audio from it (so the
whole chain ran: peer connection, bridge, Live session), stops it and waits for the Live
session to end. Afterwards the app server's threads and open file descriptors (from
/proc) must be back at the baseline taken after one warm-up cycle, and every emulator
session must be ended.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e import harness
from tests.e2e.harness import voice_sessions

pytestmark = pytest.mark.e2e

# Baseline after one warm-up cycle: lazily created pools (asyncio's default executor, the
# session's tool pool, aiortc's and streamlit-webrtc's loop helpers) exist by then. What
# remains is noise that does not grow with the number of cycles: an idle executor worker
# that is reaped late, a socket whose close is still in flight. A leak of one thread or one
# descriptor per cycle exceeds these after CYCLES cycles (12 > 8 > 3); more cycles would only
# make the test longer (20 did: ~35 s more of the suite's slowest part).
THREAD_TOLERANCE = 3
FD_TOLERANCE = 8
CYCLES = 12
assert CYCLES > max(THREAD_TOLERANCE, FD_TOLERANCE), "a leak of one per cycle must exceed the tolerance"
SETTLE_TIMEOUT_S = 20.0


def _settled(app: harness.AppServer, timeout_s: float = SETTLE_TIMEOUT_S) -> tuple[int, int]:
    """Counts once two readings 0.5 s apart agree (or the last reading after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    last = app.threads_and_fds()
    while time.monotonic() < deadline:
        time.sleep(0.5)  # sampling interval of a steady-state check
        now = app.threads_and_fds()
        if now == last:
            return now
        last = now
    return last


def _cycle(tab: harness.TalkPage, emulator, known: set[str]) -> str:
    """One START/STOP cycle; returns the id of the Live session it opened."""
    tab.start_voice()
    sessions = emulator.wait_for(
        lambda ss: any(s["audio_in_seconds"] > 0.2 for s in voice_sessions(ss) if s["id"] not in known), timeout=20)
    [session] = [s for s in voice_sessions(sessions) if s["id"] not in known]
    tab.stop_voice()
    emulator.wait_for(lambda ss: all(s["ended"] for s in ss if s["id"] == session["id"]), timeout=5)
    known.add(session["id"])
    return session["id"]


def test_start_stop_cycles_leave_no_threads_fds_or_sessions(e2e_stack, browser_factory, speech_wav):
    emulator, app = e2e_stack.emulator, e2e_stack.app
    tab = browser_factory(speech_wav).new_page()
    tab.open_talk(app.url)
    known = e2e_stack.session_ids()
    before = set(known)

    _cycle(tab, emulator, known)  # warm-up: lazily created pools and caches
    base_threads, base_fds = _settled(app)

    readings = []
    for index in range(CYCLES):
        _cycle(tab, emulator, known)
        if index in (CYCLES // 2 - 1, CYCLES - 1):
            readings.append(app.threads_and_fds())

    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    threads, fds = app.threads_and_fds()
    while time.monotonic() < deadline and (threads > base_threads + THREAD_TOLERANCE or fds > base_fds + FD_TOLERANCE):
        time.sleep(0.5)  # sampling interval while late closes finish
        threads, fds = app.threads_and_fds()

    detail = (f"baseline {base_threads} threads / {base_fds} fds; after {CYCLES // 2} and {CYCLES} cycles "
              f"{readings}; final {threads} threads / {fds} fds")
    print(detail)
    assert threads <= base_threads + THREAD_TOLERANCE, f"threads leaked: {detail}"
    assert fds <= base_fds + FD_TOLERANCE, f"file descriptors leaked: {detail}"
    # This test's sessions (the emulator serves other modules' tests too).
    open_sessions = [s["id"] for s in emulator.sessions() if s["ended"] is None and s["id"] not in before]
    assert not open_sessions, f"emulator sessions still open: {open_sessions}"
    opened = [s for s in voice_sessions(emulator.sessions()) if s["id"] not in before]
    assert len(opened) == CYCLES + 1, f"expected one Live session per cycle: {harness.sessions_summary(opened)}"
