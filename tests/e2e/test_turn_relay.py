"""Voice through a TURN relay (issue 17.1), with Debian's coturn inside the namespace.

The app gets ``LIVECHAT_TURN_URLS`` + ``LIVECHAT_TURN_SECRET`` (it mints per-session
credentials, TURN REST API scheme) and ``LIVECHAT_ICE_TRANSPORT_POLICY=relay``, so the
browser may only use relay candidates: a completed voice turn then proves the relay
carries the media. Checked over UDP and over TCP to the TURN server (``?transport=tcp``,
what a proxy-only network allows): ``getStats`` shows the selected pair's local candidate
is a ``relay`` one (with the expected relay protocol), and coturn logged allocations.
With a wrong secret the Talk page says "no relay candidate…" instead of connecting for
ever. The long-term secret appears in no HTTP response, WebSocket frame, DOM or log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from livechat.ui.ice import NO_RELAY_MESSAGE
from tests.e2e import harness
from tests.e2e.harness import TrafficRecorder, voice_sessions
from tests.e2e.turn_server import TurnServer, turn_unavailable_reason
from tests.e2e.voice_turn import voice_turn
from tests.requirements_gate import unavailable

pytestmark = pytest.mark.e2e

MINTED_USERNAME = re.compile(rb"\d{10}:[0-9a-f]{16}")

# Reads the selected candidate pair of every recorded peer connection (E2E.md: prove the
# relay with getStats: the nominated, succeeded pair's local candidate type).
_SELECTED_PAIRS_JS = """async () => {
  const out = [];
  for (const pc of (window.__pcs || [])) {
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((v) => byId.set(v.id, v));
    let pair = null, transport = {};
    stats.forEach((v) => { if (v.type === 'transport' && v.selectedCandidatePairId) { transport = v; pair = byId.get(v.selectedCandidatePairId); } });
    if (!pair) stats.forEach((v) => { if (v.type === 'candidate-pair' && v.state === 'succeeded' && v.nominated) pair = v; });
    if (!pair) continue;
    const local = byId.get(pair.localCandidateId) || {};
    out.push({state: pc.iceConnectionState, type: local.candidateType, relayProtocol: local.relayProtocol || null,
              pairBytesReceived: pair.bytesReceived || 0, bytesReceived: transport.bytesReceived || 0,
              bytesSent: transport.bytesSent || 0, pairs: Array.from(byId.values()).filter((v) => v.type === 'candidate-pair')
                .map((v) => [v.state, v.nominated, v.bytesReceived, v.bytesSent, (byId.get(v.localCandidateId) || {}).candidateType])});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnServer]:
    reason = turn_unavailable_reason()
    if reason is not None:
        unavailable(f"the relay tests cannot run: {reason}")
    server = TurnServer(tmp_path_factory.mktemp("turn") / "turnserver.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def emulator_and_key() -> Iterator[tuple[object, str]]:
    key = harness.random_api_key()
    emulator = harness.start_emulator(key)
    try:
        yield emulator, key
    finally:
        emulator.stop()


def _app(emulator: object, key: str, turn: TurnServer, *, transport: str, secret: str, log: Path) -> harness.AppServer:
    return harness.AppServer.for_emulator(emulator, key, log_path=log, extra_env={
        "LIVECHAT_TURN_URLS": turn.url(transport),
        "LIVECHAT_TURN_SECRET": secret,
        "LIVECHAT_ICE_TRANSPORT_POLICY": "relay",
    })


def _mine(sessions: list[dict], known: set[str]) -> list[dict]:
    return [s for s in voice_sessions(sessions) if s["id"] not in known]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_voice_turn_goes_through_the_relay(transport, turn, emulator_and_key, browser_factory, single_question_wav,
                                              tmp_path):
    emulator, key = emulator_and_key
    app = _app(emulator, key, turn, transport=transport, secret=turn.secret, log=tmp_path / "app.log").start()
    try:
        with harness.app_failure_context(app, emulator):
            tab = browser_factory(single_question_wav).new_page()
            recorder = TrafficRecorder()
            recorder.attach(tab.page)
            known = {s["id"] for s in emulator.sessions()}
            allocations_before = turn.allocations()
            tab.open_talk(app.url)
            # A whole turn: speech reached the model and its reply audio was sent back.
            voice_turn(tab, emulator, app.log_text, wanted=lambda ss: [
                s for s in _mine(ss, known) if s["audio_in_seconds"] > 0.5 and s["audio_out_seconds"] > 0])
            energy = tab.energy_samples()
            assert energy and max(e.packets for e in energy) > 0, "no reply audio packets reached the browser"

            pairs = tab.webrtc_frame().evaluate(_SELECTED_PAIRS_JS)
            assert pairs, "the browser has no selected candidate pair"
            selected = pairs[-1]
            assert selected["type"] == "relay", f"the selected pair is not relayed: {pairs}"
            assert selected["relayProtocol"] == transport, f"expected a relay reached over {transport}: {pairs}"
            assert selected["bytesReceived"] > 0 and selected["bytesSent"] > 0, pairs
            assert turn.allocations() > allocations_before, "coturn logged no allocation"

            tab.stop_voice()
            emulator.wait_for(lambda ss: all(s["ended"] for s in _mine(ss, known)), timeout=10)
            dom = tab.page.content()
            recorder.collect_bodies()
            # Control: the recording holds the minted credentials the browser was given
            # (username "<expiry>:<id>"), so a secret sent the same way would be seen.
            assert any(MINTED_USERNAME.search(data) for _, data in recorder.frames + recorder.bodies), \
                "the minted TURN username is not in the recording: it cannot show a leak"
            leaks = recorder.find([turn.secret])
            if turn.secret in dom:
                leaks.append("the TURN secret is in the final DOM")
            assert not leaks, "the TURN secret reached the browser:\n" + "\n".join(leaks)
            assert turn.secret not in app.log_text(), "the TURN secret is in the app log"
    finally:
        app.stop()


def test_wrong_credentials_say_no_relay_candidate(turn, emulator_and_key, browser_factory, speech_wav, tmp_path):
    emulator, key = emulator_and_key
    app = _app(emulator, key, turn, transport="udp", secret="not-the-secret-" + turn.secret[-6:],
               log=tmp_path / "app.log").start()
    try:
        with harness.app_failure_context(app, emulator):
            tab = browser_factory(speech_wav).new_page()
            tab.open_talk(app.url)
            tab.start_voice()
            text = tab.wait_for_transcript(NO_RELAY_MESSAGE, timeout_s=40)
            assert "check the TURN server and its credentials" in harness.squash(text)
            assert tab.state_text() != "Session: connecting"
            pairs = tab.webrtc_frame().evaluate(_SELECTED_PAIRS_JS)
            assert not any(p["type"] == "relay" and p["bytesReceived"] > 0 for p in pairs), pairs
    finally:
        app.stop()
