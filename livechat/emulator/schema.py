"""Proto field tables and key normalisation for the JSON the emulator receives.

proto3 JSON parsers accept both ``lowerCamelCase`` and the original
``snake_case`` field names, and the SDK sends a mix (camelCase top levels,
snake_case inside pydantic-dumped objects: ``voice_config``, ``sliding_window``).
``normalise`` rewrites *proto field names only* to camelCase and leaves user
data alone: map keys (``parameters.properties``, ``labels``) and opaque
``Struct`` values (``args``, ``response``, JSON schemas) are copied verbatim.

Messages marked strict reject unknown fields the way Google does
(``Invalid JSON payload received. Unknown name "x" at 'a.b': Cannot find field.``);
lenient ones (large or fast-moving protos such as ``Part`` and ``Tool``) keep
unknown fields untouched, so a newer SDK field does not break the emulator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Field kinds: ("scalar",), ("opaque",), ("msg", NAME), ("rep", NAME), ("map", NAME | None)
S: tuple = ("scalar",)
O: tuple = ("opaque",)


def M(name: str) -> tuple:  # noqa: N802 - table DSL
    return ("msg", name)


def R(name: str) -> tuple:  # noqa: N802 - table DSL
    return ("rep", name)


def MAP(name: str | None) -> tuple:  # noqa: N802 - table DSL
    return ("map", name)


@dataclass(frozen=True)
class MessageSpec:
    """One proto message: whether unknown fields are errors, and its fields."""

    strict: bool
    fields: dict[str, tuple]
    proto: str  # full type name used in "Invalid value at ..." messages


_GEN = "google.ai.generativelanguage.v1alpha."

MESSAGES: dict[str, MessageSpec] = {
    "AuthToken": MessageSpec(True, {
        "name": S, "expireTime": S, "newSessionExpireTime": S, "uses": S,
        "bidiGenerateContentSetup": M("Setup"), "fieldMask": S,
    }, _GEN + "AuthToken"),
    "Setup": MessageSpec(True, {
        "model": S, "generationConfig": M("GenerationConfig"), "systemInstruction": M("Content"),
        "tools": R("Tool"), "realtimeInputConfig": M("RealtimeInputConfig"),
        "sessionResumption": M("SessionResumptionConfig"),
        "contextWindowCompression": M("ContextWindowCompressionConfig"),
        "inputAudioTranscription": M("AudioTranscriptionConfig"),
        "outputAudioTranscription": M("AudioTranscriptionConfig"),
        "proactivity": M("ProactivityConfig"), "historyConfig": M("HistoryConfig"),
        "avatarConfig": M("Lenient"), "safetySettings": R("Lenient"), "labels": MAP(None),
        "explicitVadSignal": S,
    }, _GEN + "BidiGenerateContentSetup"),
    "GenerationConfig": MessageSpec(True, {
        "candidateCount": S, "maxOutputTokens": S, "temperature": S, "topP": S, "topK": S,
        "presencePenalty": S, "frequencyPenalty": S, "responseModalities": S,
        "speechConfig": M("SpeechConfig"), "mediaResolution": S, "seed": S,
        "thinkingConfig": M("ThinkingConfig"), "enableAffectiveDialog": S, "translationConfig": M("Lenient"),
        "stopSequences": S, "responseMimeType": S, "responseSchema": O, "responseJsonSchema": O,
        "responseLogprobs": S, "logprobs": S, "audioTimestamp": S, "routingConfig": M("Lenient"),
        "modelSelectionConfig": M("Lenient"), "enableEnhancedCivicAnswers": S, "responseFormat": O,
        "audioTranscriptionConfig": M("Lenient"),
    }, _GEN + "GenerationConfig"),
    # Lenient, but known fields normalised: the 3.8 rules read thinkingLevel (google-genai sends thinking_level).
    "ThinkingConfig": MessageSpec(False, {"thinkingBudget": S, "thinkingLevel": S, "includeThoughts": S},
                                  _GEN + "ThinkingConfig"),
    "SpeechConfig": MessageSpec(True, {
        "voiceConfig": M("VoiceConfig"), "languageCode": S, "multiSpeakerVoiceConfig": O,
    }, _GEN + "SpeechConfig"),
    "VoiceConfig": MessageSpec(True, {
        "prebuiltVoiceConfig": M("PrebuiltVoiceConfig"), "replicatedVoiceConfig": O, "voice": O,
    }, _GEN + "VoiceConfig"),
    "PrebuiltVoiceConfig": MessageSpec(True, {"voiceName": S}, _GEN + "PrebuiltVoiceConfig"),
    "RealtimeInputConfig": MessageSpec(True, {
        "automaticActivityDetection": M("AutomaticActivityDetection"), "activityHandling": S,
        "turnCoverage": S, "interimTranscriptTimestampEnabled": S,
    }, _GEN + "RealtimeInputConfig"),
    "AutomaticActivityDetection": MessageSpec(True, {
        "disabled": S, "startOfSpeechSensitivity": S, "endOfSpeechSensitivity": S,
        "prefixPaddingMs": S, "silenceDurationMs": S,
    }, _GEN + "RealtimeInputConfig.AutomaticActivityDetection"),
    "SessionResumptionConfig": MessageSpec(True, {"handle": S, "transparent": S},
                                           _GEN + "SessionResumptionConfig"),
    "ContextWindowCompressionConfig": MessageSpec(True, {
        "triggerTokens": S, "slidingWindow": M("SlidingWindow"),
    }, _GEN + "ContextWindowCompressionConfig"),
    "SlidingWindow": MessageSpec(True, {"targetTokens": S},
                                 _GEN + "ContextWindowCompressionConfig.SlidingWindow"),
    # Lenient: known fields are normalised (customVocabulary: LIVE_PROTOCOL 8.1; google-genai 3.6.1
    # sends it snake_case inside tokens and setups), newer ones pass through.
    "AudioTranscriptionConfig": MessageSpec(False, {
        "customVocabulary": S, "languageCodes": S, "adaptationPhrases": S, "languageHints": O,
        "languageAuto": O, "wordTimestamp": S, "diarization": S, "mode": S, "sourceText": S,
    }, _GEN + "AudioTranscriptionConfig"),
    "ProactivityConfig": MessageSpec(True, {"proactiveAudio": S, "proactiveVideo": S},
                                     _GEN + "ProactivityConfig"),
    "HistoryConfig": MessageSpec(True, {"initialHistoryInClientContent": S}, _GEN + "HistoryConfig"),
    "Content": MessageSpec(True, {"parts": R("Part"), "role": S}, _GEN + "Content"),
    "Part": MessageSpec(False, {
        "text": S, "inlineData": M("Blob"), "functionCall": M("FunctionCall"),
        "functionResponse": M("FunctionResponse"), "thought": S, "thoughtSignature": S,
    }, _GEN + "Part"),
    "Blob": MessageSpec(False, {"data": S, "mimeType": S, "displayName": S}, _GEN + "Blob"),
    "FunctionCall": MessageSpec(False, {"id": S, "name": S, "args": O}, _GEN + "FunctionCall"),
    "FunctionResponse": MessageSpec(False, {
        "id": S, "name": S, "response": O, "willContinue": S, "scheduling": S, "parts": R("Lenient"),
    }, _GEN + "FunctionResponse"),
    "Tool": MessageSpec(False, {"functionDeclarations": R("FunctionDeclaration")}, _GEN + "Tool"),
    "FunctionDeclaration": MessageSpec(False, {
        "name": S, "description": S, "parameters": M("Schema"), "parametersJsonSchema": O,
        "response": M("Schema"), "responseJsonSchema": O, "behavior": S,
    }, _GEN + "FunctionDeclaration"),
    "Schema": MessageSpec(False, {
        "properties": MAP("Schema"), "items": M("Schema"), "anyOf": R("Schema"), "defs": MAP("Schema"),
        "additionalProperties": O, "default": O, "example": O, "enum": S, "required": S,
        "propertyOrdering": S,
    }, _GEN + "Schema"),
    "Lenient": MessageSpec(False, {}, "google.protobuf.Struct"),
    # Client -> server WebSocket messages.
    "ClientMessage": MessageSpec(True, {
        "setup": M("Setup"), "clientContent": M("ClientContent"), "realtimeInput": M("RealtimeInput"),
        "toolResponse": M("ToolResponse"), "contextUpdate": M("ContextUpdate"),
    }, _GEN + "BidiGenerateContentClientMessage"),
    "ClientContent": MessageSpec(True, {"turns": R("Content"), "turnComplete": S},
                                 _GEN + "BidiGenerateContentClientContent"),
    "RealtimeInput": MessageSpec(True, {
        "mediaChunks": R("Blob"), "audio": M("Blob"), "audioStreamEnd": S, "video": M("Blob"),
        "text": S, "activityStart": O, "activityEnd": O,
    }, _GEN + "BidiGenerateContentRealtimeInput"),
    "ToolResponse": MessageSpec(True, {"functionResponses": R("FunctionResponse")},
                                _GEN + "BidiGenerateContentToolResponse"),
    "ContextUpdate": MessageSpec(False, {"systemInstruction": M("Content")},
                                 _GEN + "BidiGenerateContentContextUpdate"),
}

_SNAKE_SPLIT = re.compile(r"_([a-z0-9])")
_CAMEL_SPLIT = re.compile(r"([A-Z])")


def to_camel(name: str) -> str:
    """``voice_config`` -> ``voiceConfig``; camelCase names are returned unchanged."""
    return _SNAKE_SPLIT.sub(lambda m: m.group(1).upper(), name)


def to_snake(name: str) -> str:
    """``voiceConfig`` -> ``voice_config`` (the form Google uses in error paths)."""
    return _CAMEL_SPLIT.sub(lambda m: "_" + m.group(1).lower(), name)


class SchemaError(ValueError):
    """The JSON does not fit the proto: ``message`` is Google-styled, ready to show."""


def normalise(value: Any, message: str, path: str = "") -> dict:
    """Return a copy of ``value`` (a JSON object for proto ``message``) with camelCase field names.

    Raises ``SchemaError`` for an unknown field of a strict message or a value
    of the wrong JSON type where a message or a list is expected.
    """
    spec = MESSAGES[message]
    if not isinstance(value, dict):
        raise SchemaError(_invalid_value(path, spec.proto, value))
    out: dict = {}
    for key, item in value.items():
        camel = to_camel(key) if isinstance(key, str) else key
        field = spec.fields.get(camel)
        child_path = f"{path}.{to_snake(camel)}" if path else to_snake(camel)
        if field is None:
            if spec.strict:
                where = f" at '{path}'" if path else ""
                raise SchemaError(
                    f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.')
            out[key] = item  # lenient: unknown fields pass through untouched
            continue
        out[camel] = _normalise_field(item, field, child_path)
    return out


def _normalise_field(item: Any, field: tuple, path: str) -> Any:
    kind = field[0]
    if kind in ("scalar", "opaque") or item is None:
        return item
    if kind == "msg":
        return normalise(item, field[1], path)
    if kind == "rep":
        if not isinstance(item, list):
            raise SchemaError(_invalid_value(path, MESSAGES[field[1]].proto, item))
        return [normalise(entry, field[1], f"{path}[{index}]") for index, entry in enumerate(item)]
    if kind == "map":
        if not isinstance(item, dict):
            raise SchemaError(_invalid_value(path, "map", item))
        if field[1] is None:
            return dict(item)
        return {key: normalise(entry, field[1], f"{path}[{key}]") for key, entry in item.items()}
    raise AssertionError(f"unknown field kind {kind!r}")


def _invalid_value(path: str, type_name: str, value: Any) -> str:
    shown = json.dumps(value)[:80]
    where = f" at '{path}'" if path else ""
    return f"Invalid value{where} (type.googleapis.com/{type_name}), {shown}"


def field_spec(message: str, camel_name: str) -> tuple | None:
    """The field kind of ``message.camel_name`` or ``None`` if the proto has no such field."""
    return MESSAGES[message].fields.get(camel_name)
