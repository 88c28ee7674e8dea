"""Voice end to end (issue 8): a browser microphone to the emulated model and its reply back.

The fake microphone plays the spoken question in a loop (0.5 s silence, ~2.3 s speech,
1.0 s silence), so the emulator's VAD ends an utterance ~0.6 s into the trailing silence,
the reply starts, and the next loop's speech interrupts it about a second later: one
cycle shows the uplink, the downlink and barge-in (with reply audio sent 3 s ahead of
real time, so that a queue which is not dropped would be heard). A second test asks once and then
stays quiet (25 s of silence in the file), so the reply runs to its end and its
transcript is whole.

The emulator and the browser share the machine's clock: the emulator's records carry no
timestamps, so the test stamps the moment a record changes (``wait_for`` wakes on every
record update) and compares the browser's 50 ms getStats samples against those stamps.
"""

from __future__ import annotations

import time

import pytest

from livechat.voice.stream import GONE_LOG, STALL_LOG, TRACK_ENDED_LOG
from tests.e2e import harness
from tests.e2e.harness import SAMPLE_NAME, instruction_text, squash, voice_sessions

pytestmark = pytest.mark.e2e

# Functional bound from issue 8: Stop ends the Live session within 2 s.
CLOSE_BOUND_S = 2.0
# wait_for wakes on the record change itself; this only covers the poll's own overhead.
POLL_SLACK_S = 0.25
MIN_ENVELOPE_CORRELATION = 0.6
# The emulator normally paces reply audio only 0.2 s ahead of real time, too little for
# a browser to tell a flushed queue from one played out (the browser's own pipeline adds
# 0.3-0.7 s, measured). The real service sends faster than real time; with a 3 s lead,
# ~2 s of reply audio is queued in the app when `interrupted` arrives, so a queue that
# is not dropped keeps playing for ~2 s.
REPLY_LEAD_S = 3.0
# After `interrupted` the browser still plays what is already downstream of the app's
# queue (encoder, network, jitter buffer): about the reply's own onset latency. This
# covers the spread of that latency within one reply and the 50 ms sampling.
FLUSH_SLACK_S = 0.4
# The interrupting speech lasts ~2.3 s and the VAD needs 0.6 s of silence after it, so no
# new reply starts within this time after the interruption.
QUIET_UNTIL_S = 2.4
MAX_SILENCE_RATIO = 0.02


@pytest.fixture
def early_reply_audio(e2e_stack):
    """Make the emulator send reply audio REPLY_LEAD_S ahead of real time, for this test only."""
    emulator = e2e_stack.emulator
    before = emulator.options.pacing_lead_s
    emulator.set_options(pacing_lead_s=REPLY_LEAD_S)
    yield
    emulator.set_options(pacing_lead_s=before)


def _new_voice(sessions: list[dict], known: set[str]) -> list[dict]:
    return [s for s in voice_sessions(sessions) if s["id"] not in known]


def _one(sessions: list[dict], session_id: str) -> dict:
    return next(s for s in sessions if s["id"] == session_id)


def _wait_until(deadline: float, tab: harness.TalkPage) -> None:
    """Let the browser run (and keep sampling) until ``deadline`` (epoch s): an observation window."""
    remaining = deadline - time.time()
    if remaining > 0:
        tab.page.wait_for_timeout(remaining * 1000)


