"""Options validation, fault timers and wire helpers (livechat.emulator.options, faults, wire)."""

from __future__ import annotations

import json

import pytest

from livechat.emulator import EmulatorOptions, EmulatorOptionsError
from livechat.emulator.errors import SessionRefused
from livechat.emulator.faults import after_server_message, connection_timers, duration_string
from livechat.emulator.wire import close_reason, encode, parse_client_frame, parse_setup_frame


@pytest.mark.parametrize("fields, fragment", [
    ({"close_code": 1005}, "close_code"), ({"close_after_messages": 0}, "close_after_messages"),
    ({"vad_silence_ms": 0}, "vad_silence_ms"), ({"vad_threshold_dbfs": 3}, "vad_threshold_dbfs"),
    ({"token_versions": ("v2",)}, "token_versions"), ({"pong_delay_s": -1}, "pong_delay_s"),
    ({"go_away_after_s": -0.5}, "go_away_after_s"), ({"pacing_lead_s": -1}, "pacing_lead_s"),
])
def test_options_reject_values_with_the_rule(fields, fragment):
    with pytest.raises(EmulatorOptionsError, match=fragment):
        EmulatorOptions(**fields)


def test_options_accept_abrupt_drop_and_lists():
    options = EmulatorOptions(close_code=1006, token_versions=["v1alpha", "v1beta"])
    assert options.token_versions == ("v1alpha", "v1beta")
    assert options.replace(realtime=False).realtime is False


def test_timers_for_go_away_lifetime_limit_and_spurious():
    options = EmulatorOptions(go_away_after_s=5, go_away_time_left_s=2, connection_lifetime_s=600,
                              session_duration_limit_s=900, spurious_interrupt_after_s=1)
    timers = connection_timers(options, compression=False, session_age_s=100)
    assert [(t.delay_s, t.action) for t in timers] == [
        (1, "spurious_interrupt"), (5, "go_away"), (7, "close"), (540, "go_away"), (600, "close"), (800, "close")]
    assert timers[1].time_left_s == 2 and timers[3].time_left_s == 60
    assert [t.code for t in timers if t.action == "close"] == [1008, 1008, 1011]
    assert all(t.action != "close" or t.delay_s != 800
               for t in connection_timers(options, compression=True, session_age_s=100))


def test_message_count_faults():
    options = EmulatorOptions(malformed_after_messages=3, close_after_messages=3)
    assert after_server_message(options, 2) == []
    assert after_server_message(options, 3) == ["malformed", "close"]
    assert after_server_message(EmulatorOptions(), 3) == []


def test_duration_strings():
    assert duration_string(50) == "50s" and duration_string(0.25) == "0.250s"


def test_close_reason_is_cut_to_123_bytes_on_a_character_boundary():
    assert close_reason("short") == "short"
    cut = close_reason("é" * 100)
    assert len(cut.encode()) <= 123 and cut == "é" * 61


def test_setup_frame_rules():
    raw, setup = parse_setup_frame(b'{"setup": {"generation_config": {"response_modalities": ["AUDIO"]}}}')
    assert setup == {"generationConfig": {"responseModalities": ["AUDIO"]}}
    for bad in ('{"config": {}}', '{"setup": {}, "extra": 1}', "[]", "not json", '{"setup": {"nope": 1}}'):
        with pytest.raises(SessionRefused) as info:
            parse_setup_frame(bad)
        assert info.value.code == 1007


def test_client_frames_in_either_case():
    assert parse_client_frame('{"realtime_input": {"audio_stream_end": true}}') == (
        "realtimeInput", {"audioStreamEnd": True})
    assert parse_client_frame("{}") == (None, {})
    for bad in ('{"setup": {}}', '{"realtimeInput": {}, "clientContent": {}}', '{"error": {}}'):
        with pytest.raises(SessionRefused):
            parse_client_frame(bad)


def test_server_messages_are_compact_camel_case_json():
    assert json.loads(encode({"setupComplete": {}})) == {"setupComplete": {}}
