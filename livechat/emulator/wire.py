"""The Live WebSocket wire format: decoding client frames, building server messages.

Client frames are JSON (text or binary) with top-level keys in either case
(``realtime_input`` / ``realtimeInput``); ``parse_client_frame`` normalises
them. Server messages use camelCase only and go out as binary frames, like the
service's (LIVE_PROTOCOL 2.5, 5.11-5.13). Errors never travel as JSON
``{"error": ...}`` frames (the SDK crashes on them): they become close frames.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .errors import SessionRefused
from .schema import SchemaError, normalise

MAX_CLOSE_REASON_BYTES = 123
INVALID_ARGUMENT = "Request contains an invalid argument."


def close_reason(text: str) -> str:
    """``text`` cut to the 123 bytes a close frame can carry, on a UTF-8 boundary."""
    data = text.encode("utf-8")
    if len(data) <= MAX_CLOSE_REASON_BYTES:
        return text
    return data[:MAX_CLOSE_REASON_BYTES].decode("utf-8", errors="ignore")


def _load(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SessionRefused(1007, INVALID_ARGUMENT, f"the frame is not JSON ({exc})") from None


def parse_setup_frame(frame: str | bytes) -> tuple[Any, dict]:
    """The first client frame: return (setup as received, normalised setup).

    It must be a JSON object whose only key is ``setup``; anything else closes
    the connection with 1007.
    """
    message = _load(frame)
    if not isinstance(message, dict) or list(message) != ["setup"]:
        keys = list(message) if isinstance(message, dict) else type(message).__name__
        raise SessionRefused(1007, INVALID_ARGUMENT,
                             f"the first message must be {{\"setup\": ...}} and nothing else, got {keys}")
    raw = message["setup"]
    try:
        return raw, normalise(raw, "Setup", "setup")
    except SchemaError as exc:
        raise SessionRefused(1007, str(exc), str(exc)) from None


def parse_client_frame(frame: str | bytes) -> tuple[str | None, dict]:
    """A later client frame: return (message kind in camelCase, its normalised body).

    ``(None, {})`` for an empty message. Raises ``SessionRefused`` 1007 for
    non-JSON, unknown fields, a second ``setup`` or several kinds in one frame.
    """
    message = _load(frame)
    if not isinstance(message, dict):
        raise SessionRefused(1007, INVALID_ARGUMENT, f"a client message must be a JSON object, got {message!r:.40}")
    try:
        normalised = normalise(message, "ClientMessage")
    except SchemaError as exc:
        raise SessionRefused(1007, str(exc), str(exc)) from None
    kinds = [key for key, value in normalised.items() if value is not None]
    if not kinds:
        return None, {}
    if len(kinds) > 1:
        raise SessionRefused(1007, INVALID_ARGUMENT, f"one message carries several kinds: {kinds}")
    if kinds[0] == "setup":
        raise SessionRefused(1007, INVALID_ARGUMENT, "setup may only be the first message")
    return kinds[0], normalised[kinds[0]]


def encode(message: dict) -> bytes:
    """A server message as the bytes of a binary frame."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def setup_complete() -> dict:
    return {"setupComplete": {}}


def input_transcription(text: str, finished: bool = True) -> dict:
    transcription: dict = {"text": text, "finished": True} if finished else {"text": text}
    return {"serverContent": {"inputTranscription": transcription}}


def empty_content() -> dict:
    """The empty message the service sends often (LIVE_PROTOCOL 8.5)."""
    return {"serverContent": {}}


def output_transcription(text: str) -> dict:
    return {"serverContent": {"outputTranscription": {"text": text}}}


def audio_chunk(pcm: bytes, mime_type: str) -> dict:
    data = base64.b64encode(pcm).decode("ascii")  # standard alphabet, like the service
    return {"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": mime_type, "data": data}}]}}}


def generation_complete() -> dict:
    return {"serverContent": {"generationComplete": True}}


def turn_complete(usage: dict | None = None) -> dict:
    message: dict = {"serverContent": {"turnComplete": True}}
    if usage is not None:
        message["usageMetadata"] = usage
    return message


def interrupted() -> dict:
    return {"serverContent": {"interrupted": True}}


def tool_call(call_id: str, name: str, args: dict) -> dict:
    return tool_calls([(call_id, name, args)])


def tool_calls(calls: list[tuple[str, str, dict]]) -> dict:
    """One ``toolCall`` message with every ``(id, name, args)`` of ``calls``."""
    return {"toolCall": {"functionCalls": [{"id": call_id, "name": name, "args": args}
                                           for call_id, name, args in calls]}}


def tool_call_cancellation(ids: list[str]) -> dict:
    return {"toolCallCancellation": {"ids": list(ids)}}


def resumption_update(handle: str) -> dict:
    return {"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}}


def unresumable_update(*, empty_handle: bool) -> dict:
    """``{"resumable": false}``, or with an empty handle: what the service sends during tool calls
    (LIVE_PROTOCOL 8.5); a client must keep its last good handle."""
    update: dict = {"newHandle": "", "resumable": False} if empty_handle else {"resumable": False}
    return {"sessionResumptionUpdate": update}


def go_away(time_left: str) -> dict:
    return {"goAway": {"timeLeft": time_left}}


# Plain ASCII: a leading NUL would make json.loads guess UTF-16 and fail differently.
MALFORMED_FRAME = b"<emulator fault: this frame is not JSON>"
