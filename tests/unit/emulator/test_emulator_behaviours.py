"""Service behaviours: --like-service per model, frame shaping, close timers, CLI flags."""

from __future__ import annotations

import pytest

from livechat.emulator import EmulatorOptions, EmulatorOptionsError
from livechat.emulator.__main__ import build_parser, options_from_args
from livechat.emulator.behaviours import (CONTENT_TYPE_AUDIO_REASON, LIKE_SERVICE_LATE_TRANSCRIPTION_S,
                                          OPERATION_ABORTED_REASON, Behaviours, resolve)
from livechat.emulator.faults import DEADLINE_EXPIRED_REASON, GO_AWAY_CLOSE_REASON, connection_timers
from livechat.emulator.models import MODELS
from livechat.emulator.replies import parse_tool_commands
from livechat.emulator.shaping import chunk_messages, input_transcription_messages
from livechat.emulator.wire import audio_chunk

G25 = MODELS["gemini-2.5-flash-native-audio-preview-12-2025"]
G25_GA = MODELS["gemini-live-2.5-flash-native-audio"]
G31 = MODELS["gemini-3.1-flash-live-preview"]
G38 = MODELS["gemini-3.8-live"]


def test_defaults_change_nothing():
    for rules in MODELS.values():
        assert resolve(EmulatorOptions(), rules) == Behaviours()
        assert resolve(EmulatorOptions(), rules).active() == []


def test_like_service_on_25_preview():
    b = resolve(EmulatorOptions(like_service=True), G25)
    assert b.no_interrupted_event and b.incremental_input_transcription and b.separate_parallel_calls
    assert b.model_close == (60.0, 1007, CONTENT_TYPE_AUDIO_REASON)
    assert not b.stall_after_tool_response and not b.multipart_messages and b.late_input_transcription_s is None
    assert b.usage_placement == "service" and b.empty_frames and b.refuse_input_during_tool_call
    assert b.unresumable_during_tool_calls and b.go_away_close == "service"
    assert not resolve(EmulatorOptions(like_service=True), G25_GA).no_interrupted_event  # a preview fault only


def test_like_service_on_3x():
    b38 = resolve(EmulatorOptions(like_service=True), G38)
    assert b38.stall_after_tool_response and b38.multipart_messages
    assert b38.late_input_transcription_s == LIKE_SERVICE_LATE_TRANSCRIPTION_S and b38.model_close is None
    assert not b38.incremental_input_transcription and not b38.separate_parallel_calls
    b31 = resolve(EmulatorOptions(like_service=True), G31)
    assert b31.model_close == (175.0, 1008, OPERATION_ABORTED_REASON) and b31.stall_after_tool_response


def test_values_set_by_hand_win_over_like_service():
    b = resolve(EmulatorOptions(like_service=True, late_input_transcription_s=1.5, close_every_s=5,
                                go_away_close="deadline"), G38)
    assert b.late_input_transcription_s == 1.5 and b.go_away_close == "deadline"
    assert resolve(EmulatorOptions(like_service=True, close_every_s=5), G31).model_close is None


def test_timers_for_close_every_model_close_and_go_away_modes():
    options = EmulatorOptions(close_every_s=3, close_code=1008, close_reason="The operation was aborted",
                              go_away_after_s=1, go_away_time_left_s=1)
    timers = connection_timers(options, compression=True, session_age_s=0, go_away_close="deadline",
                               model_close=(9.0, 1007, "x"))
    assert [(t.delay_s, t.action, t.code, t.reason) for t in timers] == [
        (1, "go_away", 0, ""), (2, "close", 1011, DEADLINE_EXPIRED_REASON),
        (3, "close", 1008, "The operation was aborted"), (9.0, "close", 1007, "x")]
    service = connection_timers(options.replace(close_every_s=None), compression=True, session_age_s=0,
                                go_away_close="service")
    assert [t.action for t in service] == ["go_away", "go_away_deadline"]
    lingering = connection_timers(options.replace(close_every_s=None), compression=True, session_age_s=0)
    assert lingering[1].reason == GO_AWAY_CLOSE_REASON and lingering[1].code == 1008


@pytest.mark.parametrize("fields, fragment", [
    ({"usage_placement": "start"}, "usage_placement"), ({"go_away_close": "never"}, "go_away_close"),
    ({"close_every_s": -1}, "close_every_s"), ({"late_input_transcription_s": -2}, "late_input_transcription_s"),
    ({"close_reason": 5}, "close_reason"),
])
def test_new_options_are_validated(fields, fragment):
    with pytest.raises(EmulatorOptionsError, match=fragment):
        EmulatorOptions(**fields)


def test_every_new_option_is_a_cli_flag():
    args = build_parser().parse_args([
        "--close-reason", "The operation was aborted", "--close-every-s", "170", "--close-code", "1008",
        "--refuse-input-during-tool-call", "--stall-after-tool-response", "--late-input-transcription-s", "12",
        "--incremental-input-transcription", "--no-interrupted-event", "--usage-placement", "service",
        "--empty-frames", "--unresumable-during-tool-calls", "--multipart-messages", "--separate-parallel-calls",
        "--go-away-close", "service", "--like-service"])
    options = options_from_args(args)
    assert options.close_reason == "The operation was aborted" and options.close_every_s == 170.0
    assert options.late_input_transcription_s == 12.0 and options.usage_placement == "service"
    assert all(getattr(options, name) for name in (
        "refuse_input_during_tool_call", "stall_after_tool_response", "incremental_input_transcription",
        "no_interrupted_event", "empty_frames", "unresumable_during_tool_calls", "multipart_messages",
        "separate_parallel_calls", "like_service"))
    assert options_from_args(build_parser().parse_args(
        ["--no-interrupted-event", "--interrupted-event"])).no_interrupted_event is False
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--usage-placement", "sometimes"])


def test_incremental_input_transcription_pieces():
    messages = input_transcription_messages("how many?", incremental=True)
    pieces = [m["serverContent"]["inputTranscription"] for m in messages]
    assert [p["text"] for p in pieces] == ["how ", "many", "?"]
    assert [p.get("finished", False) for p in pieces] == [False, False, True]
    assert input_transcription_messages("how many?", incremental=False) == [
        {"serverContent": {"inputTranscription": {"text": "how many?", "finished": True}}}]


def test_chunk_messages_shapes():
    plain = chunk_messages(0, audio_chunk(b"\0\0", "audio/pcm;rate=24000"), "Hi ", multipart=False, empty_frames=False,
                           first_extra={"usageMetadata": {"totalTokenCount": 3}})
    assert list(plain[0]["serverContent"]) == ["outputTranscription"] and plain[0]["usageMetadata"]
    assert "modelTurn" in plain[1]["serverContent"]
    merged = chunk_messages(2, audio_chunk(b"\0\0", "audio/pcm;rate=24000"), "Hi ", multipart=True, empty_frames=True)
    assert set(merged[0]["serverContent"]) == {"modelTurn", "outputTranscription"}
    assert merged[1] == {"serverContent": {}}


def test_parallel_tool_commands_one_per_line():
    commands = parse_tool_commands('call a {"x": 1}\n call b {}\n', ["a", "b"])
    assert [(c.name, c.args) for c in commands] == [("a", {"x": 1}), ("b", {})]
    assert parse_tool_commands("call a {}\nplease", ["a", "b"]) == []
    assert [c.name for c in parse_tool_commands('call a {"q": "x\\ny"}', ["a"])] == ["a"]
