"""Every model of the table end to end against the emulator: mint -> connect -> typed turn
-> tool call -> resume (issue 15), with the setup the table says that model gets."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from livechat.config import DEFAULT_MODEL, ServiceConfig
from livechat.live.events import SessionState, ToolCallFinished
from livechat.live.models import MODELS, model_info
from livechat.live.session import RECONNECTED_NOTICE, LiveSession
from livechat.live.tokens import LiveSettings
from livechat.summary.vocabulary import custom_vocabulary
from livechat.tools.toolbox import ToolBox, live_tools, response_scheduling
from tests.integration.session_support import (
    INSTRUCTION,
    Recorder,
    assert_ended_cleanly,
    service_config,
)

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]

KEEPERS = pd.DataFrame({
    "keeper_name": ["Ada", "Brann", "Cora", "Ada"],
    "storm_nights": [3, 5, 2, 4],
    "station": ["North Rock", "Gull Point", "North Rock", "Gull Point"],
})
SQL = "SELECT count(*) AS n FROM data"
NAMES = [name for row in MODELS for name in (row.id, *row.aliases)]


def _tool_answered(recorder: Recorder) -> bool:
    return any("run_sql tool returned" in t and '"rows": [[4]]' in t for t in recorder.finals("model"))


@pytest.mark.parametrize("model", NAMES)
def test_every_model_mint_connect_typed_turn_tool_call_and_resume(emulator, model: str) -> None:
    info = model_info(model)
    vocabulary = custom_vocabulary(KEEPERS)
    settings = LiveSettings(model=model, system_instruction=INSTRUCTION,
                            tools=tuple(live_tools(KEEPERS)), custom_vocabulary=vocabulary)
    toolbox = ToolBox(KEEPERS)
    session = LiveSession(config=replace(service_config(emulator), model=model), settings=settings, tool_executor=toolbox.execute,
                          tool_scheduling=response_scheduling)
    try:
        session.start()
        recorder = Recorder(session)
        recorder.wait_state(SessionState.READY)
        recorder.ask("How many keepers are there?")

        session.send_text(f"call run_sql {json.dumps({'query': SQL})}")
        recorder.wait_for(lambda _: _tool_answered(recorder), 20, "the tool result spoken")
        [finished] = [e for e in recorder.events if isinstance(e, ToolCallFinished)]
        assert not finished.cancelled and finished.result["rows"] == [[4]]

        # Drop the connection mid-reply: the session resumes with its handle.
        sent = emulator.sessions()[0]["server_messages"]
        emulator.set_options(close_after_messages=sent + 3, close_code=1011)
        session.send_text("And after the drop?")
        recorder.wait_for(lambda _: RECONNECTED_NOTICE in recorder.notices(), 20, "reconnected")
        emulator.set_options(close_after_messages=None)
        recorder.wait_state(SessionState.READY)
        recorder.ask("Still there?")
    finally:
        assert_ended_cleanly(session)
        toolbox.close()

    first, second = emulator.wait_for(lambda s: len(s) == 2 and all(r["ended"] for r in s))
    assert first["model"].endswith(model) and second["resumed_from"] == first["id"]
    assert not [e for e in recorder.errors() if not e.recoverable]
    # The table decided the setup: behaviours where the model takes them, vocabulary where documented.
    expected = {"run_sql": "NON_BLOCKING", "describe_column": "BLOCKING", "show_chart": "NON_BLOCKING"} \
        if info.async_tools else dict.fromkeys(("run_sql", "describe_column", "show_chart"), "BLOCKING")
    assert first["function_behaviors"] == expected
    assert first["custom_vocabulary"] == (list(vocabulary) if info.custom_vocabulary else None)
    [call] = first["tool_calls"]
    assert call["behavior"] == expected["run_sql"]
    if info.async_tools:
        assert call["scheduling"] == "WHEN_IDLE"


def test_with_no_gemini_model_the_effective_setup_is_38_with_explicit_behaviours_and_vocabulary(
        emulator) -> None:
    config = ServiceConfig(api_key=service_config(emulator).api_key, base_url=emulator.base_url,
                           ca_file=emulator.ca_file)
    assert config.model == DEFAULT_MODEL == "gemini-3.8-live"
    vocabulary = custom_vocabulary(KEEPERS)
    session = LiveSession(config=config, settings=LiveSettings(
        model=config.model, system_instruction=INSTRUCTION, tools=tuple(live_tools(KEEPERS)),
        custom_vocabulary=vocabulary))
    try:
        session.start()
        recorder = Recorder(session)
        recorder.wait_state(SessionState.READY)
        recorder.ask("Hello?")
    finally:
        assert_ended_cleanly(session)
    record = emulator.wait_for(lambda s: s and s[0]["ended"])[0]
    setup = record["effective_setup"]
    assert setup["model"] == "models/gemini-3.8-live"
    declarations = setup["tools"][0]["functionDeclarations"]
    assert {d["name"]: d["behavior"] for d in declarations} == {
        "run_sql": "NON_BLOCKING", "describe_column": "BLOCKING", "show_chart": "NON_BLOCKING"}
    assert setup["inputAudioTranscription"]["customVocabulary"] == list(vocabulary)
    assert "keeper name" in vocabulary and "North Rock" in vocabulary


def test_an_unknown_model_is_refused_in_plain_words_without_a_retry_loop(emulator) -> None:
    config = ServiceConfig(api_key=service_config(emulator).api_key, base_url=emulator.base_url,
                           ca_file=emulator.ca_file, model="gemini-9.9-live")
    session = LiveSession(config=config, settings=LiveSettings(
        model=config.model, system_instruction=INSTRUCTION))
    try:
        session.start()
        recorder = Recorder(session)
        recorder.wait_state(SessionState.ERROR)
    finally:
        assert_ended_cleanly(session)
    [error] = recorder.errors()
    assert error.code == 1008 and not error.recoverable
    assert "does not know this model" in error.message and "GEMINI_MODEL" in error.message
    assert len(emulator.sessions()) == 1
