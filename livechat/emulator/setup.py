"""Session setup rules: field masks, the token/client merge, and model checks.

This is where the "silent global lock" lives (LIVE_PROTOCOL 1.5, 1.7, 5.9):

* no token setup and no mask: the client's setup is the session's;
* token setup and no mask: the token's setup *only*; the client's is dropped
  without any error (system instruction, tools, voice, transcription...);
* a mask: the client's setup with every masked path overwritten by the
  token's value, or cleared when the token does not set it.

Everything else in the emulator reads the *effective* setup produced here.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import SessionRefused, invalid_argument
from .models import MODELS, check_setup_rules, rules_for
from .schema import MESSAGES, SchemaError, field_spec, normalise, to_camel

# Kept for callers of the old names; the table with each model's rules is models.MODELS.
NATIVE_AUDIO_MODELS = tuple(rules.id for rules in MODELS.values() if rules.family == "2.5")
LIVE_MODELS = tuple(MODELS)

INVALID_ARGUMENT_REASON = "Request contains an invalid argument."
_MASK_INVALID = "field_mask is invalid for BidiGenerateContentSetup"
_MASK_UNCOVERED = "BidiGenerateContentSetup contains fields that are not specified in field_mask"


# ---------------------------------------------------------------- field masks

def parse_field_mask(raw: Any, *, accept_nested: bool) -> list[str]:
    """Parse a proto3-JSON ``FieldMask`` into camelCase paths; raise ``MintRejected`` 400.

    Accepts the comma-joined string the SDK sends (camelCase or snake_case
    segments) and the ``{"paths": [...]}`` object form. Array indices
    (``tools.0``) are never valid. Nested paths are valid when
    ``accept_nested`` is true; ``generationConfig.<field>`` always is.
    """
    if raw is None:
        return []
    if isinstance(raw, dict) and set(raw) <= {"paths"} and isinstance(raw.get("paths", []), list):
        items = raw.get("paths", [])
    elif isinstance(raw, str):
        items = raw.split(",")
    else:
        raise invalid_argument(f"Invalid value at 'field_mask' (type.googleapis.com/google.protobuf.FieldMask), {raw!r}")
    paths: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise invalid_argument(f"{_MASK_INVALID} (path {item!r} is not a string)")
        item = item.strip()
        if not item:
            continue
        path = _validate_mask_path(item, accept_nested=accept_nested)
        if path not in paths:
            paths.append(path)
    return paths


def _validate_mask_path(item: str, *, accept_nested: bool) -> str:
    segments = item.split(".")
    message: str | None = "Setup"
    camel_segments: list[str] = []
    for depth, segment in enumerate(segments):
        if not segment or segment.isdigit() or "[" in segment or message is None:
            raise invalid_argument(f"{_MASK_INVALID} (path {item!r})")
        camel = to_camel(segment)
        spec = field_spec(message, camel)
        if spec is None:
            raise invalid_argument(f"{_MASK_INVALID} (path {item!r}: no field {segment!r})")
        if depth >= 1:
            under_generation_config = depth == 1 and camel_segments[0] == "generationConfig"
            if not (accept_nested or under_generation_config):
                raise invalid_argument(f"{_MASK_INVALID} (nested path {item!r})")
        camel_segments.append(camel)
        # Only singular message fields can be descended into.
        message = spec[1] if spec[0] == "msg" else None
    return ".".join(camel_segments)


def check_mask_covers(setup: dict, paths: list[str]) -> None:
    """Raise ``MintRejected`` 400 unless every field set in ``setup`` is covered by ``paths``."""
    uncovered = _first_uncovered(setup, "", set(paths))
    if uncovered:
        raise invalid_argument(f"{_MASK_UNCOVERED} ({uncovered})")


def _first_uncovered(value: Any, prefix: str, paths: set[str]) -> str | None:
    if prefix and prefix in paths:
        return None
    children = [p for p in paths if p.startswith(prefix + ".")] if prefix else list(paths)
    if prefix and (not children or not isinstance(value, dict)):
        return prefix
    for key, item in value.items():
        found = _first_uncovered(item, f"{prefix}.{key}" if prefix else key, paths)
        if found:
            return found
    return None


# ---------------------------------------------------------------- merge

def merge_setup(token_setup: dict | None, mask: list[str] | None, client_setup: dict) -> dict:
    """Return the effective setup of a session (see the module docstring)."""
    if token_setup is None and not mask:
        return copy.deepcopy(client_setup)
    if not mask:
        return copy.deepcopy(token_setup or {})
    effective = copy.deepcopy(client_setup)
    for path in mask:
        segments = path.split(".")
        found, value = _get_path(token_setup or {}, segments)
        if found:
            _set_path(effective, segments, copy.deepcopy(value))
        else:
            _delete_path(effective, segments)
    return effective


def _get_path(tree: dict, segments: list[str]) -> tuple[bool, Any]:
    node: Any = tree
    for segment in segments:
        if not isinstance(node, dict) or segment not in node:
            return False, None
        node = node[segment]
    return True, node


def _set_path(tree: dict, segments: list[str], value: Any) -> None:
    node = tree
    for segment in segments[:-1]:
        child = node.get(segment)
        if not isinstance(child, dict):
            child = node[segment] = {}
        node = child
    node[segments[-1]] = value


def _delete_path(tree: dict, segments: list[str]) -> None:
    node: Any = tree
    for segment in segments[:-1]:
        node = node.get(segment) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(segments[-1], None)


# ---------------------------------------------------------------- the setup frame and model checks

def normalise_setup(raw: Any, *, path: str = "") -> dict:
    """Normalise a ``BidiGenerateContentSetup`` JSON object; raise ``SchemaError``."""
    return normalise(raw, "Setup", path)


def check_model(effective: dict, api_version: str) -> str:
    """Validate the effective model against its rules (``models.MODELS``); return the bare model name.

    Raises ``SessionRefused`` with the codes the service uses: 1008 for an
    unknown model, 1007 for a setup field the model refuses (TEXT on a
    native-audio or 3.8 model, thinking config, proactive audio off, affective
    dialog or a catalog voice where not supported), 1011 for TEXT on 3.1, as
    reported, 1007 for anything else malformed.
    """
    model = effective.get("model")
    if not isinstance(model, str) or not model:
        raise SessionRefused(1007, INVALID_ARGUMENT_REASON, "the effective setup has no model")
    rules = rules_for(model, api_version)
    check_setup_rules(rules, effective)
    return rules.id


# ---------------------------------------------------------------- reading the effective setup

def system_instruction_text(setup: dict) -> str:
    """The text of the effective system instruction (parts joined by newlines), or ''."""
    instruction = setup.get("systemInstruction")
    if not isinstance(instruction, dict):
        return ""
    texts = [part.get("text") for part in instruction.get("parts") or []
             if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return "\n".join(texts)


def declared_functions(setup: dict) -> list[str]:
    """Names of the function tools the effective setup declares."""
    names: list[str] = []
    for tool in setup.get("tools") or []:
        if isinstance(tool, dict):
            for declaration in tool.get("functionDeclarations") or []:
                if isinstance(declaration, dict) and isinstance(declaration.get("name"), str):
                    names.append(declaration["name"])
    return names


def voice_name(setup: dict) -> str:
    """The effective prebuilt voice (the service's default is Puck)."""
    speech = (setup.get("generationConfig") or {}).get("speechConfig") or {}
    voice = ((speech.get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}).get("voiceName")
    return voice if isinstance(voice, str) and voice else "Puck"


def activity_detection(setup: dict) -> dict:
    """The effective ``realtimeInputConfig.automaticActivityDetection`` (may be empty)."""
    config = setup.get("realtimeInputConfig") or {}
    detection = config.get("automaticActivityDetection") or {}
    return detection if isinstance(detection, dict) else {}


def activity_interrupts(setup: dict) -> bool:
    """False when the effective setup says ``activityHandling: NO_INTERRUPTION``."""
    config = setup.get("realtimeInputConfig") or {}
    return config.get("activityHandling") != "NO_INTERRUPTION"


def has_field(setup: dict, name: str) -> bool:
    """True when the top-level field ``name`` is present (``{}`` counts: it enables a feature)."""
    return isinstance(setup.get(name), dict)


def setup_fields() -> list[str]:
    """All top-level field names of ``BidiGenerateContentSetup`` (camelCase)."""
    return list(MESSAGES["Setup"].fields)


__all__ = [
    "LIVE_MODELS", "NATIVE_AUDIO_MODELS", "SchemaError", "activity_detection", "activity_interrupts",
    "check_mask_covers", "check_model", "declared_functions", "has_field", "merge_setup",
    "normalise_setup", "parse_field_mask", "setup_fields", "system_instruction_text", "voice_name",
]