def test_voice_reaches_the_model_and_the_reply_reaches_the_browser(e2e_stack, browser_factory, speech_wav,
                                                                     speech_envelope, early_reply_audio):
    emulator, app = e2e_stack.emulator, e2e_stack.app
    tab = browser_factory(speech_wav).new_page()
    tab.goto(app.url, "/")
    shown = tab.model_view_instruction(SAMPLE_NAME)
    tab.navigate_to_talk()
    known = e2e_stack.session_ids()

    tab.start_voice()

    # -- uplink: >= 1 s of 16 kHz speech through the constrained endpoint, with the WAV's shape.
    # Wait for two loops of the WAV (~8 s) so the envelope comparison spans whole loops.
    sessions = emulator.wait_for(
        lambda ss: any(s["audio_in_seconds"] >= 8.0 for s in _new_voice(ss, known)), timeout=30)
    [session] = _new_voice(sessions, known)
    assert session["endpoint"] == "constrained" and session["auth"] == "token"
    assert session["audio_in_rate"] == 16000
    assert session["audio_in_seconds"] >= 1.0
    correlation = harness.envelope_match(session["audio_in_envelope"], speech_envelope)
    assert correlation >= MIN_ENVELOPE_CORRELATION, (
        f"the audio the emulator heard is not shaped like the WAV: correlation {correlation:.2f} "
        f"< {MIN_ENVELOPE_CORRELATION}")

    # -- the instruction: locked in the token, naming the dataset, equal to what the Data page shows.
    assert "systemInstruction" not in (session["client_setup"] or {}), "the client sent its own instruction"
    instruction = instruction_text(session["effective_setup"])
    first_line = instruction.split("\n", 1)[0]
    assert first_line.startswith(harness.INSTRUCTION_PREFIX)
    assert f'"{SAMPLE_NAME}"' in first_line
    assert _normalise(instruction) == _normalise(shown), "the session's instruction differs from 'What the model sees'"

    # -- downlink, then barge-in. Replies and interruptions have been cycling with the
    # loop; align on one: the end of the current (or next) reply, then the next reply's
    # first chunk, then its interruption by the next loop's speech.
    session_id = session["id"]
    seen = _one(emulator.sessions(), session_id)
    emulator.wait_for(lambda ss: _one(ss, session_id)["interruptions"] > seen["interruptions"], timeout=20)
    between = _one(emulator.sessions(), session_id)
    emulator.wait_for(lambda ss: _one(ss, session_id)["audio_out_seconds"] > between["audio_out_seconds"],
                      timeout=20)
    reply_seen = time.time()
    emulator.wait_for(lambda ss: _one(ss, session_id)["interruptions"] > between["interruptions"], timeout=20)
    interrupted_at = time.time()
    _wait_until(interrupted_at + QUIET_UNTIL_S + 0.2, tab)
    samples = tab.energy_samples()
    after = _one(emulator.sessions(), session_id)

    interrupted_turns = [t for t in after["turns"] if t["interrupted"]]
    assert interrupted_turns, f"the emulator counted an interruption but no interrupted turn: {after['turns']}"
    heard = harness.first_energy_rise(samples, after=reply_seen)
    assert heard is not None and heard < interrupted_at + FLUSH_SLACK_S, (
        "the browser's inbound audio energy did not rise after the reply started")
    onset = heard - reply_seen
    reply_power = harness.energy_rate(samples, heard, interrupted_at)
    packets = [s.packets for s in samples if reply_seen <= s.t <= interrupted_at]
    assert len(packets) >= 2 and packets[-1] > packets[0], "no RTP packets arrived in the browser during the reply"
    assert reply_power is not None and reply_power > 1e-4, f"the browser received no reply audio: power {reply_power}"
    quiet_from = interrupted_at + onset + FLUSH_SLACK_S
    silence_power = harness.energy_rate(samples, quiet_from, interrupted_at + QUIET_UNTIL_S)
    assert silence_power is not None, "no getStats samples after the interruption"
    jitter = harness.jitter_buffer_delay(samples, reply_seen, interrupted_at)
    assert silence_power < MAX_SILENCE_RATIO * reply_power, (
        f"queued reply audio kept playing after `interrupted`: power {silence_power:.2e} from "
        f"{quiet_from - interrupted_at:.2f} s after it vs {reply_power:.2e} during the reply (reply onset "
        f"latency {onset:.2f} s, browser jitter buffer {jitter if jitter is None else round(jitter, 3)} s)")

    # -- the state badge is there and names a state.
    assert tab.state_text().startswith("Session: ")

    # -- Stop ends the Live session within 2 s.
    stop_clicked = tab.click_stop()  # the click the component received (the page may move it)
    _assert_ended_within(emulator, session_id, stop_clicked, "STOP")
    tab.frame_locator().get_by_role("button", name="START").wait_for(timeout=15_000)
    assert not [s for s in _new_voice(emulator.sessions(), known) if s["ended"] is None], "a session is still open"


