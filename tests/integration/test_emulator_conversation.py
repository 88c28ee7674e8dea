"""Conversations end to end through the SDK: text, speech, interruption, tools, resumption."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from google.genai import errors, types

from tests.conftest import LIVE_MODEL, ManualClock, make_genai_client
from tests.integration.emulator_support import (constraints, mint, only_session, receive_turn, receive_until,
                                                text_turn)

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")

TRANSCRIBED = {"input_audio_transcription": {}, "output_audio_transcription": {}}
WEATHER_TOOL = {"function_declarations": [{
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}
PAD_BEFORE, PAD_AFTER = 0.3, 1.0


def run(coro, timeout: float = 30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def send_pcm(session, pcm: bytes, rate: int, chunk_ms: int = 100) -> None:
    step = rate * 2 * chunk_ms // 1000
    for offset in range(0, len(pcm), step):
        await session.send_realtime_input(
            audio=types.Blob(data=pcm[offset:offset + step], mime_type=f"audio/pcm;rate={rate}"))


def test_text_question_full_turn_shape(emulator):
    turn = text_turn(emulator, "test-key", "How many rows?", config={
        "system_instruction": "Table: lighthouse.csv", **TRANSCRIBED})

    assert turn.input_text == "How many rows?"
    assert turn.output_text == 'You said: "How many rows?". My instructions begin: "Table: lighthouse.csv" (21 characters).'
    audio_parts = [m for m in turn.messages if m.data]
    assert all(p.server_content.model_turn.parts[0].inline_data.mime_type == "audio/pcm;rate=24000" for p in audio_parts)
    assert len(turn.audio) % 2 == 0 and len(turn.audio) > 24000  # > 0.5 s of 24 kHz PCM16
    assert np.abs(np.frombuffer(turn.audio, "<i2")).max() > 3000  # audible, not silence
    assert turn.generation_complete and turn.turn_complete
    usage = turn.messages[-1].usage_metadata
    assert usage.response_token_count == round(len(turn.audio) / 48000 * 32)
    record = only_session(emulator)
    assert record["turns"] == [{"index": 1, "kind": "text", "input": "How many rows?", "output": turn.output_text,
                                "interrupted": False, "audio_out_seconds": len(turn.audio) / 48000}]
    assert record["audio_out_seconds"] == pytest.approx(len(turn.audio) / 48000)


def test_client_content_turn_and_no_instruction(emulator):
    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config=TRANSCRIBED) as session:
            await session.send_client_content(turns=types.Content(role="user", parts=[types.Part(text="Hello there")]))
            return await receive_turn(session)

    turn = run(scenario())
    assert turn.output_text == 'You said: "Hello there". I have no system instruction.'


@pytest.mark.parametrize("rate", [16000, 48000])
def test_spoken_utterance_is_detected_and_answered(emulator, speech_pcm, rate):
    pcm = speech_pcm(rate=rate, pad_before=PAD_BEFORE, pad_after=PAD_AFTER)
    speech_s = len(pcm) / (2 * rate) - PAD_BEFORE - PAD_AFTER

    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config={"system_instruction": "SI", **TRANSCRIBED}) as session:
            await send_pcm(session, pcm, rate)
            return await receive_turn(session)

    turn = run(scenario())

    heard = float(turn.input_text.removeprefix("[speech ").removesuffix(" s]"))
    assert speech_s - 0.4 <= heard <= speech_s + 0.1
    assert turn.output_text == f'You said: "{turn.input_text}". My instructions begin: "SI" (2 characters).'
    record = only_session(emulator)
    assert record["audio_in_rate"] == rate
    assert record["audio_in_seconds"] == pytest.approx(len(pcm) / (2 * rate))
    # The envelope (RMS per 20 ms at 16 kHz) follows the speech file's own envelope.
    samples = np.frombuffer(pcm, "<i2").astype(float) / 32768
    frame = rate // 50
    expected = np.sqrt(np.mean(samples[: len(samples) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    got = np.array(record["audio_in_envelope"])
    count = min(len(got), len(expected))
    assert count >= len(expected) - 1
    assert np.corrcoef(got[:count], expected[:count])[0, 1] > 0.98


def test_audio_stream_end_ends_the_utterance(emulator, speech_pcm):
    pcm = speech_pcm(pad_before=PAD_BEFORE, pad_after=0.0)  # no trailing silence: VAD alone would wait

    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config=TRANSCRIBED) as session:
            await send_pcm(session, pcm, 16000)
            await session.send_realtime_input(audio_stream_end=True)
            return await receive_turn(session)

    assert run(scenario()).input_text.startswith("[speech ")


def test_manual_activity_signals_delimit_the_utterance(emulator, speech_pcm):
    pcm = speech_pcm()
    config = {"realtime_input_config": {"automatic_activity_detection": {"disabled": True}}, **TRANSCRIBED}

    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config=config) as session:
            await send_pcm(session, pcm, 16000)  # outside an activity: not a turn
            await session.send_realtime_input(activity_start=types.ActivityStart())
            await send_pcm(session, pcm[: 16000 * 2], 16000)  # exactly 1.0 s
            await session.send_realtime_input(activity_end=types.ActivityEnd())
            return await receive_turn(session)

    turn = run(scenario())
    assert turn.input_text == "[speech 1.0 s]"
    assert len(only_session(emulator)["turns"]) == 1


def test_speech_during_a_model_turn_interrupts_it(emulator_factory, speech_pcm):
    server = emulator_factory(realtime=True)
    pcm = speech_pcm()

    async def scenario():
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config=TRANSCRIBED) as session:
            await session.send_realtime_input(text="Tell me a long story")
            interrupted_turn = []

            async def barge_in(message) -> None:
                if message.data and not interrupted_turn:
                    interrupted_turn.append(True)
                    server.set_options(realtime=False)  # keep the next reply quick
                    await send_pcm(session, pcm, 16000)

            first = await receive_turn(session, barge_in)
            second = await receive_turn(session)
            return first, second

    first, second = run(scenario())

    assert first.interrupted and first.turn_complete and not first.generation_complete
    # Stopped at once: far less audio than the full reply.
    full = 'You said: "Tell me a long story". I have no system instruction.'
    assert len(first.audio) < len(text_audio(full)) / 2
    assert second.input_text.startswith("[speech ") and second.generation_complete
    record = server.wait_for(lambda s: s and len(s[0]["turns"]) == 2)[0]
    assert record["interruptions"] == 1
    assert [t["interrupted"] for t in record["turns"]] == [True, False]


def text_audio(text: str) -> bytes:
    from livechat.emulator.voice import shared_synthesizer
    return shared_synthesizer().synthesize(text, "Puck")


def test_tool_call_round_trip(emulator):
    token = mint(emulator, live_connect_constraints=constraints(tools=[WEATHER_TOOL], **TRANSCRIBED))

    async def scenario():
        client = make_genai_client(emulator, token)
        async with client.aio.live.connect(model=LIVE_MODEL) as session:
            await session.send_realtime_input(text='call get_weather {"city": "Paris"}')

            async def answer(message) -> None:
                if message.tool_call:
                    call = message.tool_call.function_calls[0]
                    await session.send_tool_response(function_responses=[types.FunctionResponse(
                        id=call.id, name=call.name, response={"temp_c": 21, "sky": "clear"})])

            return await receive_turn(session, answer)

    turn = run(scenario())
    call = turn.first("tool_call").function_calls[0]
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"}) and call.id
    assert turn.output_text == 'The get_weather tool returned: {"sky": "clear", "temp_c": 21}'
    record = only_session(emulator)
    assert record["tool_calls"] == [{"id": call.id, "name": "get_weather", "args": {"city": "Paris"},
                                     "response": {"temp_c": 21, "sky": "clear"}, "cancelled": False,
                                     "behavior": "BLOCKING", "scheduling": None}]
    assert record["turns"][0]["kind"] == "tool"


def test_undeclared_tool_is_plain_text(emulator):
    turn = text_turn(emulator, "test-key", "call get_weather {}", config=TRANSCRIBED)
    assert turn.first("tool_call") is None
    assert turn.output_text.startswith('You said: "call get_weather {}".')


def test_unknown_tool_response_id_closes_1007(emulator):
    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config={"tools": [WEATHER_TOOL]}) as session:
            await session.send_realtime_input(text="call get_weather {}")
            await receive_until(session, lambda m: m.tool_call is not None)
            await session.send_tool_response(function_responses=[types.FunctionResponse(
                id="function-call-999", name="get_weather", response={})])
            await receive_turn(session)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == 1007
    assert "function-call-999" in only_session(emulator)["ended"]["detail"]


def test_interruption_cancels_a_pending_tool_call(emulator_factory):
    # The test leaves during the second reply: big chunks keep the unread messages under the
    # client's max_queue, or its close() would wait close_timeout for the server's close frame.
    emulator = emulator_factory(speak_chunk_ms=2000)

    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config={"tools": [WEATHER_TOOL]}) as session:
            await session.send_realtime_input(text="call get_weather {}")
            await receive_until(session, lambda m: m.tool_call is not None)
            await session.send_realtime_input(text="never mind")
            return await receive_turn(session)

    turn = run(scenario())
    cancellation = turn.first("tool_call_cancellation")
    assert cancellation.ids == ["function-call-1"]
    assert turn.interrupted and turn.turn_complete
    record = emulator.wait_for(lambda s: s and s[0]["ended"] and len(s[0]["turns"]) == 2)[0]
    assert record["tool_calls"][0]["cancelled"] is True


def _first_turn_handle(emulator) -> tuple[str, str]:
    """A globally locked token with resumption, one answered turn, and the handle it left."""
    token = mint(emulator, uses=1, live_connect_constraints=constraints(session_resumption={}, **TRANSCRIBED))

    async def first_connection() -> str:
        client = make_genai_client(emulator, token)
        async with client.aio.live.connect(model=LIVE_MODEL) as session:
            await session.send_realtime_input(text="first question")
            await receive_turn(session)
            updates = await receive_until(session, lambda m: m.session_resumption_update is not None)
            update = updates[-1].session_resumption_update
            assert update.resumable
            return update.new_handle

    handle = run(first_connection())
    emulator.wait_for(lambda s: s and s[0]["ended"] is not None)
    return token, handle


def test_resumption_with_a_handle_keeps_the_history(emulator):
    token, handle = _first_turn_handle(emulator)

    # Under the global lock the handle travels in the token's constraints, like every other
    # setup field: a fresh single-use token carries it, and resuming does not use it up.
    resume_token = mint(emulator, uses=1, live_connect_constraints=constraints(
        session_resumption={"handle": handle}, **TRANSCRIBED))

    async def second_connection():
        client = make_genai_client(emulator, resume_token)
        async with client.aio.live.connect(model=LIVE_MODEL) as session:
            await session.send_realtime_input(text="second question")
            return await receive_turn(session)

    turn = run(second_connection())
    assert turn.output_text == 'You said: "second question". I have no system instruction.'
    first, second = emulator.wait_for(lambda s: len(s) == 2 and s[1]["ended"] is not None)
    assert second["resumed_from"] == first["id"]
    assert second["history_turns"] == 1
    assert second["turns"][0]["index"] == 2
    assert "sessionResumption" not in second["client_setup"].get("setup", second["client_setup"])
    tokens = {t["name"]: t for t in emulator.tokens()}
    assert tokens[token]["uses_left"] == 0 and tokens[token]["sessions"] == [first["id"]]
    assert tokens[resume_token]["uses_left"] == 1 and tokens[resume_token]["sessions"] == [second["id"]]
    # The prompt grew by the first turn's history.
    assert turn.messages[-1].usage_metadata.prompt_token_count > 100


def test_a_client_side_handle_is_ignored_under_the_global_lock(emulator):
    """The silent lock drops the client's handle too: the connection is a new session."""
    _, handle = _first_turn_handle(emulator)
    other = mint(emulator, uses=1, live_connect_constraints=constraints(session_resumption={}, **TRANSCRIBED))

    async def second_connection():
        client = make_genai_client(emulator, other)
        async with client.aio.live.connect(model=LIVE_MODEL,
                                           config={"session_resumption": {"handle": handle}}) as session:
            await session.send_realtime_input(text="second question")
            return await receive_turn(session)

    run(second_connection())
    first, second = emulator.wait_for(lambda s: len(s) == 2 and s[1]["ended"] is not None)
    assert second["resumed_from"] is None
    assert second["turns"][0]["index"] == 1
    assert {t["name"]: t for t in emulator.tokens()}[other]["uses_left"] == 0


