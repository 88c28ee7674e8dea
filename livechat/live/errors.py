"""What a Live connection failure means: retry it, or end the session with a clear message.

The SDK reports every websocket close as ``errors.APIError(code, reason)`` (1000 included),
an HTTP rejection of the upgrade as ``websockets.InvalidStatus``, and an unreachable or
untrusted endpoint as ``OSError``/``ssl.SSLError``. ``classify_close`` and ``classify_error``
turn those into a ``LinkFailure`` whose message an analyst can act on and whose flags
drive reconnection:

- ``retryable``: retried whenever it happens (a drop, a server error, a restart);
- ``recover_after_setup``: retried only when the connection had completed its setup (the
  service closes healthy calls with 1007/1008 reasons that are not about the session
  itself); the same close while connecting ends the session;
- neither: credentials, the model or the setup were refused; never retried.

Closes are classified by one table, ``CLOSE_RULES``: the first row whose code matches and
whose reason fragment (if any) occurs in the close reason decides. Each row names the
public source of the behaviour (shared/LIVE_PROTOCOL.md §4 and §8 have the full list).

Pure functions; any thread.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from enum import Enum

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
    # Recovered like a drop when it ends a connection that had completed its setup.
    recover_after_setup: bool = False

    def __str__(self) -> str:
        return self.message


class CloseKind(Enum):
    NORMAL = "normal"  # not a failure
    RETRY = "retry"  # transient: resume
    RECOVER = "recover"  # mid-call close of a healthy session: resume if it was set up
    FATAL = "fatal"  # credentials, model or setup refused: never retried


@dataclass(frozen=True)
class CloseRule:
    """One row of the close table: ``code`` (None: any) and a reason fragment (None: any)."""

    code: int | None
    reason: str | None
    kind: CloseKind
    message: str  # "{code}" and "{suffix}" (": <reason>") are filled in
    source: str


_DROPPED = "The connection to the Live service dropped (close {code}{suffix})."
_MIDCALL = ("The Live service closed the connection mid-call (close {code}{suffix}); "
            "the conversation is resumed.")
_KEY = "The API key was rejected (close {code}{suffix}). Check GEMINI_API_KEY."
_REFUSED = ("The Live service refused the session (close {code}{suffix}). The session token may "
            "be used up or expired, the key invalid, or the model unavailable.")
_SETTINGS = "The Live service rejected the session settings (close {code}{suffix})."

CLOSE_RULES: tuple[CloseRule, ...] = (
    CloseRule(1000, None, CloseKind.NORMAL, "",
              "RFC 6455 normal closure; the SDK raises APIError(1000) for it (LIVE_PROTOCOL §2.6)"),
    # --- transient: always resumed --------------------------------------------------------
    CloseRule(1006, None, CloseKind.RETRY, _DROPPED,
              "abrupt TCP drop, reported by the SDK as 1006 (LIVE_PROTOCOL §5 item 17)"),
    CloseRule(1011, None, CloseKind.RETRY,
              "The Live service hit an internal error (close {code}{suffix}).",
              "`Internal error encountered.` mid-turn (discuss.ai.google.dev/t/171560, /t/167186); "
              "`Deadline expired before operation could complete.` after goAway (LIVE_PROTOCOL §8.3)"),
    *(CloseRule(code, None, CloseKind.RETRY,
                "The Live service closed the connection (close {code}{suffix}).",
                "RFC 6455 going away / restart / try again later")
      for code in (1001, 1012, 1013, 1014)),
    # --- mid-call closes of healthy sessions: resumed once the session was set up ----------
    CloseRule(1007, "CONTENT_TYPE_AUDIO", CloseKind.RECOVER, _MIDCALL,
              "2.5 native audio, 20 s to minutes into healthy calls "
              "(hkjarral/AVA-AI-Voice-Agent-for-Asterisk #496, #541, #598)"),
    CloseRule(1008, "operation was aborted", CloseKind.RECOVER, _MIDCALL,
              "3.1 every ~170-185 s without goAway (autonomous-ai/autonomous-os #238)"),
    CloseRule(1008, "after receiving a GoAway", CloseKind.RECOVER, _MIDCALL,
              "a client that lingers after goAway (LIVE_PROTOCOL §8.3)"),
    CloseRule(1008, "Operation is not implemented", CloseKind.RECOVER, _MIDCALL,
              "input while a tool call is unanswered (livekit/agents #4545; "
              "autonomous-ai/autonomous-os #231, PR #237)"),
    CloseRule(1008, "Requested entity was not found", CloseKind.RECOVER, _MIDCALL,
              "sporadic after toolResponse on native audio (discuss.ai.google.dev/t/109319)"),
    # --- credentials, model, setup: never retried --------------------------------------------
    CloseRule(1008, "not found for API version", CloseKind.FATAL,
              "The Live service does not know this model (close {code}{suffix}). "
              "Check GEMINI_MODEL: the Settings page lists the models this app is tested with.",
              "unknown or retired model (vellum-ai/vellum-assistant PR #39558; LIVE_PROTOCOL §8.5)"),
    CloseRule(1008, "unregistered callers", CloseKind.FATAL, _REFUSED,
              "no usable credential, or a used-up or expired token (google-gemini/cookbook #821; "
              "discuss.ai.google.dev/t/116522)"),
    CloseRule(1008, "token", CloseKind.FATAL, _REFUSED, "token refused or expired (LIVE_PROTOCOL §1.5)"),
    CloseRule(1007, "API key", CloseKind.FATAL, _KEY,
              "`API key not valid` / `API key expired` (yagudaev/voiceclaw PR #155)"),
    CloseRule(1007, "User location is not supported", CloseKind.FATAL, _SETTINGS,
              "geo block (google-gemini/cookbook #781)"),
    CloseRule(1007, "speaker voice", CloseKind.FATAL, _SETTINGS,
              "a catalog voice on a model without them (LIVE_PROTOCOL §8.1)"),
    CloseRule(1007, "Cannot extract voices", CloseKind.FATAL, _SETTINGS,
              "TEXT modality on a native-audio model (kizuna-ai-lab/sokuji #93, livekit/livekit #4103)"),
    CloseRule(1007, "invalid argument", CloseKind.FATAL, _SETTINGS,
              "a setup field the model refuses (google-gemini/cookbook #781, google/adk-python #225; "
              "3.8 refusals, LIVE_PROTOCOL §8.1)"),
    # --- any other 1007/1008: not about credentials, model or setup -------------------------
    CloseRule(1007, None, CloseKind.RECOVER, _SETTINGS,
              "issue 16: a 1007 whose reason is not about the setup, once the setup succeeded"),
    CloseRule(1008, None, CloseKind.RECOVER, _REFUSED,
              "issue 16: a 1008 whose reason is not about credentials or the model, once set up"),
    CloseRule(None, None, CloseKind.FATAL, "The Live service closed the session (close {code}{suffix}).",
              "an unknown close code: not retried"),
)


def _reason(text: object) -> str:
    cleaned = redact.redact_text(str(text or "")).strip()
    return cleaned[:200] if cleaned and cleaned != "None" else ""


def close_rule(code: int | None, reason: object) -> CloseRule:
    """The first row of ``CLOSE_RULES`` that matches ``code`` and ``reason``."""
    text = str(reason or "").casefold()
    for rule in CLOSE_RULES:
        if rule.code is not None and rule.code != code:
            continue
        if rule.reason is not None and rule.reason.casefold() not in text:
            continue
        return rule
    raise AssertionError("CLOSE_RULES ends with a catch-all row")


def classify_close(code: int | None, reason: object) -> LinkFailure | None:
    """Classify a websocket close; None for a normal end (1000)."""
    rule = close_rule(code, reason)
    if rule.kind is CloseKind.NORMAL:
        return None
    why = _reason(reason)
    message = rule.message.format(code=code, suffix=f": {why}" if why else "")
    return LinkFailure(message, code, rule.kind is CloseKind.RETRY,
                       recover_after_setup=rule.kind is CloseKind.RECOVER)


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