def test_whole_reply_transcript_and_closing_the_tab(e2e_stack, browser_factory, single_question_wav):
    emulator, app = e2e_stack.emulator, e2e_stack.app
    tab = browser_factory(single_question_wav).new_page()
    tab.open_talk(app.url)
    known = e2e_stack.session_ids()

    tab.start_voice()

    # The question is heard once; the reply runs to its end (nothing interrupts it).
    sessions = emulator.wait_for(
        lambda ss: any(t["output"] and not t["interrupted"] for s in _new_voice(ss, known) for t in s["turns"]),
        timeout=60)
    [session] = _new_voice(sessions, known)
    turn = next(t for t in session["turns"] if t["output"] and not t["interrupted"])
    first_line = instruction_text(session["effective_setup"]).split("\n", 1)[0]
    assert f'"{SAMPLE_NAME}"' in first_line
    assert f'My instructions begin: "{first_line}"' in turn["output"]

    # The whole reply, as the emulator spoke it, including the quoted first line.
    tab.wait_for_transcript(squash(turn["output"]), timeout_s=15)
    assert session["audio_in_rate"] == 16000

    # Closing the tab without Stop ends the Live session, on a sign that the browser left
    # (its connection, its peer connection or its track), not on the 15 s stall bound.
    log_before = len(app.log_text())
    closed = time.monotonic()
    tab.close()
    _assert_ended_by_the_browser_leaving(e2e_stack, session["id"], closed, log_before)


def _assert_ended_within(emulator, session_id: str, action_at: float, action: str) -> None:
    """Assert the session ended within CLOSE_BOUND_S of ``action_at`` (monotonic).

    On failure, keep watching (up to 30 s) only to report how long it really took.
    """
    def ended(ss: list[dict]) -> bool:
        return _one(ss, session_id)["ended"] is not None

    try:
        emulator.wait_for(ended, timeout=max(0.0, action_at + CLOSE_BOUND_S + POLL_SLACK_S - time.monotonic()))
        return
    except TimeoutError:
        pass
    try:
        snapshot = emulator.wait_for(ended, timeout=30.0)
        took = f"it ended after {time.monotonic() - action_at:.1f} s ({_one(snapshot, session_id)['ended']})"
    except TimeoutError:
        took = "it was still open 30 s later"
    raise AssertionError(f"{action} did not end the Live session within {CLOSE_BOUND_S} s: {took}")


def _assert_ended_by_the_browser_leaving(stack, session_id: str, closed_at: float, log_before: int) -> None:
    """The Live session ended (polled, generous timeout) and the app says why: the browser left.

    The reasons that mean it (GONE_LOG, TRACK_ENDED_LOG) act within about a second; the
    stall bound (STALL_LOG) would take 15 s and must not be what ended it. The time taken
    is printed, not asserted.
    """
    stack.emulator.wait_for(lambda ss: _one(ss, session_id)["ended"] is not None, timeout=60)
    took = time.monotonic() - closed_at
    log = stack.app.log_text()[log_before:]
    reasons = [line for line in log.splitlines() if GONE_LOG in line or TRACK_ENDED_LOG in line]
    print(f"closing the tab ended the Live session after {took:.2f} s: {reasons[:1]}")
    assert reasons, f"the app logged no browser-gone reason for ending the session:\n{log[-3000:]}"
    assert STALL_LOG not in log, "the stall bound ended the session, not a sign that the browser left"


def _normalise(text: str) -> str:
    """Trailing spaces and line endings aside, the exact text."""
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_a_bookmarked_talk_page_works_as_the_first_request_of_a_server(e2e_stack, browser_factory, speech_wav,
                                                                        tmp_path):
    """``/talk`` opened directly, as the first request after a server (re)start, offers voice on the sample."""
    app = harness.AppServer.for_emulator(e2e_stack.emulator, e2e_stack.api_key, log_path=tmp_path / "fresh-app.log")
    app.start()
    try:
        with harness.app_failure_context(app):
            tab = browser_factory(speech_wav).new_page()
            tab.deep_link_talk(app.url)
            assert SAMPLE_NAME in tab.page.locator('[data-testid="stSidebar"]').inner_text()
    finally:
        app.stop()
