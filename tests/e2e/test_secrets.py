"""Secrets never reach the browser (issue 10.5): not the API key, not a token name.

Every HTTP response body and every WebSocket frame the page receives (the component's
iframe included: its requests and its signalling ride on the same page) is recorded
through a full conversation: the Data page, voice, a typed question, a tool call and the
Settings page. Neither the app's API key nor any ``auth_tokens/`` name may appear in
them, in the final DOM, or in the app's log.

The app also holds Community Cloud's TURN secrets, both pairs streamlit-webrtc reads
(``CLOUDFLARE_TURN_KEY_ID`` / ``_API_TOKEN``, ``TWILIO_ACCOUNT_SID`` / ``_AUTH_TOKEN``):
its ICE servers are minted from Cloudflare's fake credential endpoint
(``tests.fake_turn_services``, reached through the app's HTTPS proxy variables), so the
managed-TURN path runs for real, and none of the four values may appear either. The
minted servers name a TURN server on a closed TCP port: both peers give up on it at
once and connect over host candidates.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator

import pytest

from tests.e2e.harness import SAMPLE_NAME, TrafficRecorder, voice_sessions
from tests.fake_turn_services import CLOUDFLARE_PAIR, TWILIO_PAIR, FakeTurnServices

pytestmark = pytest.mark.e2e

TOKEN_NAME = re.compile(rb"auth_tokens/[A-Za-z0-9_\-]{4,}")
TYPED_QUESTION = "Which keeper logged the most storm nights?"
SQL = "SELECT keeper, count(*) AS n FROM data WHERE storm_night GROUP BY keeper ORDER BY n DESC LIMIT 3"


TURN_SECRETS = {"CLOUDFLARE_TURN_KEY_ID": CLOUDFLARE_PAIR[0], "CLOUDFLARE_TURN_KEY_API_TOKEN": CLOUDFLARE_PAIR[1],
                "TWILIO_ACCOUNT_SID": TWILIO_PAIR[0], "TWILIO_AUTH_TOKEN": TWILIO_PAIR[1]}


@pytest.fixture(scope="module")
def turn_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeTurnServices]:
    with socket.socket() as probe:  # a port nothing listens on: the relay fails at once
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with FakeTurnServices(tmp_path_factory.mktemp("fake-turn"), cloudflare=CLOUDFLARE_PAIR, twilio=TWILIO_PAIR,
                          relay_urls=(f"turn:127.0.0.1:{closed}?transport=tcp",), with_stun=False) as fake:
        yield fake


@pytest.fixture(scope="module")
def app_extra_env(turn_services: FakeTurnServices) -> dict[str, str]:
    return {**turn_services.environment(), **TURN_SECRETS}


def _mine(sessions: list[dict], known: set[str]) -> list[dict]:
    return [s for s in voice_sessions(sessions) if s["id"] not in known]


def test_no_key_or_token_reaches_the_browser_or_the_log(e2e_stack, browser_factory, speech_wav, turn_services):
    emulator, app = e2e_stack.emulator, e2e_stack.app
    tab = browser_factory(speech_wav).new_page()
    recorder = TrafficRecorder()
    recorder.attach(tab.page)
    known = e2e_stack.session_ids()

    tab.goto(app.url, "/")
    tab.model_view_instruction(SAMPLE_NAME)
    tab.navigate_to_talk()
    tab.start_voice()
    emulator.wait_for(lambda ss: any(s["audio_out_seconds"] > 0 for s in _mine(ss, known)), timeout=30)

    tab.ask(TYPED_QUESTION)
    emulator.wait_for(lambda ss: any(TYPED_QUESTION in (t["input"] or "") for s in _mine(ss, known)
                                     for t in s["turns"]), timeout=30)
    tab.ask(f"call run_sql {json.dumps({'query': SQL})}")
    emulator.wait_for(lambda ss: any(c["response"] is not None for s in _mine(ss, known)
                                     for c in s["tool_calls"]), timeout=30)
    tab.page.locator("[data-testid='stExpander']", has_text="Tool: run_sql").first.wait_for(timeout=20_000)
    tab.stop_voice()
    emulator.wait_for(lambda ss: all(s["ended"] for s in _mine(ss, known)), timeout=5)
    if tab.navigate("Settings", "/settings"):
        print(f"the Settings link needed {tab.nav_retries} extra click(s) after STOP")
    tab.page.get_by_text("API key:").first.wait_for(timeout=20_000)
    dom = tab.page.content().encode()
    recorder.collect_bodies()

    token_names = {s["token"] for s in _mine(emulator.sessions(), known) if s["token"]}
    token_names |= {t["name"] for t in emulator.tokens() if t.get("name")}
    assert token_names, "the conversation minted no token: nothing was checked"
    # Controls: the recording holds what the page showed (the dataset name, the reply)
    # and the component iframe's own files, so an absent secret means something.
    for shown in (SAMPLE_NAME, "[speech ", TYPED_QUESTION, "Tool: run"):
        assert recorder.find([shown]), f"the recording misses {shown!r}, which the page showed"
    assert any("streamlit_webrtc" in url for url, _ in recorder.bodies), "the component iframe was not recorded"
    assert [r.host for r in turn_services.requests][:1] == ["rtc.live.cloudflare.com"], \
        "the app minted no TURN servers from the Cloudflare pair: its secrets were not exercised"
    needles = [e2e_stack.api_key, *sorted(token_names), *TURN_SECRETS.values()]

    leaks = recorder.find(needles)
    leaks += [f"{n[:12]}… in the final DOM" for n in needles if n.encode() in dom]
    leaks += [f"an auth_tokens/ name in {kind} from {url}"
              for kind, items in (("response", recorder.bodies), ("websocket frame", recorder.frames))
              for url, data in items if TOKEN_NAME.search(data)]
    assert not leaks, "secrets reached the browser:\n" + "\n".join(leaks)

    log = app.log_text()
    assert e2e_stack.api_key not in log, "the API key is in the app log"
    assert not [name for name, value in TURN_SECRETS.items() if value in log], "a TURN secret is in the app log"
    logged = [name for name in token_names if name in log]
    assert not logged and not TOKEN_NAME.search(log.encode()), "a token name is in the app log"
