"""Field masks, the token/client merge and model checks (livechat.emulator.setup, schema)."""

from __future__ import annotations

import pytest

from livechat.emulator.errors import MintRejected, SessionRefused
from livechat.emulator.schema import SchemaError, normalise
from livechat.emulator.setup import (check_mask_covers, check_model, merge_setup, parse_field_mask,
                                     system_instruction_text)

MODEL = "models/gemini-2.5-flash-native-audio-preview-12-2025"
TOKEN = {"model": MODEL, "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.2},
         "systemInstruction": {"parts": [{"text": "token SI"}], "role": "user"}, "sessionResumption": {}}
CLIENT = {"model": MODEL, "generationConfig": {"temperature": 0.9, "topP": 0.5},
          "systemInstruction": {"parts": [{"text": "client SI"}]}, "tools": [{"functionDeclarations": []}]}


def test_normalise_camel_cases_proto_fields_but_not_user_maps():
    raw = {"generation_config": {"speech_config": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}},
           "context_window_compression": {"trigger_tokens": 10, "sliding_window": {"target_tokens": 5}},
           "tools": [{"function_declarations": [{"name": "f", "parameters": {
               "type": "OBJECT", "properties": {"row_count": {"type": "INTEGER", "any_of": []}}}}]}],
           "labels": {"my_label": "x"}}
    out = normalise(raw, "Setup")
    assert out["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"] == {"voiceName": "Kore"}
    assert out["contextWindowCompression"] == {"triggerTokens": 10, "slidingWindow": {"targetTokens": 5}}
    properties = out["tools"][0]["functionDeclarations"][0]["parameters"]["properties"]
    assert list(properties) == ["row_count"] and "anyOf" in properties["row_count"]
    assert out["labels"] == {"my_label": "x"}


def test_normalise_rejects_unknown_fields_with_googles_message():
    with pytest.raises(SchemaError) as info:
        normalise({"generationConfig": {"colour": 1}}, "Setup", "setup")
    assert str(info.value) == ('Invalid JSON payload received. Unknown name "colour" at '
                               "'setup.generation_config': Cannot find field.")
    with pytest.raises(SchemaError, match="Invalid value"):
        normalise({"tools": {"not": "a list"}}, "Setup")


@pytest.mark.parametrize("raw, nested, expected", [
    ("model,generationConfig.responseModalities,systemInstruction.parts", True,
     ["model", "generationConfig.responseModalities", "systemInstruction.parts"]),
    ("system_instruction,generationConfig.top_p", False, ["systemInstruction", "generationConfig.topP"]),
    ({"paths": ["tools", "model"]}, False, ["tools", "model"]),
    ("", True, []),
])
def test_parse_field_mask_accepts(raw, nested, expected):
    assert parse_field_mask(raw, accept_nested=nested) == expected


@pytest.mark.parametrize("raw, nested", [
    ("tools.0", True), ("model,temperature", True), ("systemInstruction.parts", False),
    ("generationConfig.speechConfig.voiceConfig", False), ("tools.functionDeclarations", True), (5, True),
])
def test_parse_field_mask_rejects(raw, nested):
    with pytest.raises(MintRejected) as info:
        parse_field_mask(raw, accept_nested=nested)
    assert info.value.http_status == 400


def test_mask_must_cover_every_set_field():
    check_mask_covers(TOKEN, ["model", "generationConfig", "systemInstruction", "sessionResumption"])
    check_mask_covers(TOKEN, ["model", "generationConfig.responseModalities", "generationConfig.temperature",
                              "systemInstruction.parts", "systemInstruction.role", "sessionResumption"])
    with pytest.raises(MintRejected, match=r"not specified in field_mask \(generationConfig.temperature\)"):
        check_mask_covers(TOKEN, ["model", "generationConfig.responseModalities", "systemInstruction",
                                  "sessionResumption"])


def test_merge_global_lock_takes_the_token_only():
    assert merge_setup(TOKEN, None, CLIENT) == TOKEN


def test_merge_without_token_setup_takes_the_client():
    assert merge_setup(None, None, CLIENT) == CLIENT


def test_merge_with_mask_overwrites_and_clears_masked_paths_only():
    effective = merge_setup(TOKEN, ["model", "generationConfig.responseModalities", "generationConfig.seed"], CLIENT)
    assert effective["generationConfig"] == {"temperature": 0.9, "topP": 0.5, "responseModalities": ["AUDIO"]}
    assert effective["systemInstruction"] == CLIENT["systemInstruction"]
    assert effective["tools"] == CLIENT["tools"]
    effective = merge_setup(TOKEN, ["systemInstruction", "tools"], CLIENT)
    assert effective["systemInstruction"] == TOKEN["systemInstruction"]
    assert "tools" not in effective  # locked but unset in the token: cleared


def test_merge_does_not_alias_inputs():
    effective = merge_setup(TOKEN, None, CLIENT)
    effective["generationConfig"]["temperature"] = 5
    assert TOKEN["generationConfig"]["temperature"] == 0.2


@pytest.mark.parametrize("setup, code, reason_start", [
    ({}, 1007, "Request contains an invalid argument."),
    ({"model": "models/gemini-2.0-flash-live-001"}, 1008, "models/gemini-2.0-flash-live-001 is not found"),
    ({"model": MODEL, "generationConfig": {"responseModalities": ["TEXT"]}}, 1007, "Cannot extract voices"),
    ({"model": "gemini-3.1-flash-live-preview", "generationConfig": {"responseModalities": ["TEXT"]}}, 1011,
     "Internal error encountered."),
    ({"model": MODEL, "generationConfig": {"responseModalities": ["AUDIO", "TEXT"]}}, 1007, "Request contains"),
])
def test_check_model_refusals(setup, code, reason_start):
    with pytest.raises(SessionRefused) as info:
        check_model(setup, "v1alpha")
    assert info.value.code == code and info.value.reason.startswith(reason_start)


@pytest.mark.parametrize("model", ["models/gemini-2.5-flash-native-audio-preview-09-2025",
                                   "gemini-2.5-flash-native-audio-latest", "models/gemini-3.1-flash-live-preview"])
def test_check_model_accepts_live_models(model):
    assert check_model({"model": model}, "v1beta") == model.removeprefix("models/")


def test_system_instruction_text_joins_parts():
    assert system_instruction_text({"systemInstruction": {"parts": [{"text": "a"}, {"inlineData": {}}, {"text": "b"}]}}) == "a\nb"
    assert system_instruction_text({}) == ""
