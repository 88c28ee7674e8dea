"""The emulator's model table and per-model setup rules (livechat.emulator.models)."""

from __future__ import annotations

import pytest

from livechat.emulator.models import scheduling_of
from livechat.emulator.errors import SessionRefused
from livechat.emulator.models import MODELS, check_setup_rules, custom_vocabulary, function_behaviors, rules_for
from livechat.emulator.setup import normalise_setup


def test_table_knows_every_model_of_section_8_1():
    assert {"gemini-3.8-live", "gemini-3.8-live-extended-thinking", "gemini-3.1-flash-live-preview",
            "gemini-live-2.5-flash-native-audio", "gemini-2.5-flash-native-audio-preview-12-2025"} <= set(MODELS)
    assert MODELS["gemini-3.8-live"].status == "ga" and MODELS["gemini-3.1-flash-live-preview"].status == "legacy"
    assert rules_for("models/gemini-3.8-live", "v1alpha").default_behavior == "NON_BLOCKING"


def test_unknown_model_reason_is_the_services():
    with pytest.raises(SessionRefused) as info:
        rules_for("models/x-live", "v1beta")
    assert info.value.code == 1008
    assert info.value.reason.startswith("models/x-live is not found for API version v1beta, or is not supported for "
                                        "bidiGenerateContent. Call ListModels")


def _refusal(model: str, setup: dict) -> SessionRefused:
    with pytest.raises(SessionRefused) as info:
        check_setup_rules(MODELS[model], normalise_setup(setup))
    return info.value


def test_snake_case_fields_from_the_sdk_are_read_like_camel_case():
    # google-genai 3.6.1 dumps these nested objects in snake_case inside setups and tokens.
    assert "thinking_level" in _refusal("gemini-3.8-live-extended-thinking",
                                        {"generation_config": {"thinking_config": {"thinking_level": "xhigh"}}}).reason
    assert _refusal("gemini-3.8-live", {"proactivity": {"proactive_audio": False}}).code == 1007
    setup = normalise_setup({"input_audio_transcription": {"custom_vocabulary": ["a", "b"]}})
    assert custom_vocabulary(setup) == ["a", "b"]


def test_other_models_keep_accepting_what_38_refuses():
    setup = normalise_setup({"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}, "enableAffectiveDialog": True},
                             "proactivity": {"proactiveAudio": False}})
    for model in ("gemini-2.5-flash-native-audio-preview-12-2025", "gemini-3.1-flash-live-preview"):
        check_setup_rules(MODELS[model], setup)  # no refusal


def test_function_behaviors_default_per_model_and_declared_override():
    setup = {"tools": [{"functionDeclarations": [{"name": "a"}, {"name": "b", "behavior": "BLOCKING"},
                                                 {"name": "c", "behavior": "non_blocking"},
                                                 {"name": "d", "behavior": "UNSPECIFIED"}]}]}
    assert function_behaviors(setup, MODELS["gemini-3.8-live"]) == {
        "a": "NON_BLOCKING", "b": "BLOCKING", "c": "NON_BLOCKING", "d": "NON_BLOCKING"}
    assert function_behaviors(setup, MODELS["gemini-3.1-flash-live-preview"])["a"] == "BLOCKING"


@pytest.mark.parametrize("value, expected", [
    (None, "WHEN_IDLE"), ("SCHEDULING_UNSPECIFIED", "WHEN_IDLE"), ("silent", "SILENT"), ("INTERRUPT", "INTERRUPT"),
    (1, "SILENT"), (3, "INTERRUPT"), ("bogus", "WHEN_IDLE"),
])
def test_scheduling_values(value, expected):
    assert scheduling_of({"scheduling": value} if value is not None else {}) == expected
