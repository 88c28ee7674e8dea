"""livechat.ui.talk_status and livechat.ui.next_steps: the Talk page's state at a glance
and the next step of every error it can show."""

from __future__ import annotations

import pytest

from livechat.audio.playback import PlaybackBuffer, PlaybackStats
from livechat.live.errors import classify_close
from livechat.ui import next_steps, talk_status
from livechat.ui.next_steps import Situation, page_message, session_next_step, with_next_step
from livechat.voice.bridge import BADGE_STATES, STREAM_DROPPED_MESSAGE, STREAM_STALLED_MESSAGE

FRAME = 960  # 20 ms of 24 kHz PCM16


def test_every_badge_state_has_a_pill_with_an_icon_and_a_distinct_look_for_error() -> None:
    assert set(talk_status.PILLS) == set(BADGE_STATES)
    for state in BADGE_STATES:
        pill = talk_status.pill_for(state)
        assert pill.state == state and pill.icon and pill.tone
    tones = {state: talk_status.pill_for(state).tone for state in BADGE_STATES}
    assert tones["listening"] != tones["idle"] != tones["error"]
    assert tones["responding"] not in (tones["listening"], tones["error"])
    # A state word from a newer bridge still renders (neutral), never fails the page.
    assert talk_status.pill_for("paused").tone == "neutral"


def test_speaking_follows_the_playback_buffer_not_the_session_state() -> None:
    buffer = PlaybackBuffer(sample_rate=24_000)
    quiet = buffer.stats()
    assert not talk_status.model_speaking(None, quiet, streaming=True)

    buffer.write(bytes(FRAME * 5))  # reply audio queued for the browser
    queued = buffer.stats()
    assert talk_status.model_speaking(quiet, queued, streaming=True)
    # Without a voice stream nothing plays (typed answers get a player instead).
    assert not talk_status.model_speaking(quiet, queued, streaming=False)

    for _ in range(5):  # the downlink drains it: the last of it is still being heard
        buffer.read(FRAME)
    drained = buffer.stats()
    assert drained.buffered_bytes == 0
    assert talk_status.model_speaking(queued, drained, streaming=True)
    # One poll later with nothing new read: silent again.
    buffer.read(FRAME)
    assert not talk_status.model_speaking(drained, buffer.stats(), streaming=True)


def test_barge_in_stops_the_speaking_indicator_at_once() -> None:
    buffer = PlaybackBuffer(sample_rate=24_000)
    buffer.write(bytes(FRAME * 50))
    before = buffer.stats()
    assert talk_status.model_speaking(None, before, streaming=True)
    buffer.clear()  # serverContent.interrupted
    assert not talk_status.model_speaking(before, buffer.stats(), streaming=True)


def test_counters_of_a_new_bridge_do_not_read_as_speech() -> None:
    old = PlaybackStats(dropped_bytes=0, underruns=0, cleared_bytes=0, written_bytes=10_000,
                        read_bytes=10_000)
    fresh = PlaybackBuffer().stats()
    assert not talk_status.model_speaking(old, fresh, streaming=True)


@pytest.mark.parametrize(("state", "live"), [(s, s == "listening") for s in BADGE_STATES])
def test_the_meter_moves_only_while_listening(state: str, live: bool) -> None:
    assert talk_status.meter_live(state) is live


def test_every_page_situation_has_a_next_step() -> None:
    assert set(next_steps.PAGE_STEPS) == set(Situation)
    for situation in Situation:
        text = page_message(situation, "some detail")
        _, step = next_steps.PAGE_STEPS[situation]
        assert text.endswith(step) and "some detail" in text
    assert page_message(Situation.ICE, "ice_servers entry 1: bad url").startswith(
        "Voice is not configured correctly: ice_servers entry 1: bad url. Check the TURN settings")
    assert page_message(Situation.PREPARE) == (
        "Voice is unavailable: the session could not be prepared. Reload the page; if it happens again, "
        "the server log has the details.")


@pytest.mark.parametrize(("message", "expected"), [
    ("The API key was rejected (HTTP 400). Check GEMINI_API_KEY.", "Check the API key"),
    ("The API key was rejected (HTTP 400): it is not a valid key. Check the Gemini API key you pasted.",
     "Press “Forget my key”"),
    (str(classify_close(1007, "API key not valid")), "Check the API key"),
    (str(classify_close(1008, "token expired")), "Press START again (it mints a new token)"),
    (str(classify_close(1007, "bad field")), "Check the model"),
    ("The token endpoint was not found at https://x (HTTP 404). Check GEMINI_BASE_URL.", "Check the endpoint"),
    ("The TLS certificate of https://x is not trusted (SSLError). Check GEMINI_CA_FILE.", "Check the CA file"),
    ("The service's rate limit or quota was reached (HTTP 429).", "Wait a minute"),
    (f"{classify_close(1006, '')} Reconnecting…", "Wait a moment"),
    (str(classify_close(1011, "")), "Press START again."),
    ("The ICE connection failed: no TURN relay was reachable.", "Check the TURN settings"),
])
def test_session_errors_get_the_next_step_of_their_row(message: str, expected: str) -> None:
    assert session_next_step(message).startswith(expected)
    shown = with_next_step(message)
    assert shown.startswith(message) and shown.endswith(session_next_step(message))


def test_messages_that_already_end_with_a_step_are_not_repeated() -> None:
    for message in (STREAM_DROPPED_MESSAGE, STREAM_STALLED_MESSAGE.format(seconds=1),
                    page_message(Situation.SEND, "queue full"),
                    page_message(Situation.SESSION_START, "The API key was rejected (HTTP 400).")):
        assert with_next_step(message) == message.strip()


def test_the_announcer_reads_the_newest_finished_reply_only() -> None:
    from livechat.conversation.transcript import Entry

    def reply(text: str, final: bool = True) -> Entry:
        return Entry("message", text, role="model", final=final)

    assert talk_status.latest_reply([]) is None
    assert talk_status.latest_reply([Entry("message", "hello", role="user")]) is None
    entries = [reply("First answer."), Entry("message", "and?", role="user")]
    assert talk_status.latest_reply(entries) == "First answer."
    # A reply still streaming changes nothing: the announcer is not read letter by letter.
    assert talk_status.latest_reply([*entries, reply("Second ans", final=False)]) == "First answer."
    assert talk_status.latest_reply([*entries, reply(" Second answer. ")]) == "Second answer."
    assert talk_status.latest_reply([*entries, Entry("error", "boom")]) == "First answer."
