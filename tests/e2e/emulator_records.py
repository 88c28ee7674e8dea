"""The emulator for the browser tests, and reading its session records.

The emulator runs in the test's (or benchmark's) process on its own server thread;
``EmulatorServer.sessions()``/``wait_for`` are thread-safe. Record fields are the
emulator's contract (``livechat/emulator/records.py``).
"""

from __future__ import annotations

import secrets
from typing import Any

from livechat.emulator import EmulatorOptions, EmulatorServer
from tests.speech_rate import FAST_SPEECH_WPM


def random_api_key() -> str:
    """A fresh test API key (never a real one); tests then search traffic and logs for it."""
    return "e2e-key-" + secrets.token_urlsafe(24)


def start_emulator(api_key: str, **option_fields: Any) -> EmulatorServer:
    """An in-process emulator with real-time pacing (what a browser hears), started."""
    option_fields.setdefault("realtime", True)
    option_fields.setdefault("speech_wpm", FAST_SPEECH_WPM)  # tests/speech_rate.py
    return EmulatorServer(api_key, options=EmulatorOptions(**option_fields)).start()


def instruction_text(setup: dict | None) -> str:
    """The system instruction text of a (normalised, camelCase) setup, or ''."""
    if not setup:
        return ""
    instruction = setup.get("systemInstruction") or {}
    parts = instruction.get("parts") or []
    return "".join(part.get("text", "") for part in parts if isinstance(part, dict))


def voice_sessions(sessions: list[dict]) -> list[dict]:
    """The sessions the app opened with a token on the constrained endpoint."""
    return [s for s in sessions if s.get("endpoint") == "constrained" and s.get("auth") == "token"]


def sessions_summary(sessions: list[dict]) -> str:
    """A short, secret-free description of session records for failure messages."""
    lines = []
    for s in sessions:
        first = instruction_text(s.get("effective_setup")).split("\n", 1)[0][:100]
        lines.append(
            f"{s.get('id')}: endpoint={s.get('endpoint')} auth={s.get('auth')} "
            f"audio_in={s.get('audio_in_seconds')}s@{s.get('audio_in_rate')} "
            f"audio_out={s.get('audio_out_seconds')}s turns={len(s.get('turns') or [])} "
            f"tools={len(s.get('tool_calls') or [])} interruptions={s.get('interruptions')} "
            f"ended={s.get('ended')} instruction={first!r}")
    return "\n".join(lines) or "(no sessions)"
