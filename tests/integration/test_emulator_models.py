"""Every model of the emulator's table, and the 3.8 rules, through the real SDK (LIVE_PROTOCOL 8.1)."""

from __future__ import annotations

import asyncio

import pytest
from google.genai import errors, types

from livechat.emulator.models import MODELS
from tests.conftest import make_genai_client
from tests.integration.emulator_support import live_error, mint, only_session, receive_turn, receive_until

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")

G38 = "gemini-3.8-live"
G38_THINKING = "gemini-3.8-live-extended-thinking"
G31 = "gemini-3.1-flash-live-preview"
TRANSCRIBED = {"input_audio_transcription": {}, "output_audio_transcription": {}}


def run(coro, timeout: float = 30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def sql_tool(behavior: types.Behavior | None = None) -> types.Tool:
    return types.Tool(function_declarations=[types.FunctionDeclaration(
        name="run_sql", description="Run a query", behavior=behavior,
        parameters={"type": "OBJECT", "properties": {"sql": {"type": "STRING"}}})])


def typed_turn(server, model: str, text: str = "hello", config: dict | None = None):
    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=model, config={**TRANSCRIBED, **(config or {})}) as session:
            await session.send_realtime_input(text=text)
            return await receive_turn(session)
    return run(scenario())


@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_in_the_table_answers(emulator, model):
    turn = typed_turn(emulator, model)
    assert turn.output_text.startswith('You said: "hello".') and turn.turn_complete
    record = emulator.wait_for(lambda s: s and s[-1]["ended"] is not None)[-1]
    assert record["model"] == model and record["model_family"] == MODELS[model].family


def test_unknown_model_is_refused_1008_with_the_services_text_cut_at_123_bytes(emulator):
    error = live_error(emulator, "test-key", model="gemini-9.9-live")
    assert error.code == 1008
    reason = only_session(emulator)["ended"]["reason"]
    assert reason.startswith("models/gemini-9.9-live is not found for API version v1alpha, or is not supported "
                             "for bidiGenerateContent. Call ListModels")
    assert len(reason.encode()) == 123 and reason in error.details


@pytest.mark.parametrize("model, config, field", [
    (G38, {"thinking_config": types.ThinkingConfig(thinking_level="LOW")}, "generation_config.thinking_config"),
    (G38, {"thinking_config": {"thinking_budget": 0}}, "generation_config.thinking_config"),
    (G38_THINKING, {"thinking_config": {"thinking_level": "MINIMAL"}},
     "generation_config.thinking_config.thinking_level"),
    (G38_THINKING, {"thinking_config": {"thinking_budget": 512}}, "generation_config.thinking_config.thinking_budget"),
    (G38, {"proactivity": {"proactive_audio": False}}, "proactivity.proactive_audio"),
    (G38, {"enable_affective_dialog": True}, "generation_config.enable_affective_dialog"),
    (G38, {"response_modalities": ["TEXT"]}, "response_modalities TEXT"),
])
def test_38_refuses_what_its_model_page_removed_with_1007_naming_the_field(emulator, model, config, field):
    error = live_error(emulator, "test-key", config=config, model=model)
    assert error.code == 1007
    assert field in only_session(emulator)["ended"]["reason"]


@pytest.mark.parametrize("level", ["LOW", "medium", "HIGH"])
def test_38_extended_thinking_accepts_thinking_levels(emulator, level):
    turn = typed_turn(emulator, G38_THINKING, config={"thinking_config": {"thinking_level": level}})
    assert turn.turn_complete


def test_38_accepts_proactive_audio_on_and_tokens_carry_the_same_rules(emulator):
    assert typed_turn(emulator, G38, config={"proactivity": {"proactive_audio": True}}).turn_complete
    token = mint(emulator, live_connect_constraints={"model": G38, "config": {"enable_affective_dialog": True}})
    assert live_error(emulator, token, model=G38).code == 1007


