"""What a Live connection failure means: retry it, or end the session with a clear message.

The SDK reports every websocket close as ``errors.APIError(code, reason)`` (1000 included),
an HTTP rejection of the upgrade as ``websockets.InvalidStatus``, and an unreachable or
untrusted endpoint as ``OSError``/``ssl.SSLError``. ``classify_close`` and ``classify_error``
turn those into a ``LinkFailure`` whose message an analyst can act on and whose
``retryable`` flag drives reconnection:

- 1000 normal end (not a failure: ``classify_close`` returns None);
- 1006 dropped, 1011 server error, 1001/1012/1013/1014 going away/restart: retryable;
- 1007 bad configuration, 1008 auth/model refused: never retried.

Pure functions; any thread.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import websockets
from google.genai import errors

from livechat import redact
from livechat.config import ConfigError
from livechat.live.tokens import SettingsError, TokenError

NORMAL_CLOSE = 1000
RETRYABLE_CLOSE_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})


@dataclass
class LinkFailure(Exception):
    """A connection failure, classified. ``message`` is for the analyst."""

    message: str
    code: int | None = None
    retryable: bool = False

    def __str__(self) -> str:
        return self.message


def _reason(text: object) -> str:
    cleaned = redact.redact_text(str(text or "")).strip()
    return cleaned[:200] if cleaned and cleaned != "None" else ""


def classify_close(code: int | None, reason: object) -> LinkFailure | None:
    """Classify a websocket close; None for a normal end (1000)."""
    if code == NORMAL_CLOSE:
        return None
    why = _reason(reason)
    suffix = f": {why}" if why else ""
    if code == 1007:
        return LinkFailure(
            f"The Live service rejected the session settings (close 1007{suffix}).", code, False
        )
    if code == 1008:
        return LinkFailure(
            f"The Live service refused the session (close 1008{suffix}). The session token may "
            "be used up or expired, the key invalid, or the model unavailable.",
            code,
            False,
        )
    if code == 1006:
        return LinkFailure(
            f"The connection to the Live service dropped (close 1006{suffix}).", code, True
        )
    if code == 1011:
        return LinkFailure(
            f"The Live service hit an internal error (close 1011{suffix}).", code, True
        )
    if code in RETRYABLE_CLOSE_CODES:
        return LinkFailure(f"The Live service closed the connection (close {code}{suffix}).",
                           code, True)
    return LinkFailure(f"The Live service closed the session (close {code}{suffix}).", code, False)


def classify_error(exc: BaseException, *, where: str) -> LinkFailure:
    """Classify an exception raised while minting, connecting or receiving.

    ``where`` names the endpoint for the message (a URL or "the Gemini API").
    """
    if isinstance(exc, LinkFailure):
        return exc
    if isinstance(exc, TokenError):
        return LinkFailure(str(exc), exc.status, exc.retryable)
    if isinstance(exc, (ConfigError, SettingsError)):
        return LinkFailure(str(exc), None, False)
    if isinstance(exc, errors.APIError):
        failure = classify_close(exc.code, exc.details)
        if failure is None:
            return LinkFailure("The Live service ended the session.", NORMAL_CLOSE, False)
        return failure
    if isinstance(exc, websockets.InvalidStatus):
        status = exc.response.status_code
        return LinkFailure(
            f"The Live endpoint at {where} refused the websocket upgrade (HTTP {status}). "
            "Check GEMINI_BASE_URL.",
            status,
            status >= 500 or status == 429,
        )
    if isinstance(exc, TimeoutError):
        return LinkFailure(
            f"The Live service at {where} did not finish the session setup in time.", None, True
        )
    if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return LinkFailure(
            f"The TLS certificate of {where} is not trusted ({type(exc).__name__}). "
            "Check GEMINI_CA_FILE.",
            None,
            False,
        )
    if isinstance(exc, (OSError, websockets.InvalidHandshake, websockets.InvalidURI)):
        why = _reason(exc) or type(exc).__name__
        return LinkFailure(f"Could not reach the Live service at {where}: {why}", None, True)
    if isinstance(exc, (ValueError, TypeError)):
        # The SDK raises these for a frame it cannot parse (bad JSON, unknown shape).
        why = _reason(exc) or type(exc).__name__
        return LinkFailure(
            f"The Live service sent a message this app cannot read ({why[:120]}).", None, True
        )
    why = _reason(exc) or type(exc).__name__
    return LinkFailure(f"Unexpected failure in the Live session ({type(exc).__name__}: {why}).",
                       None, False)
