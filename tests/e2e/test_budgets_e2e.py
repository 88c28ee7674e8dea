"""A call that reaches ``max_call_minutes`` in the browser (issue 28): warned in the
transcript, then ended: the Live connection closed normally (1000), the voice component
stopped (START is back) and the page's WebRTC peer connection no longer connected.

One lean check of what the integration tests cannot see: the page stopping the stream.
The limit comes from the environment fallback (``LIVECHAT_MAX_CALL_MINUTES``).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.harness import voice_sessions

pytestmark = pytest.mark.e2e

CALL_MINUTES = 0.15  # 9 s: under a minute, so the notice comes at once
_PC_STATES_JS = "() => (window.__pcs || []).map((pc) => pc.connectionState)"
_LAST_PC_LEFT_JS = "() => { const p = window.__pcs || []; return p.length > 0 && p[p.length - 1].connectionState !== 'connected'; }"


@pytest.fixture(scope="module")
def app_extra_env() -> dict[str, str]:
    return {"LIVECHAT_MAX_CALL_MINUTES": str(CALL_MINUTES)}


def test_a_call_at_max_call_minutes_is_warned_then_ended_with_its_stream_closed(e2e_stack, browser_factory,
                                                                                 speech_wav):
    emulator = e2e_stack.emulator
    tab = browser_factory(speech_wav).new_page()
    tab.open_talk(e2e_stack.app.url)
    tab.start_voice()
    tab.wait_for_transcript("This call ends in", timeout_s=30)
    assert tab.webrtc_frame().evaluate(_PC_STATES_JS)[-1] == "connected"
    text = tab.wait_for_transcript("The call was ended", timeout_s=30)
    assert "max_call_minutes" in text
    assert text.index("This call ends in") < text.index("The call was ended")

    (ended,) = [s["ended"] for s in emulator.wait_for(
        lambda ss: voice_sessions(ss) and all(s["ended"] for s in voice_sessions(ss)), timeout=15)
        if s in voice_sessions(emulator.sessions())]
    assert ended["code"] == 1000, ended
    # The page had the component stop its stream: START again, the peer connection left.
    tab.frame_locator().get_by_role("button", name="START").wait_for(timeout=15_000)
    # streamlit-webrtc's stop closes the peer connection 500 ms after it stops the tracks
    # (frontend `setTimeout(() => pc.close(), 500)`), so START can be back first.
    frame = tab.webrtc_frame()
    assert frame.evaluate(_PC_STATES_JS), "the page made no peer connection"
    try:
        frame.wait_for_function(_LAST_PC_LEFT_JS, timeout=10_000)
    except PlaywrightTimeoutError:
        pytest.fail(f"the peer connection is still connected 10 s after START came back: "
                    f"{frame.evaluate(_PC_STATES_JS)}")
