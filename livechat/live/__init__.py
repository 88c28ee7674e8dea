"""Stage 3-4: the locked ephemeral token and the Live session that uses it, as tasks on the
process's shared background loop; the events it reports to the UI.

May import: audio, summary, data and the cross-cutting helpers (never ui, voice, tools or the emulator).
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "LiveSession": "session",
    "ReplyAudioSink": "session",
    "SessionError": "session",
    "LiveSettings": "tokens",
    "SettingsError": "tokens",
    "TokenError": "tokens",
    "build_live_config": "tokens",
    "build_token_config": "tokens",
    "mint_live_token": "tokens",
    "amint_live_token": "tokens",
    "SharedLoop": "loop",
    "live_loop": "loop",
    "ErrorEvent": "events",
    "Event": "events",
    "Interrupted": "events",
    "Notice": "events",
    "Role": "events",
    "SessionState": "events",
    "StateChanged": "events",
    "ToolCallFinished": "events",
    "ToolCallStarted": "events",
    "TranscriptUpdate": "events",
    "Usage": "events",
    "TurnFigures": "events",
    "MODELS": "models",
    "ModelInfo": "models",
    "model_info": "models",
    "known_model": "models",
    "CLOSE_RULES": "errors",
    "classify_close": "errors",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
