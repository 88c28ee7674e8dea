"""A local Gemini Live API emulator speaking the real wire protocol.

It serves, on one HTTPS+WSS port (TLS from a CA generated at start-up):
``POST /v1alpha/auth_tokens`` (ephemeral tokens, validated like the service),
the Live WebSocket endpoints (API key and token, with the service's lock
semantics, each model's rules from one table (``models``), VAD, turns, blocking
and non-blocking tools, interruptions, resumption and goAway), fault injection
and the real service's reported rough edges (``behaviours``, ``--like-service``),
and ``GET /emulator/sessions`` for tests.

It imports only the standard library, starlette, uvicorn, websockets,
cryptography and numpy: never the rest of ``livechat`` and never google-genai.

    from livechat.emulator import EmulatorServer, EmulatorOptions
    with EmulatorServer("test-key", options=EmulatorOptions(realtime=False)) as server:
        ...  # server.base_url, server.ca_file, server.sessions()
"""

from .errors import EmulatorError, EmulatorOptionsError, EmulatorStartError
from .options import EmulatorOptions
from .server import EmulatorServer

__all__ = ["EmulatorError", "EmulatorOptions", "EmulatorOptionsError", "EmulatorServer", "EmulatorStartError"]
