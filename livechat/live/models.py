"""The Live models we support and each one's rules, in one table that drives the locked config.

One row per model: its id and aliases, status (GA / preview / legacy), the response
modality, whether function calls may be declared NON_BLOCKING (and what an undeclared
call does), thinking support, voices, whether the input transcription takes a
``custom_vocabulary``, and the quirks the session must work around. ``tokens.build_live_config``
reads the row of ``LiveSettings.model``; the session reads it for the input rules
around tool calls; the Settings page shows it. The emulator keeps its own table of the
same facts (``livechat/emulator/models.py``; it may not import the product), and the
integration tests run every row here against it.

Sources (shared/LIVE_PROTOCOL.md §4 and §8, where each fact is cited):
- 3.8: model page ai.google.dev/gemini-api/docs/models/gemini-3.8-live and its migration
  notes: calls NON_BLOCKING by default, ``BLOCKING`` accepted per declaration, responses may
  carry ``scheduling``; no thinking config; proactive audio always on; affective dialog
  removed; AUDIO only; catalog voices such as ``en-us-tavi``; ``custom_vocabulary`` (Vertex
  3.8 guide). ``-extended-thinking``: thinking level low/medium/high (AgoraIO
  agora-agents-python v2.9.0 release notes).
- 3.1 Flash Live (legacy preview since 3.8): "sync function calls only", thinking level,
  no proactive audio or affective dialog (model page gemini-3.1-flash-live-preview); refuses
  catalog voices with ``1007 … no matching speaker voice``.
- 2.5 native audio: GA id ``gemini-live-2.5-flash-native-audio``; the ``-preview-12-2025``,
  ``-09-2025`` and ``-latest`` ids remain previews (changelog; live-guide).
- Quirks: 3.x does not run inference after a tool response until a realtime input follows
  (pipecat-ai/pipecat PR #4366: send ``realtimeInput.text=" "``); 2.5 ignores parallel calls
  while one is pending (livekit/agents-js #1137); preview native-audio models do not always
  send ``interrupted`` (hkjarral/AVA-AI-Voice-Agent-for-Asterisk #385).

Pure data; any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


Status = Literal["ga", "preview", "legacy", "unknown"]
Behavior = Literal["BLOCKING", "NON_BLOCKING"]

# The 30 prebuilt ("classic") voices of the native-audio models (LIVE_PROTOCOL.md §4).
CLASSIC_VOICES: tuple[str, ...] = (
    "Achernar", "Achird", "Algenib", "Algieba", "Alnilam", "Aoede", "Autonoe", "Callirrhoe",
    "Charon", "Despina", "Enceladus", "Erinome", "Fenrir", "Gacrux", "Iapetus", "Kore",
    "Laomedeia", "Leda", "Orus", "Pulcherrima", "Puck", "Rasalgethi", "Sadachbia",
    "Sadaltager", "Schedar", "Sulafat", "Umbriel", "Vindemiatrix", "Zephyr", "Zubenelgenubi",
)
# Catalog voice ids on 3.8: BCP-47 language and region, then a name (``en-us-tavi``).
CATALOG_VOICE = re.compile(r"^[a-z]{2,3}-[a-z]{2}-[a-z0-9][a-z0-9-]*$")

# The input pipecat sends after a tool response so a 3.x model runs inference again
# (pipecat-ai/pipecat PR #4366).
POST_TOOL_RESPONSE_INPUT = " "


@dataclass(frozen=True)
class ModelInfo:
    """What one Live model accepts and how it behaves (a row of the table)."""

    id: str
    family: str  # "2.5" | "3.1" | "3.8"
    status: Status
    aliases: tuple[str, ...] = ()
    response_modalities: tuple[str, ...] = ("AUDIO",)  # text comes from output transcription
    # What a call does when its declaration names no behaviour.
    default_tool_behavior: Behavior = "BLOCKING"
    # Whether declarations may carry ``behavior`` (NON_BLOCKING calls, ``scheduling``).
    async_tools: bool = False
    thinking: Literal["unsupported", "levels", "budget"] = "budget"
    catalog_voices: bool = False  # accepts catalog ids such as en-us-tavi besides the classic names
    custom_vocabulary: bool = False  # AudioTranscriptionConfig.custom_vocabulary is documented
    # Send POST_TOOL_RESPONSE_INPUT after each tool response (the model otherwise stalls).
    needs_input_after_tool_response: bool = False
    # Only the first of parallel calls runs while one is pending.
    ignores_parallel_calls: bool = False
    # ``interrupted`` may not arrive when the analyst talks over the reply.
    unreliable_interrupted: bool = False
    notes: tuple[str, ...] = ()

    @property
    def status_label(self) -> str:
        return {"ga": "GA", "preview": "preview", "legacy": "legacy preview",
                "unknown": "not in our table"}[self.status]

    def accepts_voice(self, voice: str) -> bool:
        """True when ``voice`` is a classic name, or a catalog id on a model that has them."""
        return voice in CLASSIC_VOICES or bool(self.catalog_voices and CATALOG_VOICE.match(voice))


def _native_25(model_id: str, status: Status, aliases: tuple[str, ...] = ()) -> ModelInfo:
    preview = status == "preview"
    return ModelInfo(
        id=model_id, family="2.5", status=status, aliases=aliases,
        ignores_parallel_calls=True,  # livekit/agents-js #1137
        unreliable_interrupted=preview,  # AVA #385: preview native-audio models
        notes=(
            "Mid-call `1007 … CONTENT_TYPE_AUDIO is not supported` has been reported on healthy "
            "calls (AVA #496, #541, #598); the session resumes.",
        ) + (("A preview: Google may change or retire it.",) if preview else ()),
    )


def _gemini_38(model_id: str, thinking: Literal["unsupported", "levels"]) -> ModelInfo:
    return ModelInfo(
        id=model_id, family="3.8", status="ga", default_tool_behavior="NON_BLOCKING",
        async_tools=True, thinking=thinking, catalog_voices=True, custom_vocabulary=True,
        needs_input_after_tool_response=True,  # 3.x: pipecat PR #4366
        notes=("Function calls are asynchronous: the model keeps talking while a tool runs.",
               "Proactive audio is always on; affective dialog and thinking config are refused."),
    )


MODELS: tuple[ModelInfo, ...] = (
    _gemini_38("gemini-3.8-live", "unsupported"),
    _gemini_38("gemini-3.8-live-extended-thinking", "levels"),
    ModelInfo(
        id="gemini-3.1-flash-live-preview", family="3.1", status="legacy", thinking="levels",
        needs_input_after_tool_response=True,  # 3.x: pipecat PR #4366
        notes=("Legacy preview since 3.8: synchronous function calls only.",
               "Closes with `1008 The operation was aborted` every ~3 minutes "
               "(autonomous-os #238); the session resumes."),
    ),
    _native_25("gemini-live-2.5-flash-native-audio", "ga"),
    _native_25("gemini-2.5-flash-native-audio-preview-12-2025", "preview",
               aliases=("gemini-2.5-flash-native-audio-latest",)),
    _native_25("gemini-2.5-flash-native-audio-preview-09-2025", "preview"),
)

_BY_NAME: dict[str, ModelInfo] = {}
for _row in MODELS:
    for _name in (_row.id, *_row.aliases):
        _BY_NAME[_name] = _row


def bare_model(model: str) -> str:
    """``models/X`` -> ``X`` (the SDK adds the prefix on the wire)."""
    return model[len("models/"):] if model.startswith("models/") else model


def known_model(model: str) -> ModelInfo | None:
    """The table's row for ``model`` (an id or alias, with or without ``models/``), else None."""
    return _BY_NAME.get(bare_model(model))


def model_info(model: str) -> ModelInfo:
    """The rules for ``model``; an unknown model gets the most conservative ones.

    The service may know models we do not, so an unknown id is not refused here: it runs
    with blocking calls, no custom vocabulary, classic voices and the post-tool-response
    input (harmless where not needed), and the Settings page warns about it.
    """
    row = known_model(model)
    if row is not None:
        return row
    return ModelInfo(
        id=bare_model(model), family="?", status="unknown",
        needs_input_after_tool_response=True, unreliable_interrupted=True,
        notes=("Not in this app's table of tested models: it is used with conservative "
               "settings (blocking tool calls, no custom vocabulary). If the service "
               "refuses it, the Talk page says so.",),
    )