@pytest.mark.parametrize("model, voice, refused", [
    (G38, "Kore", False), (G38, "en-us-tavi", False), (G31, "Kore", False), (G31, "en-us-tavi", True),
    ("gemini-2.5-flash-native-audio-preview-12-2025", "en-us-tavi", True),
])
def test_voices_classic_names_everywhere_catalog_ids_on_38_only(emulator, model, voice, refused):
    config = {"speech_config": {"voice_config": {"prebuilt_voice_config": {"voice_name": voice}}}}
    if refused:
        error = live_error(emulator, "test-key", config=config, model=model)
        assert error.code == 1007 and "no matching speaker voice" in error.details
    else:
        assert typed_turn(emulator, model, config=config).turn_complete


def test_custom_vocabulary_is_accepted_and_recorded_from_a_setup_and_a_token(emulator):
    words = ["keeper_name", "storm nights", "Skerryvore"]
    config = {"input_audio_transcription": types.AudioTranscriptionConfig(custom_vocabulary=words)}
    assert typed_turn(emulator, G38, config=config).turn_complete
    assert only_session(emulator)["custom_vocabulary"] == words

    token = mint(emulator, live_connect_constraints={"model": G38, "config": config})

    async def scenario():
        async with make_genai_client(emulator, token).aio.live.connect(model=G38) as session:
            await session.send_realtime_input(text="hi")
            await receive_turn(session)
    run(scenario())
    record = emulator.wait_for(lambda s: len(s) == 2 and s[1]["ended"] is not None)[1]
    assert record["custom_vocabulary"] == words
    assert record["effective_setup"]["inputAudioTranscription"] == {"customVocabulary": words}


# ---------------------------------------------------------------- tool behaviour and scheduling

def _tool_session(server, model: str, tool: types.Tool, scheduling, *, then_text: str | None = None,
                  mid_reply: bool = False):
    """Ask for run_sql; answer the call with ``scheduling``; collect messages until the result is spoken.

    ``mid_reply``: answer once the interim reply's first audio arrived (it is paced in real
    time, so the answer lands while it is still being spoken); else answer at once.
    Returns (messages in order, the call). With ``then_text`` (SILENT), that is asked next,
    and the collection ends with its reply.
    """

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=model, config={"tools": [tool], **TRANSCRIBED}) as session:
            await session.send_realtime_input(text='call run_sql {"sql": "select 1"}')
            seen = await receive_until(session, lambda m: m.tool_call is not None)
            call = seen[-1].tool_call.function_calls[0]
            if mid_reply:
                seen += await receive_until(session, lambda m: bool(m.data))
            await session.send_tool_response(function_responses=[types.FunctionResponse(
                id=call.id, name=call.name, response={"rows": 7}, scheduling=scheduling)])
            if then_text is not None:
                seen += (await receive_turn(session)).messages  # the pending reply runs to its end
                await session.send_realtime_input(text=then_text)
                seen += (await receive_turn(session)).messages
                return seen, call
            seen += await receive_until(session, lambda m: bool(
                m.server_content and m.server_content.output_transcription
                and "returned" in m.server_content.output_transcription.text))
            seen += (await receive_turn(session)).messages
            return seen, call

    return run(scenario())


def _events(messages) -> list[str]:
    """A compact event list: tool_call, say:<text start>, interrupted, complete."""
    events: list[str] = []
    for message in messages:
        content = message.server_content
        if message.tool_call:
            events.append("tool_call")
        if content and content.output_transcription and (not events or not events[-1].startswith("say:")):
            events.append("say:" + content.output_transcription.text.split()[0])
        if content and content.interrupted:
            events.append("interrupted")
        if content and content.turn_complete:
            events.append("complete")
    return events


def test_38_calls_are_non_blocking_and_when_idle_waits_for_the_turns_end(emulator_factory):
    server = emulator_factory(realtime=True)
    messages, call = _tool_session(server, G38, sql_tool(), types.FunctionResponseScheduling.WHEN_IDLE,
                                   mid_reply=True)
    # The reply went on while the call was pending; the result came after that turn's end.
    assert _events(messages) == ["tool_call", "say:Let", "complete", "say:The", "complete"]
    record = server.wait_for(lambda s: s[0]["tool_calls"] and s[0]["tool_calls"][0]["response"])[0]
    assert record["tool_calls"][0]["behavior"] == "NON_BLOCKING"
    assert record["tool_calls"][0]["scheduling"] == "WHEN_IDLE"
    assert record["function_behaviors"] == {"run_sql": "NON_BLOCKING"}


