"""LiveSettings → LiveConnectConfig → CreateAuthTokenConfig (no network)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from google.genai import types

from livechat.live.tokens import (
    KNOWN_VOICES,
    LiveSettings,
    SettingsError,
    build_live_config,
    build_token_config,
)

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"


def _tool() -> types.Tool:
    return types.Tool(function_declarations=[types.FunctionDeclaration(
        name="run_sql", description="Run a read-only SQL query",
        parameters=types.Schema(type=types.Type.OBJECT,
                                properties={"query": types.Schema(type=types.Type.STRING)},
                                required=["query"]))])


def test_live_config_carries_everything_the_session_depends_on() -> None:
    settings = LiveSettings(model=MODEL, system_instruction="You answer about sales.\nLine 2",
                            voice="Puck", tools=(_tool(),))
    config = build_live_config(settings)
    assert config.system_instruction == "You answer about sales.\nLine 2"
    assert config.response_modalities == [types.Modality.AUDIO]
    assert config.speech_config.voice_config.prebuilt_voice_config.voice_name == "Puck"
    assert config.input_audio_transcription is not None
    assert config.output_audio_transcription is not None
    assert [d.name for d in config.tools[0].function_declarations] == ["run_sql"]
    assert config.session_resumption is not None and config.session_resumption.handle is None
    assert config.context_window_compression.trigger_tokens == 25_600
    assert config.context_window_compression.sliding_window.target_tokens == 12_800


def test_resumption_handle_goes_into_the_config() -> None:
    settings = LiveSettings(model=MODEL, system_instruction="si", resumption_handle="h-42")
    assert build_live_config(settings).session_resumption.handle == "h-42"


def test_transcription_and_tools_can_be_left_out() -> None:
    settings = LiveSettings(model=MODEL, system_instruction="si", input_transcription=False,
                            output_transcription=False)
    config = build_live_config(settings)
    assert config.input_audio_transcription is None
    assert config.output_audio_transcription is None
    assert config.tools is None


def test_token_config_is_a_global_lock_with_aware_times() -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
    settings = LiveSettings(model=MODEL, system_instruction="the instruction")
    config = build_token_config(settings, now=now)
    assert config.lock_additional_fields is None  # None == lock everything in the token
    assert config.uses == 1
    assert config.expire_time == now + timedelta(minutes=30)
    assert config.new_session_expire_time == now + timedelta(minutes=1)
    assert config.expire_time.tzinfo is not None
    constraints = config.live_connect_constraints
    assert constraints.model == MODEL
    assert constraints.config.system_instruction == "the instruction"


def test_token_config_defaults_now_to_an_aware_utc_time() -> None:
    before = datetime.now(timezone.utc)
    config = build_token_config(LiveSettings(model=MODEL, system_instruction="x"))
    assert config.expire_time.utcoffset() == timedelta(0)
    assert config.expire_time >= before + timedelta(minutes=30)


def test_naive_now_is_refused() -> None:
    with pytest.raises(SettingsError, match="now must be timezone-aware"):
        build_token_config(LiveSettings(model=MODEL, system_instruction="x"),
                           now=datetime(2030, 1, 1))


def test_lifetimes_of_twenty_hours_or_more_are_refused() -> None:
    with pytest.raises(SettingsError, match="expire_after must be under 20 hours"):
        build_token_config(LiveSettings(model=MODEL, system_instruction="x"),
                           expire_after=timedelta(hours=20))


def test_negative_uses_refused() -> None:
    with pytest.raises(SettingsError, match="uses must be 0"):
        build_token_config(LiveSettings(model=MODEL, system_instruction="x"), uses=-1)


@pytest.mark.parametrize("kwargs,pattern", [
    ({"voice": "Nobody"}, "voice must be one of the 30 prebuilt voices"),
    ({"model": ""}, "model must name a Live model"),
    ({"compression_target_tokens": 30_000}, "compression_target_tokens must be positive and below"),
    ({"tools": []}, "tools must be a tuple"),
])
def test_settings_validation(kwargs: dict, pattern: str) -> None:
    base = {"model": MODEL, "system_instruction": "x"}
    with pytest.raises(SettingsError, match=pattern):
        LiveSettings(**{**base, **kwargs})


def test_known_voices_has_the_default_voices() -> None:
    assert len(KNOWN_VOICES) == 30
    assert {"Kore", "Puck"} <= set(KNOWN_VOICES)
