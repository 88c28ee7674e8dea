"""The default model in the browser (issues 15 and 16).

* ``test_tool_call_on_the_default_model_and_a_question_while_it_runs``: on
  ``gemini-3.8-live`` (no ``GEMINI_MODEL`` set), a typed question that makes the model call
  ``run_sql`` ends with the tool's result quoted in the spoken reply, the session still
  open, the call shown collapsed; a second question typed while the call runs is answered.
* ``test_like_service_run``: the emulator with ``--like-service`` on the default model
  (stall after tool responses, input transcripts 12 s late, usage at generation start,
  empty frames, multipart messages, input refused during blocking calls, unresumable
  updates during calls): a spoken question, a typed question, a tool call, an injected
  mid-call 1008 and 1007 (the typed question whose reply each close cut is asked again on
  the resumed connection and answered; so is the next one), one transcript, per-turn captions.
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from tests.e2e import harness
from tests.e2e.conftest import E2EStack
from tests.e2e.harness import squash, voice_sessions

pytestmark = pytest.mark.e2e

SQL = "SELECT count(*) AS pairs FROM data a, data b WHERE a.wind_knots > b.wind_knots"
CONTENT_TYPE_AUDIO = "The audio content type (CONTENT_TYPE_AUDIO) is not supported for this model configuration."


def _new(stack: E2EStack, known: set[str]) -> list[dict]:
    return [s for s in voice_sessions(stack.emulator.sessions()) if s["id"] not in known]


def test_tool_call_on_the_default_model_and_a_question_while_it_runs(e2e_stack, browser_factory, speech_wav):
    tab = browser_factory(speech_wav).new_page()
    tab.open_talk(e2e_stack.app.url)
    known = e2e_stack.session_ids()
    page = tab.page

    emulator = e2e_stack.emulator
    # The query is held (its worker frozen) from before the call until the second question
    # is in the transcript, which the app writes once the question is on the socket: ahead
    # of the toolResponse on the same socket, whatever the machine's load. (A query slow by
    # its own work once starved the page's rerun on a loaded machine until it had ended.)
    with e2e_stack.app.sql_workers_held():
        tab.ask(f"call run_sql {json.dumps({'query': SQL})}")
        emulator.wait_for(lambda ss: any(s["tool_calls"] for s in _new(e2e_stack, known)), timeout=30)
        tab.ask("While that runs, how many keepers are there?")
        running = page.locator("[data-testid='stExpander']", has_text="Tool: run_sql (running")
        running.first.wait_for(timeout=30_000)

    def both_done(ss: list[dict]) -> bool:
        turns = [t for s in _new(e2e_stack, known) for t in s["turns"]]
        return (any(t["kind"] == "tool_result" and t["output"] for t in turns)
                and any(t["input"].startswith("While that runs") and t["output"] for t in turns))

    emulator.wait_for(both_done, timeout=60)
    [session] = _new(e2e_stack, known)
    assert session["effective_setup"]["model"] == "models/gemini-3.8-live"
    [call] = session["tool_calls"]
    assert call["behavior"] == "NON_BLOCKING" and call["scheduling"] == "WHEN_IDLE"
    response = call["response"]
    # The second question reached the model while the call was pending, and was answered.
    kinds = [(t["kind"], t["input"]) for t in session["turns"]]
    second = next(i for i, (_, text) in enumerate(kinds) if text.startswith("While that runs"))
    result = next(i for i, (kind, _) in enumerate(kinds) if kind == "tool_result")
    assert second < result, kinds
    tab.wait_for_transcript('You said: "While that runs, how many keepers are there?"', timeout_s=30)
    # The result is quoted in the spoken reply, and shown under the collapsed call.
    quoted = json.dumps(response, sort_keys=True, ensure_ascii=False)[:40]
    tab.wait_for_transcript(squash(f"The run_sql tool returned: {quoted}"), timeout_s=30)
    done = page.locator("[data-testid='stExpander']", has_text="Tool: run_sql (done)").first
    done.wait_for(timeout=15_000)
    assert done.locator("details").get_attribute("open") is None  # collapsed
    # The session is still open.
    assert emulator.sessions()[-1]["ended"] is None
    assert "error" not in tab.state_text().lower()


@pytest.fixture(scope="module")
def like_service_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EStack]:
    logs = tmp_path_factory.mktemp("e2e-like-service")
    api_key = harness.random_api_key()
    emulator = harness.start_emulator(api_key, like_service=True, late_input_transcription_s=4.0)
    app = harness.AppServer.for_emulator(emulator, api_key, log_path=logs / "like_service.log")
    try:
        app.start()
        yield E2EStack(api_key=api_key, emulator=emulator, app=app)
    finally:
        app.stop()
        emulator.stop()


@pytest.fixture(scope="module")
def one_question_wav(e2e_assets):
    """The spoken question once, then quiet for the rest of the test (the fake microphone
    loops its file: with the shorter ``single_question_wav`` the question comes again)."""
    return harness.make_speech_wav(e2e_assets, harness.SPEECH_TEXT, name="speech-once.wav",
                                   pad_before=2.0, pad_after=150.0)


def test_like_service_run(like_service_stack, browser_factory, one_question_wav):
    stack = like_service_stack
    emulator = stack.emulator
    tab = browser_factory(one_question_wav).new_page()
    tab.open_talk(stack.app.url)
    known = stack.session_ids()

    # A spoken question: answered; its transcript arrives late, and goes above the reply.
    tab.start_voice()
    emulator.wait_for(lambda ss: any(t["kind"] == "audio" and t["output"]
                                     for s in _new(stack, known) for t in s["turns"]), timeout=60)
    first = _new(stack, known)[0]
    assert first["effective_setup"]["model"] == "models/gemini-3.8-live" and "stall_after_tool_response" in first["service_behaviours"]
    heard = next(t["input"] for t in first["turns"] if t["kind"] == "audio")
    tab.wait_for_transcript(squash(heard), timeout_s=30)

    # A typed question, a tool call (the 3.x stall is lifted by the session's input).
    tab.ask("How many lighthouses are there?")
    tab.wait_for_transcript('You said: "How many lighthouses are there?"', timeout_s=30)
    tab.ask(f"call run_sql {json.dumps({'query': 'SELECT count(*) AS n FROM data'})}")
    tab.wait_for_transcript("The run_sql tool returned:", timeout_s=30)

    # Injected mid-call closes: 1008 (3.1's routine abort) and 1007 (2.5's audio content type),
    # each a few messages into the reply to a question; the next question is answered.
    for code, reason, trigger, follow_up in (
            (1008, "The operation was aborted", "Before the first drop?", "After the first drop?"),
            (1007, CONTENT_TYPE_AUDIO, "Before the second drop?", "After the second drop?")):
        sent = emulator.sessions()[-1]["server_messages"]
        emulator.set_options(close_after_messages=sent + 3, close_code=code, close_reason=reason)
        connections = len(_new(stack, known))
        tab.ask(trigger)
        emulator.wait_for(lambda ss: len(_new(stack, known)) > connections, timeout=30)
        emulator.set_options(close_after_messages=None, close_reason=None)
        tab.wait_for_transcript("Reconnected", timeout_s=30)
        # The question whose reply the close cut is asked again on the resumed connection
        # and answered there in full.
        answered = emulator.wait_for(lambda ss: any(
            t["input"] == trigger and t["output"] and not t["interrupted"]
            for t in _new(stack, known)[-1]["turns"]), timeout=40)
        assert answered
        again = next(t for t in _new(stack, known)[-1]["turns"] if t["input"] == trigger)
        tab.wait_for_transcript(squash(again["output"]), timeout_s=30)
        tab.ask(follow_up)
        tab.wait_for_transcript(f'You said: "{follow_up}"', timeout_s=40)

    text = squash(tab.transcript_text())
    # One transcript: every question once, in order (a re-asked one is not repeated), each answered.
    questions = ["How many lighthouses are there?", "Before the first drop?", "After the first drop?",
                 "Before the second drop?", "After the second drop?"]
    typed = [m for m in tab.user_messages() if m in questions]
    assert typed == questions, tab.user_messages()
    for question in questions:
        assert f'You said: "{question}"' in text, question
    assert text.index(squash(heard)) < text.index("How many lighthouses are there?")
    # Per-turn captions and the conversation total.
    assert "first audio" in text and "tokens" in text and "This conversation:" in text
    # Both injected closes were recovered by resuming (the last two connections).
    sessions = _new(stack, known)
    assert sessions[-1]["resumed_from"] == sessions[-2]["id"]
    assert sessions[-2]["resumed_from"] == sessions[-3]["id"]
    assert "error" not in tab.state_text().lower()
