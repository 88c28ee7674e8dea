"""The real service's rough edges as emulator options (LIVE_PROTOCOL 8.3-8.5), seen through the SDK."""

from __future__ import annotations

import asyncio

import pytest
from google.genai import errors, types

from livechat.emulator import faults
from tests.conftest import LIVE_MODEL, make_genai_client
from tests.integration.emulator_support import only_session, receive_turn, receive_until

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")

G38 = "gemini-3.8-live"
TRANSCRIBED = {"input_audio_transcription": {}, "output_audio_transcription": {}}
SQL = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="run_sql", description="Run a query", parameters={"type": "OBJECT", "properties": {"sql": {"type": "STRING"}}})])
BLOCKING_SQL = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="run_sql", description="Run a query", behavior=types.Behavior.BLOCKING)])
CONTENT_TYPE_AUDIO = "The audio content type (CONTENT_TYPE_AUDIO) is not supported for this model configuration."


def run(coro, timeout: float = 30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connect(server, model: str = LIVE_MODEL, config: dict | None = None):
    return make_genai_client(server, "test-key").aio.live.connect(model=model, config=config or {})


async def answer_call(session, message, response: dict | None = None, **extra) -> None:
    call = message.tool_call.function_calls[0]
    await session.send_tool_response(function_responses=[types.FunctionResponse(
        id=call.id, name=call.name, response=response or {"rows": 7}, **extra)])


# ---------------------------------------------------------------- closes

def test_close_reason_injects_a_mid_call_1007_with_the_real_text(emulator_factory):
    server = emulator_factory(close_after_messages=3, close_code=1007, close_reason=CONTENT_TYPE_AUDIO)

    async def scenario():
        async with connect(server) as session:
            await session.send_realtime_input(text="hello")
            await receive_turn(session)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == 1007 and CONTENT_TYPE_AUDIO in str(info.value)
    assert only_session(server)["ended"]["reason"] == CONTENT_TYPE_AUDIO


def test_close_every_s_closes_each_connection_with_the_given_code_and_reason(emulator_factory):
    server = emulator_factory(realtime=True, close_every_s=0.5, close_code=1008,
                              close_reason="The operation was aborted")

    async def one_connection():
        async with connect(server) as session:
            await session.send_realtime_input(text="tell me about the lighthouse keepers and their storm nights")
            while True:
                await receive_turn(session)

    for _ in range(2):  # every connection, not only the first
        with pytest.raises(errors.APIError) as info:
            run(one_connection())
        assert info.value.code == 1008 and "The operation was aborted" in str(info.value)
    records = server.wait_for(lambda s: len(s) == 2 and all(r["ended"] for r in s))
    assert [r["ended"]["code"] for r in records] == [1008, 1008]


@pytest.mark.parametrize("mode, busy, code, reason", [
    ("deadline", False, 1011, faults.DEADLINE_EXPIRED_REASON),
    ("service", True, 1011, faults.DEADLINE_EXPIRED_REASON),
    ("service", False, 1008, "Connection aborted because the client failed to close the connection"),
    ("lingering", True, 1008, "Connection aborted because the client failed to close the connection"),
])
def test_go_away_deadline_closes(emulator_factory, mode, busy, code, reason):
    # busy: a blocking call is left unanswered, so an operation is still running at the deadline.
    server = emulator_factory(go_away_after_s=0.2, go_away_time_left_s=0.3, go_away_close=mode)

    async def scenario():
        async with connect(server, config={"tools": [BLOCKING_SQL]} if busy else {}) as session:
            if busy:
                await session.send_realtime_input(text="call run_sql {}")
            while True:
                await receive_turn(session)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == code and reason in str(info.value)


def test_session_limit_close_has_the_services_text(emulator_factory):
    server = emulator_factory(session_duration_limit_s=0.2)

    async def scenario():
        async with connect(server) as session:
            while True:
                await receive_turn(session)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == 1011
    assert only_session(server)["ended"]["reason"].startswith(
        "The session duration limit was reached. Connection closed. You may reconnect and resume this session")


# ---------------------------------------------------------------- input around tool calls

def test_input_during_a_blocking_call_is_refused_1008(emulator_factory):
    server = emulator_factory(refuse_input_during_tool_call=True)

    async def scenario():
        async with connect(server, config={"tools": [SQL]}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            await receive_until(session, lambda m: m.tool_call is not None)
            await session.send_realtime_input(text="and another thing")
            await receive_turn(session)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == 1008 and "Operation is not implemented, or supported, or enabled." in str(info.value)
    assert "while blocking call(s)" in only_session(server)["ended"]["detail"]


def test_a_tool_response_first_then_input_is_fine(emulator_factory):
    server = emulator_factory(refuse_input_during_tool_call=True)

    async def scenario():
        async with connect(server, config={"tools": [SQL], **TRANSCRIBED}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            seen = await receive_until(session, lambda m: m.tool_call is not None)
            await answer_call(session, seen[-1])
            await receive_turn(session)
            await session.send_realtime_input(text="and another thing")
            return await receive_turn(session)

    assert run(scenario()).output_text.startswith('You said: "and another thing"')


@pytest.mark.parametrize("stall", [True, False])
def test_stall_after_tool_response_until_realtime_input(emulator_factory, stall):
    server = emulator_factory(stall_after_tool_response=stall)

    async def scenario():
        async with connect(server, config={"tools": [SQL], **TRANSCRIBED}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            seen = await receive_until(session, lambda m: m.tool_call is not None)
            await answer_call(session, seen[-1])
            if stall:
                # The emulator holds the reply: it waits for realtime input before generating.
                await asyncio.to_thread(server.wait_for, lambda s: s[0]["stalls"] == 1)
                await session.send_realtime_input(text=" ")  # the pipecat workaround: a nudge, not a question
            return await receive_turn(session)

    turn = run(scenario())
    assert turn.output_text == 'The run_sql tool returned: {"rows": 7}'
    record = server.wait_for(lambda s: s[0]["turns"])[0]
    assert record["stalls"] == (1 if stall else 0)
    assert record["turns"][0].get("stalled", False) is stall
    assert len(record["turns"]) == 1  # the nudge started no turn of its own


# ---------------------------------------------------------------- transcripts

def test_late_input_transcription_arrives_after_the_reply(emulator_factory):
    server = emulator_factory(late_input_transcription_s=3.0)

    async def scenario():
        async with connect(server, config=TRANSCRIBED) as session:
            await session.send_realtime_input(text="how many keepers?")
            return await receive_until(session, lambda m: bool(
                m.server_content and m.server_content.input_transcription))

    messages = run(scenario())
    complete = next(i for i, m in enumerate(messages) if m.server_content and m.server_content.turn_complete)
    assert complete < len(messages) - 1
    assert messages[-1].server_content.input_transcription.text == "how many keepers?"


def test_incremental_input_transcription_comes_a_few_characters_at_a_time(emulator_factory):
    server = emulator_factory(incremental_input_transcription=True)

    async def scenario():
        async with connect(server, config=TRANSCRIBED) as session:
            await session.send_realtime_input(text="how many keepers?")
            return await receive_turn(session)

    pieces = [m.server_content.input_transcription for m in run(scenario()).messages
              if m.server_content and m.server_content.input_transcription]
    assert "".join(p.text for p in pieces) == "how many keepers?"
    assert len(pieces) == 5 and all(len(p.text) <= 4 for p in pieces)
    assert [bool(p.finished) for p in pieces] == [False] * 4 + [True]


# ---------------------------------------------------------------- frames

def test_no_interrupted_event_on_barge_in(emulator_factory):
    server = emulator_factory(no_interrupted_event=True)

    async def scenario():
        async with connect(server, config={"tools": [SQL]}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            await receive_until(session, lambda m: m.tool_call is not None)
            await session.send_realtime_input(text="never mind")
            return await receive_turn(session)

    turn = run(scenario())
    assert turn.first("tool_call_cancellation").ids == ["function-call-1"]
    assert turn.turn_complete and not turn.interrupted
    record = server.wait_for(lambda s: s[0]["interruptions"] == 1)[0]
    assert record["service_behaviours"] == ["no_interrupted_event"]


def test_interrupted_event_switched_off_at_run_time(emulator):
    async def scenario():
        async with connect(emulator, config={"tools": [SQL]}) as session:
            turns = []
            for _ in range(2):
                await session.send_realtime_input(text="call run_sql {}")
                await receive_until(session, lambda m: m.tool_call is not None)
                await session.send_realtime_input(text="never mind")
                turns.append(await receive_turn(session))
                await asyncio.to_thread(emulator.set_options, no_interrupted_event=True)
            return turns

    first, second = run(scenario())
    assert first.interrupted and not second.interrupted


def test_usage_placement_service(emulator_factory):
    server = emulator_factory(usage_placement="service")

    async def scenario():
        async with connect(server, config={"tools": [SQL]}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            return await receive_turn(session, lambda m: answer_call(session, m) if m.tool_call else asyncio.sleep(0))

    turn = run(scenario())
    with_usage = [m for m in turn.messages if m.usage_metadata is not None]
    assert with_usage[0].tool_call is not None and with_usage[0].usage_metadata.prompt_token_count > 0
    assert with_usage[1].data and with_usage[1].usage_metadata.response_token_count > 0  # generation start
    last = turn.messages[-1]
    assert last.server_content.turn_complete and last.usage_metadata.total_token_count is None  # empty
    assert len(with_usage) == 3


def test_empty_frames(emulator_factory):
    server = emulator_factory(empty_frames=True)

    async def scenario():
        async with connect(server) as session:
            await session.send_realtime_input(text="hello")
            return await receive_turn(session)

    messages = run(scenario()).messages
    empty = [m for m in messages if m.server_content is not None
             and not m.server_content.model_dump(exclude_none=True)]
    audio = [m for m in messages if m.data]
    assert len(empty) == len(audio) // 3 + 1
    assert messages[-1].server_content.turn_complete


def test_multipart_messages_carry_audio_and_transcript_together(emulator_factory):
    server = emulator_factory(multipart_messages=True)

    async def scenario():
        async with connect(server, config=TRANSCRIBED) as session:
            await session.send_realtime_input(text="hello")
            return await receive_turn(session)

    turn = run(scenario())
    both = [m for m in turn.messages if m.data and m.server_content.output_transcription]
    assert both and not [m for m in turn.messages if m.server_content and m.server_content.output_transcription
                         and not m.data]
    assert turn.output_text.startswith('You said: "hello".')


def test_unresumable_updates_during_tool_calls(emulator_factory):
    server = emulator_factory(unresumable_during_tool_calls=True)

    async def scenario():
        async with connect(server, model=G38, config={"tools": [SQL], "session_resumption": {}}) as session:
            await session.send_realtime_input(text="call run_sql {}")
            seen = await receive_until(session, lambda m: m.tool_call is not None)
            seen += (await receive_turn(session)).messages  # the pending note, while the call runs
            seen += await receive_until(session, lambda m: m.session_resumption_update is not None)
            await answer_call(session, next(m for m in seen if m.tool_call))
            seen += (await receive_turn(session)).messages
            seen += await receive_until(session, lambda m: m.session_resumption_update is not None)
            return [m.session_resumption_update for m in seen if m.session_resumption_update]

    updates = run(scenario())
    assert [(u.resumable, u.new_handle) for u in updates[:2]] == [(False, None), (False, "")]
    assert updates[-1].resumable and updates[-1].new_handle


@pytest.mark.parametrize("separate", [False, True])
def test_parallel_calls_in_one_or_separate_tool_call_messages(emulator_factory, separate):
    server = emulator_factory(separate_parallel_calls=separate)
    weather = types.FunctionDeclaration(name="get_weather", description="Weather")

    async def scenario():
        tools = [types.Tool(function_declarations=[*BLOCKING_SQL.function_declarations, weather])]
        async with connect(server, config={"tools": tools, **TRANSCRIBED}) as session:
            await session.send_realtime_input(text='call run_sql {"sql": "x"}\ncall get_weather {}')
            calls = []

            async def on_message(message):
                if message.tool_call:
                    calls.append([c.name for c in message.tool_call.function_calls])
                    for call in message.tool_call.function_calls:
                        await session.send_tool_response(function_responses=[types.FunctionResponse(
                            id=call.id, name=call.name, response={"from": call.name})])

            turn = await receive_turn(session, on_message)
            return calls, turn

    calls, turn = run(scenario())
    assert calls == ([["run_sql"], ["get_weather"]] if separate else [["run_sql", "get_weather"]])
    assert turn.output_text == ('The run_sql tool returned: {"from": "run_sql"} '
                                'The get_weather tool returned: {"from": "get_weather"}')


# ---------------------------------------------------------------- like the service

@pytest.mark.parametrize("model, expected, absent", [
    (LIVE_MODEL, {"no_interrupted_event", "incremental_input_transcription", "separate_parallel_calls",
                  "model_close", "usage_placement", "empty_frames", "refuse_input_during_tool_call",
                  "unresumable_during_tool_calls", "go_away_close"},
     {"stall_after_tool_response", "multipart_messages", "late_input_transcription_s"}),
    (G38, {"stall_after_tool_response", "multipart_messages", "late_input_transcription_s", "usage_placement"},
     {"no_interrupted_event", "incremental_input_transcription", "model_close"}),
    ("gemini-3.1-flash-live-preview", {"model_close", "stall_after_tool_response"}, {"separate_parallel_calls"}),
])
def test_like_service_turns_on_what_the_reports_describe_for_the_model(emulator_factory, model, expected, absent):
    server = emulator_factory(like_service=True)

    async def scenario():
        async with connect(server, model=model, config=TRANSCRIBED) as session:
            await session.send_realtime_input(text="hello there")
            return await receive_turn(session)

    assert run(scenario()).output_text.startswith('You said: "hello there".')
    behaviours = set(server.wait_for(lambda s: s[0]["ended"])[0]["service_behaviours"])
    assert expected <= behaviours and not (absent & behaviours)
