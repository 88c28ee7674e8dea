"""Scripted replies (``--replies FILE``, issue 30) through the real SDK.

A rule with a call makes that tool call, waits for the response and says its text with
``{result}`` filled in (blocking on 2.5; non-blocking on 3.8, where the result turn says
it); a rule without one just says its text; the first matching rule wins; a question no
rule matches gets the echo reply; a bad file is refused at start-up.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from google.genai import types

from livechat.emulator import EmulatorOptions, EmulatorOptionsError
from livechat.emulator.__main__ import build_parser
from tests.conftest import LIVE_MODEL, make_genai_client
from tests.integration.emulator_support import receive_turn, receive_until

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")

TRANSCRIBED = {"input_audio_transcription": {}, "output_audio_transcription": {}}
SQL_TOOL = {"function_declarations": [{
    "name": "run_sql", "description": "Read-only SQL",
    "parameters": {"type": "OBJECT", "properties": {"query": {"type": "STRING"}}, "required": ["query"]}}]}
RESULT = {"columns": ["nights"], "rows": [[331]], "row_count": 1}


def _rules(tmp_path: Path, *rules: dict) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text("# scripted replies\n\n" + "\n".join(json.dumps(r) for r in rules) + "\n", encoding="utf-8")
    return str(path)


def _scripted(tmp_path: Path) -> str:
    return _rules(tmp_path,
                  {"match": "(?i)storm nights", "call": {"name": "run_sql", "args": {"query": "SELECT 331 AS nights"}},
                   "say": "There were 331 storm nights. Raw: {result}"},
                  {"match": "(?i)hello", "say": "Hello, 12 percent of nights were stormy."},
                  {"match": "(?i)hello|storm", "say": "never said: the first matching rule wins"})


def _answering(session):
    async def answer(message) -> None:
        if message.tool_call:
            call = message.tool_call.function_calls[0]
            await session.send_tool_response(function_responses=[types.FunctionResponse(
                id=call.id, name=call.name, response=RESULT)])
    return answer


def test_a_rule_with_a_call_makes_it_waits_and_says_the_result(emulator_factory, tmp_path):
    server = emulator_factory(replies=_scripted(tmp_path))

    async def scenario():
        client = make_genai_client(server, "test-key")
        config = {"tools": [SQL_TOOL], **TRANSCRIBED}
        async with client.aio.live.connect(model=LIVE_MODEL, config=config) as session:
            await session.send_realtime_input(text="How many storm nights were there?")
            turn = await receive_turn(session, _answering(session))
            await session.send_realtime_input(text="hello there")
            greeting = await receive_turn(session)
            await session.send_realtime_input(text="What is the mean wind?")
            echo = await receive_turn(session)
            return turn, greeting, echo

    turn, greeting, echo = asyncio.run(asyncio.wait_for(scenario(), 30))
    call = turn.first("tool_call").function_calls[0]
    assert (call.name, call.args) == ("run_sql", {"query": "SELECT 331 AS nights"})
    assert turn.output_text == f"There were 331 storm nights. Raw: {json.dumps(RESULT, sort_keys=True)}"
    assert turn.audio  # said, not only transcribed
    assert greeting.first("tool_call") is None
    assert greeting.output_text == "Hello, 12 percent of nights were stormy."
    assert echo.output_text.startswith('You said: "What is the mean wind?".')
    record = server.wait_for(lambda s: s and len(s[0]["turns"]) == 3)[0]
    assert record["tool_calls"][0]["response"] == RESULT
    assert [t.get("scripted") for t in record["turns"]] == ["(?i)storm nights", "(?i)hello", None]


def test_a_non_blocking_call_says_the_scripted_text_when_its_result_is_spoken(emulator_factory, tmp_path):
    server = emulator_factory(replies=_scripted(tmp_path))

    async def scenario():
        client = make_genai_client(server, "test-key")
        config = {"tools": [SQL_TOOL], **TRANSCRIBED}
        async with client.aio.live.connect(model="gemini-3.8-live", config=config) as session:
            await session.send_realtime_input(text="storm nights please")
            seen = await receive_until(session, lambda m: bool(m.tool_call))
            call = next(m for m in seen if m.tool_call).tool_call.function_calls[0]
            await session.send_tool_response(function_responses=[types.FunctionResponse(
                id=call.id, name=call.name, response=RESULT)])
            texts = "".join(m.server_content.output_transcription.text for m in seen
                            if m.server_content and m.server_content.output_transcription)
            while "331 storm nights" not in texts:
                turn = await receive_turn(session)
                texts += turn.output_text
            return texts

    texts = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert texts.startswith("Let me check that with the run_sql tool.")
    assert texts.endswith(f"There were 331 storm nights. Raw: {json.dumps(RESULT, sort_keys=True)}")


@pytest.mark.parametrize("line, message", [
    ("not json", "not JSON"),
    ('{"match": "x"}', '"match" and "say"'),
    ('{"match": "(", "say": "x"}', "not a valid regex"),
    ('{"match": "x", "say": "y", "call": {"args": {}}}', "call must be"),
    ('{"match": "x", "say": "y", "reply": 1}', "unknown field"),
])
def test_a_bad_replies_file_is_refused_with_its_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(f'{{"match": "ok", "say": "fine"}}\n{line}\n', encoding="utf-8")
    with pytest.raises(EmulatorOptionsError, match=message) as info:
        EmulatorOptions(replies=str(path))
    assert "line 2" in str(info.value)


def test_the_replies_flag_is_documented_and_parsed(tmp_path):
    parser = build_parser()
    assert "--replies FILE" in parser.format_help() and "{result}" in parser.format_help()
    args = parser.parse_args(["--replies", _scripted(tmp_path)])
    assert len(EmulatorOptions(replies=args.replies).scripted_replies) == 3