def test_38_interrupt_scheduling_cuts_the_reply_for_the_result(emulator_factory):
    server = emulator_factory(realtime=True)
    messages, _ = _tool_session(server, G38, sql_tool(), "INTERRUPT", mid_reply=True)
    assert _events(messages) == ["tool_call", "say:Let", "interrupted", "complete", "say:The", "complete"]
    text = "".join(m.server_content.output_transcription.text for m in messages
                   if m.server_content and m.server_content.output_transcription)
    assert text.endswith('The run_sql tool returned: {"rows": 7}')


def test_38_silent_scheduling_adds_the_result_without_speaking_it(emulator_factory):
    server = emulator_factory(realtime=False)
    messages, _ = _tool_session(server, G38, sql_tool(), "SILENT", then_text="and now?")
    events = _events(messages)
    assert events == ["tool_call", "say:Let", "complete", "say:You", "complete"]
    record = server.wait_for(lambda s: s[0]["tool_calls"][0]["scheduling"] == "SILENT")[0]
    assert record["tool_calls"][0]["response"] == {"rows": 7}
    assert [turn["kind"] for turn in record["turns"]] == ["tool_async", "text"]


def test_38_blocking_declaration_still_blocks(emulator):
    messages, _ = _tool_session(emulator, G38, sql_tool(types.Behavior.BLOCKING), "INTERRUPT")
    # No interim reply: the turn waited for the response, and scheduling is ignored for BLOCKING calls.
    assert _events(messages) == ["tool_call", "say:The", "complete"]
    record = emulator.sessions()[0]
    assert record["tool_calls"][0]["behavior"] == "BLOCKING"


@pytest.mark.parametrize("model, behavior", [(G38, "NON_BLOCKING"), (G31, "BLOCKING"),
                                             ("gemini-live-2.5-flash-native-audio", "BLOCKING")])
def test_default_behaviour_follows_the_model(emulator, model, behavior):
    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=model, config={"tools": [sql_tool()]}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            await receive_until(session, lambda m: m.tool_call is not None)
    run(scenario())
    assert only_session(emulator)["tool_calls"][0]["behavior"] == behavior


def test_38_question_while_a_call_is_pending_is_answered_and_the_call_stays_open(emulator):
    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=G38, config={"tools": [sql_tool()], **TRANSCRIBED}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            seen = await receive_until(session, lambda m: m.tool_call is not None)
            call = seen[-1].tool_call.function_calls[0]
            await receive_turn(session)
            await session.send_realtime_input(text="how many keepers?")
            second = await receive_turn(session)
            await session.send_tool_response(function_responses=[types.FunctionResponse(
                id=call.id, name=call.name, response={"rows": 3})])
            third = await receive_turn(session)
            return second, third

    second, third = run(scenario())
    assert second.output_text.startswith('You said: "how many keepers?"')
    assert not any(m.tool_call_cancellation for m in second.messages)
    assert third.output_text == 'The run_sql tool returned: {"rows": 3}'


def test_snake_and_camel_case_behavior_and_scheduling_on_the_wire(emulator):
    """Raw frames, as another client may send them: camelCase and the enum names."""
    import json
    import websockets
    from tests.integration.emulator_support import live_uri, ssl_context

    async def scenario():
        async with websockets.connect(live_uri(emulator, query="?key=test-key"), ssl=ssl_context(emulator)) as ws:
            await ws.send(json.dumps({"setup": {"model": f"models/{G38}", "tools": [{"function_declarations": [
                {"name": "run_sql", "behavior": "BLOCKING"}]}]}}))
            await ws.recv()
            await ws.send(json.dumps({"realtimeInput": {"text": "call run_sql {}"}}))
            call = json.loads(await ws.recv())["toolCall"]["functionCalls"][0]
            await ws.send(json.dumps({"tool_response": {"function_responses": [
                {"id": call["id"], "response": {"ok": True}, "will_continue": False, "scheduling": "SILENT"}]}}))
            while "turnComplete" not in json.dumps(json.loads(await ws.recv())):
                pass

    run(scenario())
    record = emulator.sessions()[0]
    assert record["tool_calls"][0]["behavior"] == "BLOCKING" and record["tool_calls"][0]["response"] == {"ok": True}
