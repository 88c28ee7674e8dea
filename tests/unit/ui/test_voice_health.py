"""The Settings page's voice lines and the browser probes the Talk page hands the bridge."""

from __future__ import annotations

from types import SimpleNamespace

from livechat.ui.browser_signals import browser_signals
from livechat.ui.voice_health import ledger_lines
from livechat.voice.gaps import LedgerSnapshot


def test_a_busy_host_shows_its_gaps_and_how_calls_ended() -> None:
    lines = ledger_lines(LedgerSnapshot(calls=3, gaps=4, longest_gap_s=4.2, gap_seconds=9.0,
                                        ended={"stopped": 2, "browser gone": 1}), 15.0)
    text = "\n".join(lines)
    assert "**Calls since the server started:** 3" in text
    assert "**Microphone gaps over 1 s:** 4 (longest 4.2 s, 9 s in all)" in text
    assert "**How calls ended:** browser gone 1, stopped 2" in text
    assert "after 15 s without microphone audio" in text


def test_a_quiet_host_says_none() -> None:
    lines = ledger_lines(LedgerSnapshot(0, 0, 0.0, 0.0, {}), 15.0)
    assert "**Microphone gaps over 1 s:** none" in lines
    assert not any(line.startswith("**How calls ended") for line in lines)


def test_the_peer_probe_reads_the_components_current_worker() -> None:
    worker = SimpleNamespace(pc=SimpleNamespace(connectionState="connected"))
    context = SimpleNamespace(_get_worker=lambda: worker)
    signals = browser_signals(context)
    assert signals.connected is None  # no script run context outside a served app
    assert signals.peer_state() == "connected"
    worker.pc.connectionState = "closed"
    assert signals.peer_state() == "closed"
    assert browser_signals(SimpleNamespace(_get_worker=lambda: None)).peer_state() is None
