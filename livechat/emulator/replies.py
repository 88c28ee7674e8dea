"""What the emulated model says: deterministic reply texts and token counts.

The reply reports what the session was actually told, which is the point of the
emulator: a client whose instruction was silently dropped hears "I have no
system instruction." instead of a plausible answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_QUOTED_LINE = 200
MAX_TOOL_RESULT = 200
AUDIO_TOKENS_PER_S = 32  # LIVE_PROTOCOL 3: audio is 32 tokens per second
_CALL = re.compile(r"^\s*call\s+([A-Za-z_][A-Za-z0-9_.\-]*)\s*(\{.*\})?\s*$", re.DOTALL)


def speech_placeholder(duration_s: float) -> str:
    """The deterministic input transcription of an utterance, e.g. ``[speech 1.8 s]``."""
    return f"[speech {duration_s:.1f} s]"


def reply_text(user_text: str, system_instruction: str) -> str:
    """``You said: "<text>". My instructions begin: "<first line>" (<N> characters).``"""
    said = f'You said: "{user_text}".'
    if not system_instruction.strip():
        return f"{said} I have no system instruction."
    first_line = system_instruction.strip("\r\n").splitlines()[0]
    if len(first_line) > MAX_QUOTED_LINE:
        first_line = first_line[:MAX_QUOTED_LINE] + "…"
    return f'{said} My instructions begin: "{first_line}" ({len(system_instruction)} characters).'


@dataclass(frozen=True)
class ToolCommand:
    """A parsed ``call NAME {json args}`` text input."""

    name: str
    args: dict


def parse_tool_command(text: str, declared: list[str]) -> ToolCommand | None:
    """The tool call ``text`` asks for, or ``None`` (not a command, bad JSON, undeclared tool)."""
    match = _CALL.match(text)
    if not match or match.group(1) not in declared:
        return None
    args: Any = {}
    if match.group(2):
        try:
            args = json.loads(match.group(2))
        except ValueError:
            return None
    if not isinstance(args, dict):
        return None
    return ToolCommand(name=match.group(1), args=args)


def parse_tool_commands(text: str, declared: list[str]) -> list[ToolCommand]:
    """The tool calls ``text`` asks for: one ``call NAME {json}`` per line, every line a command.

    Several lines make parallel calls (one model turn, several function calls);
    any line that is not a valid command makes the whole text plain input (``[]``).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    commands = [parse_tool_command(line, declared) for line in lines] if len(lines) > 1 else []
    if commands and all(command is not None for command in commands):
        return [command for command in commands if command is not None]
    single = parse_tool_command(text, declared)
    return [single] if single is not None else []


def tool_reply_text(name: str, response: Any) -> str:
    """The spoken reply after a tool answered: its JSON result, truncated."""
    result = json.dumps(response, sort_keys=True, ensure_ascii=False)
    if len(result) > MAX_TOOL_RESULT:
        result = result[:MAX_TOOL_RESULT] + "…"
    return f"The {name} tool returned: {result}"


def tool_pending_text(names: list[str]) -> str:
    """What the model says while non-blocking calls run."""
    if len(names) == 1:
        return f"Let me check that with the {names[0]} tool."
    return f"Let me check that with the {', '.join(names[:-1])} and {names[-1]} tools."


def split_transcript(text: str, pieces: int) -> list[str]:
    """Split ``text`` into at most ``pieces`` word-aligned parts that concatenate back to it."""
    words = re.findall(r"\S+\s*", text) or [text]
    pieces = max(1, min(pieces, len(words)))
    size = len(words) / pieces
    parts = ["".join(words[round(i * size):round((i + 1) * size)]) for i in range(pieces)]
    leading = text[: len(text) - len(text.lstrip())]
    parts[0] = leading + parts[0]
    return [part for part in parts if part]


def text_tokens(text: str) -> int:
    """A rough token count for text (4 characters per token)."""
    return max(1, (len(text) + 3) // 4) if text else 0


def usage_metadata(*, prompt_text_tokens: int, prompt_audio_s: float, response_audio_s: float) -> dict:
    """A ``usageMetadata`` object shaped like the service's."""
    audio_in = int(round(prompt_audio_s * AUDIO_TOKENS_PER_S))
    audio_out = int(round(response_audio_s * AUDIO_TOKENS_PER_S))
    prompt = prompt_text_tokens + audio_in
    details = [{"modality": "TEXT", "tokenCount": prompt_text_tokens}]
    if audio_in:
        details.insert(0, {"modality": "AUDIO", "tokenCount": audio_in})
    return {
        "promptTokenCount": prompt, "responseTokenCount": audio_out, "totalTokenCount": prompt + audio_out,
        "promptTokensDetails": details,
        "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": audio_out}],
    }
