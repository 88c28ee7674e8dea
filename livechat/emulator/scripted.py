"""Scripted replies (``--replies FILE``): what the emulated model says to which question.

A JSON Lines file, one rule a line::

    {"match": "<regex on the question text>", "call": {"name": "run_sql", "args": {...}}, "say": "<text>"}

``call`` is optional. The first rule whose ``match`` finds the question text (typed, or
the ``[speech N s]`` placeholder of a spoken one; ``re.search``) decides the turn: with a
``call`` the emulator makes that tool call, waits for the response, then says ``say``
with ``{result}`` replaced by the response's JSON; without one it says ``say``. No rule
matches: the usual echo reply. Tests use it to make the model say right and wrong figures.

Blank lines and lines starting with ``#`` are skipped. A file that cannot be read, a line
that is not such an object or a ``match`` that does not compile is an
``EmulatorOptionsError`` naming the line. Pure functions; any thread.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EmulatorOptionsError
from .replies import ToolCommand

__all__ = ["RESULT_PLACEHOLDER", "ScriptedReply", "load_replies", "find_reply", "render_say"]

RESULT_PLACEHOLDER = "{result}"


@dataclass(frozen=True)
class ScriptedReply:
    """One rule: a question pattern, an optional tool call, and the reply text."""

    match: re.Pattern[str]
    say: str
    call: ToolCommand | None = None


def _rule(line: str, where: str) -> ScriptedReply:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise EmulatorOptionsError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("match"), str) or not isinstance(data.get("say"), str):
        raise EmulatorOptionsError(f'{where}: each line must be an object with "match" and "say" strings, got {line!r}')
    unknown = sorted(set(data) - {"match", "call", "say"})
    if unknown:
        raise EmulatorOptionsError(f"{where}: unknown field(s) {', '.join(unknown)}; known: match, call, say")
    try:
        pattern = re.compile(data["match"])
    except re.error as exc:
        raise EmulatorOptionsError(f"{where}: match is not a valid regex ({exc}): {data['match']!r}") from None
    call = data.get("call")
    command = None
    if call is not None:
        args = call.get("args", {}) if isinstance(call, dict) else None
        if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not isinstance(args, dict):
            raise EmulatorOptionsError(f'{where}: call must be {{"name": <string>, "args": {{...}}}}, got {call!r}')
        command = ToolCommand(name=call["name"], args=args)
    return ScriptedReply(match=pattern, say=data["say"], call=command)


def load_replies(path: str) -> tuple[ScriptedReply, ...]:
    """The rules of a JSON Lines file, in order (raises ``EmulatorOptionsError``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EmulatorOptionsError(f"replies must be a readable UTF-8 JSON Lines file, got {path!r}: {exc}") from None
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            rules.append(_rule(line, f"{path} line {number}"))
    return tuple(rules)


def find_reply(rules: tuple[ScriptedReply, ...], question: str) -> ScriptedReply | None:
    """The first rule whose pattern is found in ``question``, else None."""
    return next((rule for rule in rules if rule.match.search(question)), None)


def render_say(say: str, response: Any) -> str:
    """``say`` with ``{result}`` replaced by the tool response's JSON."""
    if RESULT_PLACEHOLDER not in say:
        return say
    return say.replace(RESULT_PLACEHOLDER, json.dumps(response, sort_keys=True, ensure_ascii=False))
