"""A restart during a live call (issue 17.3): SIGTERM ends it cleanly.

An analyst is talking about a table set of two (a two-sheet workbook: issue 27, a set's
SQL worker must be stopped too); the app process gets SIGTERM (what systemd, Docker or
``deploy/serve`` send). Within 5 s the Live connection is closed normally (1000, as the
emulator saw it) and the WebRTC stream is closed (the browser's peer connection leaves
``connected``); the page shows the notice and the badge ``Session: closed``; the set's
SQL worker is gone and the process exits 0.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pandas as pd
import pytest

from livechat.ui.shutdown import CLOSE_BOUND_S, SHUTDOWN_NOTICE
from tests.e2e import harness
from tests.e2e.emulator_records import instruction_text
from tests.e2e.harness import voice_sessions

pytestmark = pytest.mark.e2e

_SQL_WORKER = re.compile(r"SQL worker (\d+) ready")
# The page's peer connection state, read in the component's frame.
_PC_STATES_JS = "() => (window.__pcs || []).map((pc) => pc.connectionState)"
_DTLS_STATES_JS = """async () => { const out = []; for (const pc of (window.__pcs || [])) {
  const stats = await pc.getStats(); stats.forEach((v) => { if (v.type === 'transport') out.push(
  [pc.connectionState, pc.iceConnectionState, v.dtlsState]); }); } return out; }"""
# wait_for wakes on the record change itself; this covers the poll's own overhead.
POLL_SLACK_S = 0.5
# The model sees both sheets of this workbook: a table set of two, one SQL worker for it.
TWO_TABLES = "You are Live Data Chat, a voice analyst for a dataset of 2 tables: orders, customers"


def _two_sheet_workbook(path):
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"order_id": [1, 2, 3], "customer_id": [10, 11, 10]}).to_excel(
            writer, sheet_name="Orders", index=False)
        pd.DataFrame({"customer_id": [10, 11], "region": ["North", "South"]}).to_excel(
            writer, sheet_name="Customers", index=False)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_ends_a_live_call_cleanly_and_exits_0(browser_factory, speech_wav, tmp_path):
    key = harness.random_api_key()
    emulator = harness.start_emulator(key)
    app = harness.AppServer.for_emulator(emulator, key, log_path=tmp_path / "app.log")
    try:
        app.start()
        with harness.app_failure_context(app, emulator):
            tab = browser_factory(speech_wav).new_page()
            tab.goto(app.url, "/")
            tab.upload(_two_sheet_workbook(tmp_path / "shop.xlsx"))  # a table set of two
            tab.navigate_to_talk()
            tab.start_voice()
            emulator.wait_for(lambda ss: any(s["audio_in_seconds"] > 0.5 for s in voice_sessions(ss)), timeout=45)
            (live,) = [s for s in voice_sessions(emulator.sessions()) if s["ended"] is None]
            assert instruction_text(live["effective_setup"]).startswith(TWO_TABLES)
            assert tab.webrtc_frame().evaluate(_PC_STATES_JS)[-1] == "connected"
            workers = [int(pid) for pid in _SQL_WORKER.findall(app.log_text())]
            assert workers and all(_alive(pid) for pid in workers)

            sent_at = time.monotonic()
            os.kill(app.pid, signal.SIGTERM)  # the process only, as an orchestrator does
            emulator.wait_for(lambda ss: any(s["id"] == live["id"] and s["ended"] for s in ss), timeout=15)
            closed_after = time.monotonic() - sent_at
            ended = next(s for s in emulator.sessions() if s["id"] == live["id"])["ended"]
            assert ended["code"] == 1000, f"the Live connection was not closed normally: {ended}"
            assert closed_after <= CLOSE_BOUND_S + POLL_SLACK_S, f"Live closed {closed_after:.1f} s after SIGTERM"

            # The page was told, and its stream is closed.
            tab.wait_for_transcript(SHUTDOWN_NOTICE[:40], timeout_s=10)
            assert tab.state_text() == "Session: closed"
            # The stream is closed: the browser stops receiving media within the bound.
            sent_wall = time.time() - (time.monotonic() - sent_at)
            tab.page.wait_for_timeout(max(0.0, CLOSE_BOUND_S + 1.5 - (time.monotonic() - sent_at)) * 1000)
            samples = tab.energy_samples()
            assert samples, "no getStats samples from the browser"
            grew = [b.t for a, b in zip(samples, samples[1:]) if b.packets > a.packets and b.connection == a.connection]
            assert grew and grew[0] < sent_wall, "no media flowed before SIGTERM: nothing was checked"
            last_packet_after = grew[-1] - sent_wall
            transport = tab.webrtc_frame().evaluate(_DTLS_STATES_JS)
            assert last_packet_after <= CLOSE_BOUND_S, (
                f"the browser still received media {last_packet_after:.1f} s after SIGTERM (transport: {transport})")
            assert samples[-1].t - sent_wall >= CLOSE_BOUND_S, "the browser was not watched long enough"

            # The process exits 0 by itself, its SQL worker gone.
            deadline = time.monotonic() + 30
            while app.running and time.monotonic() < deadline:
                time.sleep(0.2)  # waiting for the process to exit on its own
            assert not app.running, "the app did not exit within 30 s of SIGTERM"
            assert app.stop() == 0
            assert not [pid for pid in workers if _alive(pid)], "a SQL worker outlived the app"
            log = app.log_text()
            assert "SIGTERM: drained" in log and "'bridges': 1" in log and "'streams': 1" in log, log[-2000:]
            assert "'toolboxes': 1" in log, log[-2000:]  # the set's ToolBox was registered and stopped
    finally:
        app.stop()
        emulator.stop()
