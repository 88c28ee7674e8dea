"""Exception classes of the Live API emulator.

Each error carries the rule that was broken and the offending value, so a test
failure or a log line explains itself without a debugger.
"""

from __future__ import annotations


class EmulatorError(Exception):
    """Base class of every error raised by the emulator package."""


class EmulatorOptionsError(EmulatorError, ValueError):
    """An ``EmulatorOptions`` field (or CLI flag) has a value outside its rule."""


class EmulatorStartError(EmulatorError, RuntimeError):
    """The emulator could not start listening (port taken, TLS failure...)."""


class MintRejected(EmulatorError):
    """A ``POST /v1alpha/auth_tokens`` request is refused.

    ``http_status`` and ``google_status`` mirror Google's REST error envelope
    (``{"error": {"code", "message", "status"}}``); ``reason`` optionally fills
    the ``google.rpc.ErrorInfo`` detail the real service attaches to key errors.
    """

    def __init__(self, http_status: int, google_status: str, message: str,
                 *, reason: str | None = None) -> None:
        super().__init__(f"{http_status} {google_status}: {message}")
        self.http_status = http_status
        self.google_status = google_status
        self.message = message
        self.reason = reason

    def to_json(self) -> dict:
        """Return the Google-style error body for this rejection."""
        error: dict = {"code": self.http_status, "message": self.message,
                       "status": self.google_status}
        if self.reason:
            error["details"] = [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": self.reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }]
        return {"error": error}


class SessionRefused(EmulatorError):
    """A Live connection must be closed with a WebSocket close frame.

    ``code``/``reason`` are what the client sees (the reason is cut to the
    123 bytes a close frame can carry); ``detail`` is the emulator's own
    explanation, recorded in the session record for tests and diagnostics.
    """

    def __init__(self, code: int, reason: str, detail: str | None = None) -> None:
        super().__init__(f"close {code}: {reason}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.reason = reason
        self.detail = detail or reason


def invalid_argument(message: str) -> MintRejected:
    """A 400 INVALID_ARGUMENT mint rejection (the status of every body error)."""
    return MintRejected(400, "INVALID_ARGUMENT", message)