def test_no_resumption_updates_unless_effective(emulator):
    token = mint(emulator, live_connect_constraints=constraints(response_modalities=["AUDIO"]))

    async def scenario():
        client = make_genai_client(emulator, token)
        async with client.aio.live.connect(model=LIVE_MODEL, config={"session_resumption": {}}) as session:
            await session.send_realtime_input(text="one")
            await receive_turn(session)
            await session.send_realtime_input(text="two")
            return await receive_turn(session)

    turn = run(scenario())
    assert turn.first("session_resumption_update") is None
    assert "sessionResumption" not in only_session(emulator)["effective_setup"]


def test_resuming_while_the_old_connection_is_open_is_1011(emulator):
    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config={"session_resumption": {}}) as session:
            await session.send_realtime_input(text="one")
            messages = await receive_until(session, lambda m: m.session_resumption_update is not None)
            handle = messages[-1].session_resumption_update.new_handle
            async with client.aio.live.connect(model=LIVE_MODEL,
                                               config={"session_resumption": {"handle": handle}}) as second:
                await second.send_realtime_input(text="two")
                await receive_turn(second)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert (info.value.code, info.value.details) == (1011, "The service is currently unavailable")


def test_a_handle_expires_two_hours_after_the_session_ended(emulator_factory):
    clock = ManualClock()
    server = emulator_factory(clock=clock)

    async def first() -> str:
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config={"session_resumption": {}}) as session:
            await session.send_realtime_input(text="one")
            messages = await receive_until(session, lambda m: m.session_resumption_update is not None)
            return messages[-1].session_resumption_update.new_handle

    async def resume(handle: str) -> None:
        client = make_genai_client(server, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL, config={"session_resumption": {"handle": handle}}) as s:
            await s.send_realtime_input(text="again")
            await receive_turn(s)

    handle = run(first())
    server.wait_for(lambda s: s and s[0]["ended"] is not None)
    clock.advance(2 * 3600 - 5)
    run(resume(handle))  # still valid just before the 2 h mark
    server.wait_for(lambda s: len(s) == 2 and s[1]["ended"] is not None)
    clock.advance(2 * 3600 + 1)
    with pytest.raises(errors.APIError) as info:
        run(resume(handle))
    assert info.value.code == 1007
    assert "expired" in server.wait_for(lambda s: len(s) == 3 and s[2]["ended"])[2]["ended"]["detail"]


def test_unknown_handle_is_refused(emulator):
    async def scenario():
        client = make_genai_client(emulator, "test-key")
        async with client.aio.live.connect(model=LIVE_MODEL,
                                           config={"session_resumption": {"handle": "CgNope"}}) as session:
            await receive_turn(session)

    with pytest.raises(errors.APIError) as info:
        run(scenario())
    assert info.value.code == 1007


def test_context_update_changes_an_unlocked_instruction_only(emulator):
    async def scenario(api_key: str):
        client = make_genai_client(emulator, api_key)
        async with client.aio.live.connect(model=LIVE_MODEL, config={"system_instruction": "Old", **TRANSCRIBED}) as session:
            await session.send_context_update(system_instruction="New instruction")
            await session.send_realtime_input(text="hi")
            return await receive_turn(session)

    assert '"New instruction" (15 characters)' in run(scenario("test-key")).output_text
    token = mint(emulator, live_connect_constraints=constraints(system_instruction="Locked", **TRANSCRIBED))
    assert '"Locked" (6 characters)' in run(scenario(token)).output_text
