"""The Live models the emulator knows, and each model's rules, in one table.

The model named in the *effective* setup picks the rules (no CLI switch):
which response modalities it accepts, whether it takes a thinking config,
proactive audio and affective dialog, which voices, whether function calls
block by default, and which of the service's reported rough edges
``--like-service`` turns on for it. Sources: ``shared/LIVE_PROTOCOL.md`` section 8
(each row says where its facts come from).

Pure data and pure checks: ``check_setup_rules`` raises ``SessionRefused`` with
the close code and reason the service uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SessionRefused

# Close reasons. Where the service's exact text is not public, the reason says what
# is wrong in the service's terse style and names the field (marked "emulator wording").
UNKNOWN_MODEL_REASON = ("models/{model} is not found for API version {version}, or is not supported for "
                        "bidiGenerateContent. Call ListModels to see the list of available models and their "
                        "supported methods.")  # cut to 123 bytes by the channel, as the service does (LIVE_PROTOCOL 8.5)
NO_VOICE_REASON = "Request contains an invalid argument: no matching speaker voice for {voice!r}."
NO_VOICES_FROM_TEXT_REASON = "Cannot extract voices from a non-audio request."

# The 30 prebuilt ("classic") voices of the Live native-audio models (LIVE_PROTOCOL 7: voices).
CLASSIC_VOICES = frozenset({
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
    "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
    "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
    "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
})
# Catalog voice ids such as "en-us-tavi": BCP-47 language and region, then a name (LIVE_PROTOCOL 8.1).
CATALOG_VOICE = re.compile(r"^[a-z]{2,3}-[a-z]{2}-[a-z0-9][a-z0-9-]*$")

# Service behaviours --like-service can turn on: names of EmulatorOptions fields, plus the
# model-specific periodic closes below (see behaviours.py for the values they get).
MID_CALL_1007 = "mid_call_1007"
PERIODIC_1008 = "periodic_1008"


@dataclass(frozen=True)
class ModelRules:
    """What one Live model accepts and how it behaves."""

    id: str
    family: str  # "2.5" | "3.1" | "3.8"
    status: str  # "ga" | "preview" | "legacy"
    # What TEXT in responseModalities gets: (code, reason, detail).
    text_refusal: tuple[int, str, str]
    thinking: str  # "accepted" | "refused" | "levels" (only thinkingLevel low/medium/high)
    default_behavior: str  # "BLOCKING" | "NON_BLOCKING": function calls without a declared behavior
    catalog_voices: bool  # accepts catalog voice ids such as en-us-tavi
    refuses_proactive_audio_off: bool
    refuses_affective_dialog: bool
    # Behaviours the public reports describe for this model (turned on by --like-service).
    service_behaviours: frozenset[str]


# Behaviours reported without a model restriction (LIVE_PROTOCOL 8.3-8.5): every model gets them.
_ALL_MODELS = frozenset({
    "refuse_input_during_tool_call",  # autonomous-os #231 / PR #237; livekit/agents #4545
    "usage_placement",  # LIVE_PROTOCOL 8.5 (usage at generation start, empty on turnComplete, on toolCall)
    "empty_frames",  # LIVE_PROTOCOL 8.5 (frequent {"serverContent":{}})
    "unresumable_during_tool_calls",  # LIVE_PROTOCOL 8.5 (resumable:false / empty handle during tool calls)
    "go_away_close",  # LIVE_PROTOCOL 8.3 (goAway then 1011 Deadline expired; 1008 for a lingering client)
})
_25 = _ALL_MODELS | {
    MID_CALL_1007,  # hkjarral/AVA-AI-Voice-Agent-for-Asterisk #496, #541, #598
    "incremental_input_transcription",  # LIVE_PROTOCOL 8.5: 2.5 sends a few characters at a time
    # livekit/agents-js #1137 (fix: PR #1138): on 2.5 a second call arrives in its own toolCall
    # message while the first is pending, and a client that tracks one pending call drops it.
    "separate_parallel_calls",
}
_25_PREVIEW = _25 | {"no_interrupted_event"}  # AVA #385: preview native-audio models
_3X = _ALL_MODELS | {
    "stall_after_tool_response",  # pipecat-ai/pipecat PR #4366 (3.x)
    "late_input_transcription_s",  # LIVE_PROTOCOL 8.5: 3.x sends a sentence, measured ~12 s late on 3.8
    "multipart_messages",  # LIVE_PROTOCOL 8.5: several parts in one message on 3.x
}
_31 = _3X | {PERIODIC_1008}  # autonomous-ai/autonomous-os #238: 1008 every ~170-185 s on 3.1

_TEXT_ON_NATIVE_AUDIO = (1007, NO_VOICES_FROM_TEXT_REASON, "{model} is a native-audio model: responseModalities must be AUDIO")
# 3.1 with TEXT was reported to close 1011 (kept from the emulator's earlier table).
_TEXT_ON_31 = (1011, "Internal error encountered.", "{model} does not support responseModalities TEXT")
# 3.8: "the only response modality is AUDIO" (3.8 model page); the close text is emulator wording.
_TEXT_ON_38 = (1007, "Request contains an invalid argument: response_modalities TEXT is not supported by this "
               "model; use AUDIO with output_audio_transcription.", "{model} accepts AUDIO only")


def _native_25(model_id: str, status: str, behaviours: frozenset[str]) -> ModelRules:
    return ModelRules(id=model_id, family="2.5", status=status, text_refusal=_TEXT_ON_NATIVE_AUDIO,
                      thinking="accepted", default_behavior="BLOCKING", catalog_voices=False,
                      refuses_proactive_audio_off=False, refuses_affective_dialog=False,
                      service_behaviours=behaviours)


def _gemini_38(model_id: str, thinking: str) -> ModelRules:
    # 3.8 model page and migration notes (LIVE_PROTOCOL 8.1): NON_BLOCKING calls by default,
    # no thinking config, proactive audio always on, affective dialog removed, AUDIO only,
    # catalog voices; -extended-thinking takes thinking level low/medium/high (AgoraIO
    # agora-agents-python v2.9.0 release notes).
    return ModelRules(id=model_id, family="3.8", status="ga", text_refusal=_TEXT_ON_38, thinking=thinking,
                      default_behavior="NON_BLOCKING", catalog_voices=True, refuses_proactive_audio_off=True,
                      refuses_affective_dialog=True, service_behaviours=_3X)


MODELS: dict[str, ModelRules] = {rules.id: rules for rules in (
    _gemini_38("gemini-3.8-live", "refused"),
    _gemini_38("gemini-3.8-live-extended-thinking", "levels"),
    # Legacy preview since 3.8 (LIVE_PROTOCOL 8.1); refuses catalog voices with 1007.
    ModelRules(id="gemini-3.1-flash-live-preview", family="3.1", status="legacy", text_refusal=_TEXT_ON_31,
               thinking="accepted", default_behavior="BLOCKING", catalog_voices=False,
               refuses_proactive_audio_off=False, refuses_affective_dialog=False, service_behaviours=_31),
    _native_25("gemini-live-2.5-flash-native-audio", "ga", _25),  # the 2.5 GA id (LIVE_PROTOCOL 8.1)
    _native_25("gemini-2.5-flash-native-audio-preview-12-2025", "preview", _25_PREVIEW),
    _native_25("gemini-2.5-flash-native-audio-preview-09-2025", "preview", _25_PREVIEW),
    _native_25("gemini-2.5-flash-native-audio-latest", "preview", _25_PREVIEW),
)}

THINKING_LEVELS = ("LOW", "MEDIUM", "HIGH")


def bare_model(model: str) -> str:
    """``models/X`` -> ``X``."""
    return model[len("models/"):] if model.startswith("models/") else model


def rules_for(model: str, api_version: str) -> ModelRules:
    """The rules of ``model`` (with or without ``models/``); unknown: ``SessionRefused`` 1008."""
    bare = bare_model(model)
    rules = MODELS.get(bare)
    if rules is None:
        raise SessionRefused(1008, UNKNOWN_MODEL_REASON.format(model=bare, version=api_version),
                             f"unknown model {model!r}; known: {', '.join(MODELS)}")
    return rules


def check_setup_rules(rules: ModelRules, setup: dict) -> None:
    """Refuse what ``rules.id`` does not accept in the effective ``setup`` (close 1007 / 1011)."""
    generation = setup.get("generationConfig") or {}
    modalities = generation.get("responseModalities") or ["AUDIO"]
    if not isinstance(modalities, list) or len(modalities) != 1 or modalities[0] not in ("AUDIO", "TEXT"):
        raise SessionRefused(1007, "Request contains an invalid argument.",
                             f"responseModalities must be exactly one of AUDIO or TEXT, got {modalities!r}")
    if modalities[0] == "TEXT":
        code, reason, detail = rules.text_refusal
        raise SessionRefused(code, reason, detail.format(model=rules.id))
    _check_thinking(rules, generation.get("thinkingConfig"))
    if rules.refuses_affective_dialog and "enableAffectiveDialog" in generation:
        raise _field_refused("generation_config.enable_affective_dialog", rules, "affective dialog was removed")
    proactivity = setup.get("proactivity") or {}
    if rules.refuses_proactive_audio_off and isinstance(proactivity, dict) \
            and proactivity.get("proactiveAudio") is False:
        raise _field_refused("proactivity.proactive_audio", rules, "proactive audio is always on; false is an error")
    voice = voice_of(setup)
    if voice and CATALOG_VOICE.match(voice) and not rules.catalog_voices:
        # Reported for 3.1 (LIVE_PROTOCOL 8.1); 2.5 predates the catalog voices, so it is refused the same way.
        raise SessionRefused(1007, NO_VOICE_REASON.format(voice=voice),
                             f"{rules.id} has no catalog voices (only 3.8 does)")


def _check_thinking(rules: ModelRules, thinking: object) -> None:
    if thinking is None or rules.thinking == "accepted":
        return
    if rules.thinking == "refused":
        raise _field_refused("generation_config.thinking_config", rules, "thinking config is not supported")
    config = thinking if isinstance(thinking, dict) else {}
    for name, value in config.items():
        if name != "thinkingLevel":
            raise _field_refused(f"generation_config.thinking_config.{_snake(name)}", rules,
                                 "only thinking_level low/medium/high is supported")
        if not isinstance(value, str) or value.upper() not in THINKING_LEVELS:
            raise _field_refused("generation_config.thinking_config.thinking_level", rules,
                                 f"thinking_level must be one of low, medium, high, got {value!r}")


def _field_refused(field: str, rules: ModelRules, why: str) -> SessionRefused:
    # The service's text for these is not public: emulator wording that names the field.
    return SessionRefused(1007, f"Request contains an invalid argument: {field} is not supported by models/{rules.id}.",
                          f"{rules.id}: {why}")


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def voice_of(setup: dict) -> str | None:
    """The prebuilt voice name the effective setup asks for, or ``None``."""
    speech = (setup.get("generationConfig") or {}).get("speechConfig") or {}
    voice = ((speech.get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}).get("voiceName")
    return voice if isinstance(voice, str) and voice else None


def function_behaviors(setup: dict, rules: ModelRules) -> dict[str, str]:
    """Each declared function's behaviour: its declared ``behavior``, else the model's default.

    ``UNSPECIFIED`` (or no field) means "keep the current behaviour", i.e. the
    model's default (google-genai 3.6.1 ``types.Behavior``).
    """
    behaviors: dict[str, str] = {}
    for tool in setup.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        for declaration in tool.get("functionDeclarations") or []:
            if isinstance(declaration, dict) and isinstance(declaration.get("name"), str):
                declared = declaration.get("behavior")
                declared = declared.upper() if isinstance(declared, str) else declared
                if declared in (1, "BLOCKING"):  # proto3 JSON also allows the enum's number
                    behavior = "BLOCKING"
                elif declared in (2, "NON_BLOCKING"):
                    behavior = "NON_BLOCKING"
                else:
                    behavior = rules.default_behavior
                behaviors[declaration["name"]] = behavior
    return behaviors


def custom_vocabulary(setup: dict) -> list[str] | None:
    """``inputAudioTranscription.customVocabulary`` of the effective setup, or ``None``."""
    config = setup.get("inputAudioTranscription")
    if not isinstance(config, dict):
        return None
    words = config.get("customVocabulary")
    return list(words) if isinstance(words, list) else None


_SCHEDULING_NUMBERS = {0: "WHEN_IDLE", 1: "SILENT", 2: "WHEN_IDLE", 3: "INTERRUPT"}


def scheduling_of(response: dict) -> str:
    """A function response's ``scheduling``: SILENT, WHEN_IDLE or INTERRUPT.

    google-genai 3.6.1 sends the enum name (``"WHEN_IDLE"``); proto3 JSON also
    allows its number. Unset or ``SCHEDULING_UNSPECIFIED`` means WHEN_IDLE, the
    documented default (``types.FunctionResponseScheduling``).
    """
    value = response.get("scheduling")
    if isinstance(value, int) and not isinstance(value, bool):
        return _SCHEDULING_NUMBERS.get(value, "WHEN_IDLE")
    if isinstance(value, str) and value.upper() in ("SILENT", "WHEN_IDLE", "INTERRUPT"):
        return value.upper()
    return "WHEN_IDLE"
