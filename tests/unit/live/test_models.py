"""The table of supported Live models drives the locked token config."""

from __future__ import annotations

import pytest
from google.genai import types

from livechat.config import DEFAULT_MODEL
from livechat.live.models import MODELS, known_model, model_info
from livechat.live.tokens import LiveSettings, SettingsError, build_live_config, tool_behaviors
from livechat.tools.toolbox import TOOL_BEHAVIOR, live_tools


def test_the_default_model_is_38_live_and_in_the_table() -> None:
    assert DEFAULT_MODEL == "gemini-3.8-live"
    info = known_model(DEFAULT_MODEL)
    assert info is not None and info.status == "ga" and info.async_tools


def test_ids_and_aliases_are_unique() -> None:
    names = [name for row in MODELS for name in (row.id, *row.aliases)]
    assert len(names) == len(set(names))


def test_an_unknown_model_gets_conservative_rules() -> None:
    info = model_info("models/gemini-9.9-live")
    assert info.status == "unknown" and info.id == "gemini-9.9-live"
    assert not info.async_tools and not info.custom_vocabulary and not info.catalog_voices


def _settings(model: str, **fields) -> LiveSettings:
    return LiveSettings(model=model, system_instruction="si", tools=tuple(live_tools()),
                        custom_vocabulary=("storm night", "Gull Point"), **fields)


def test_on_38_tools_carry_their_behaviour_and_the_vocabulary_is_locked() -> None:
    config = build_live_config(_settings("gemini-3.8-live"))
    behaviors = {d.name: d.behavior for d in config.tools[0].function_declarations}
    # run_trusted_query is declared only when the analyst has trusted queries.
    assert set(behaviors) == {"run_sql", "describe_column", "show_chart"}
    assert behaviors == {name: TOOL_BEHAVIOR[name] for name in behaviors}
    assert config.input_audio_transcription.custom_vocabulary == ["storm night", "Gull Point"]
    assert config.response_modalities == [types.Modality.AUDIO]
    assert "thinking_config" not in config.model_dump(exclude_none=True)
    assert tool_behaviors(_settings("gemini-3.8-live"))["run_sql"] == "NON_BLOCKING"


@pytest.mark.parametrize("model", ["gemini-3.1-flash-live-preview", "gemini-live-2.5-flash-native-audio",
                                   "gemini-2.5-flash-native-audio-preview-12-2025", "some-future-live"])
def test_models_without_async_calls_get_plain_blocking_declarations(model: str) -> None:
    config = build_live_config(_settings(model))
    assert all(d.behavior is None for d in config.tools[0].function_declarations)
    assert config.input_audio_transcription.custom_vocabulary is None
    assert set(tool_behaviors(_settings(model)).values()) == {"BLOCKING"}


def test_catalog_voices_only_where_the_model_has_them() -> None:
    assert _settings("gemini-3.8-live", voice="en-us-tavi").voice == "en-us-tavi"
    with pytest.raises(SettingsError, match="voice must be one of the 30 prebuilt voices"):
        _settings("gemini-3.1-flash-live-preview", voice="en-us-tavi")


def test_the_vocabulary_is_bounded() -> None:
    with pytest.raises(SettingsError, match="at most 200"):
        LiveSettings(model=DEFAULT_MODEL, system_instruction="si",
                     custom_vocabulary=tuple(f"w{i}" for i in range(201)))
