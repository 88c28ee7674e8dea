"""Ephemeral Live tokens with the whole session config locked in.

A token minted with ``live_connect_constraints`` and no ``lock_additional_fields`` is a
*global lock*: the service takes the entire session setup from the token and silently
ignores the setup the connecting client sends (system instruction included). We rely on
that on purpose: everything the session depends on (model, system instruction with the
data summary, audio modality, voice, transcription, tools, resumption handle, context
compression) goes into the token, minted on the server per connection, and the client
sends a bare setup. See shared/DESIGN.md and LIVE_PROTOCOL.md sections 1.5-1.7.

``mint_live_token`` (blocking) and ``amint_live_token`` (asyncio) build the same request.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from google import genai
from google.genai import errors, types

from livechat import redact
from livechat.live.models import CLASSIC_VOICES, model_info

logger = logging.getLogger(__name__)

# The 30 prebuilt voices of the native-audio models (LIVE_PROTOCOL.md section 4).
KNOWN_VOICES: tuple[str, ...] = CLASSIC_VOICES
# The service's bound on custom vocabulary is not public; ours keeps every token small.
MAX_CUSTOM_VOCABULARY = 200

# The service refuses expiry times 20 h or more in the future.
_MAX_LIFETIME = timedelta(hours=20)


def _network_error_types() -> tuple[type[BaseException], ...]:
    """Transport failures of whichever HTTP library the SDK uses (httpx2 or httpx)."""
    found: list[type[BaseException]] = [OSError, ssl.SSLError]
    for module_name in ("httpx2", "httpx"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        transport_error = getattr(module, "TransportError", None)
        if isinstance(transport_error, type):
            found.append(transport_error)
    return tuple(found)


_NETWORK_ERRORS = _network_error_types()


class SettingsError(ValueError):
    """A ``LiveSettings`` value breaks a rule; the message names the field and the value."""


class TokenError(RuntimeError):
    """Minting an ephemeral token failed. The message is for the analyst; it never holds the key.

    ``status`` is the HTTP status when the service answered, else None (unreachable).
    ``retryable`` is True for failures that may pass on a later attempt (network, 429, 5xx).
    """

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class LiveSettings:
    """Everything locked into a Live token: what the model is and what it knows (immutable)."""

    model: str
    system_instruction: str
    voice: str = "Kore"
    tools: tuple[types.Tool, ...] = ()
    input_transcription: bool = True
    output_transcription: bool = True
    compression_trigger_tokens: int = 25_600
    compression_target_tokens: int = 12_800
    resumption_handle: str | None = None
    # Words the input transcription should recognise (column names, category values); sent
    # only to models whose row in livechat/live/models.py documents custom_vocabulary.
    custom_vocabulary: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.model:
            raise SettingsError("model must name a Live model, got an empty value")
        if not isinstance(self.system_instruction, str):
            raise SettingsError(
                "system_instruction must be a str, got "
                f"{type(self.system_instruction).__name__}"
            )
        if not model_info(self.model).accepts_voice(self.voice):
            catalog = " or a catalog id such as en-us-tavi" if model_info(self.model).catalog_voices else ""
            raise SettingsError(
                f"voice must be one of the {len(KNOWN_VOICES)} prebuilt voices{catalog} for "
                f"{self.model}, got {self.voice!r}"
            )
        if not isinstance(self.custom_vocabulary, tuple) or not all(
                isinstance(word, str) and word for word in self.custom_vocabulary):
            raise SettingsError("custom_vocabulary must be a tuple of non-empty strings, got "
                                f"{self.custom_vocabulary!r}")
        if len(self.custom_vocabulary) > MAX_CUSTOM_VOCABULARY:
            raise SettingsError(f"custom_vocabulary must hold at most {MAX_CUSTOM_VOCABULARY} "
                                f"entries, got {len(self.custom_vocabulary)}")
        if not isinstance(self.tools, tuple):
            # A list would make the frozen settings mutable and unhashable by accident.
            raise SettingsError(f"tools must be a tuple, got {type(self.tools).__name__}")
        if not 0 < self.compression_target_tokens < self.compression_trigger_tokens:
            raise SettingsError(
                "compression_target_tokens must be positive and below "
                f"compression_trigger_tokens ({self.compression_trigger_tokens}), got "
                f"{self.compression_target_tokens}"
            )


def build_live_config(settings: LiveSettings) -> types.LiveConnectConfig:
    """The session config locked into a token for ``settings``, shaped by the model's row.

    Always asks for session resumption (carrying ``settings.resumption_handle`` when set) so
    the service sends resumption handles, and for sliding-window context compression so an
    audio session is not capped at 15 minutes. AUDIO only (every supported model's one
    modality; text comes from output transcription); no thinking, proactivity or affective
    dialog fields (3.8 refuses them). Tool behaviours are kept only where the model takes
    them, and the custom vocabulary only where it is documented (``livechat.live.models``).
    """
    rules = model_info(settings.model)
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        system_instruction=settings.system_instruction,
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=settings.voice)
            )
        ),
        session_resumption=types.SessionResumptionConfig(handle=settings.resumption_handle),
        context_window_compression=types.ContextWindowCompressionConfig(
            trigger_tokens=settings.compression_trigger_tokens,
            sliding_window=types.SlidingWindow(
                target_tokens=settings.compression_target_tokens
            ),
        ),
    )
    if settings.input_transcription:
        vocabulary = list(settings.custom_vocabulary) if rules.custom_vocabulary else None
        config.input_audio_transcription = types.AudioTranscriptionConfig(
            custom_vocabulary=vocabulary or None)
    if settings.output_transcription:
        config.output_audio_transcription = types.AudioTranscriptionConfig()
    if settings.tools:
        config.tools = [_tool_for(tool, async_tools=rules.async_tools) for tool in settings.tools]
    return config


def _tool_for(tool: types.Tool, *, async_tools: bool) -> types.Tool:
    """``tool`` as the model takes it: without ``behavior`` where calls are synchronous only.

    3.1 Flash Live documents synchronous calls only (LIVE_PROTOCOL §4, model page) and the
    2.5 native-audio pages document no ``behavior``: a field the service may refuse is not
    sent; their calls block, the documented default.
    """
    if async_tools or not tool.function_declarations:
        return tool
    return tool.model_copy(update={"function_declarations": [
        declaration.model_copy(update={"behavior": None})
        for declaration in tool.function_declarations
    ]})


def tool_behaviors(settings: LiveSettings) -> dict[str, str]:
    """Each declared function's effective behaviour on ``settings.model``.

    ``"BLOCKING"`` or ``"NON_BLOCKING"``: the declared one where the model takes
    declarations' behaviour, else the model's default (google-genai ``types.Behavior``:
    unspecified keeps the default).
    """
    rules = model_info(settings.model)
    found: dict[str, str] = {}
    for tool in settings.tools:
        for declaration in tool.function_declarations or []:
            declared = declaration.behavior if rules.async_tools else None
            if declared in (types.Behavior.BLOCKING, types.Behavior.NON_BLOCKING):
                found[declaration.name or ""] = declared.value
            else:
                found[declaration.name or ""] = rules.default_tool_behavior
    return found


def build_token_config(
    settings: LiveSettings,
    *,
    uses: int = 1,
    now: datetime | None = None,
    expire_after: timedelta = timedelta(minutes=30),
    new_session_within: timedelta = timedelta(minutes=1),
) -> types.CreateAuthTokenConfig:
    """The ``CreateAuthTokenConfig`` for a globally locked token (no ``lock_additional_fields``).

    Times are timezone-aware: the SDK sends ``isoformat()``, and a naive time has no offset,
    which the service rejects.
    """
    if uses < 0:
        raise SettingsError(f"uses must be 0 (unlimited) or more, got {uses}")
    now = datetime.now(timezone.utc) if now is None else now
    if now.tzinfo is None or now.utcoffset() is None:
        raise SettingsError(f"now must be timezone-aware, got naive {now.isoformat()}")
    for label, delta in (("expire_after", expire_after), ("new_session_within", new_session_within)):
        if delta >= _MAX_LIFETIME:
            raise SettingsError(f"{label} must be under 20 hours, got {delta}")
    return types.CreateAuthTokenConfig(
        uses=uses,
        expire_time=now + expire_after,
        new_session_expire_time=now + new_session_within,
        live_connect_constraints=types.LiveConnectConstraints(
            model=settings.model, config=build_live_config(settings)
        ),
        # lock_additional_fields stays None on purpose: that is the global lock.
    )


def _describe_failure(exc: BaseException, base_url: str | None, key_name: str = "GEMINI_API_KEY") -> TokenError:
    """Turn an SDK/HTTP failure into a TokenError an analyst can act on (``key_name``: what
    to check when the key is refused)."""
    where = base_url or "the Gemini API"
    if isinstance(exc, errors.APIError):
        status = exc.code
        detail = redact.redact_text(str(exc.message or exc.details or "")).strip()
        detail = f" ({detail[:200]})" if detail else ""
        # The service answers a bad key with 400 INVALID_ARGUMENT, ErrorInfo reason
        # API_KEY_INVALID, "API key not valid. Please pass a valid API key." (as reported from
        # generativelanguage.googleapis.com in google-gemini/gemini-cli#25198 and
        # google-gemini/deprecated-generative-ai-python#481).
        key_invalid = "API_KEY_INVALID" in str(exc.details) or "API key not valid" in detail
        if status in (401, 403) or key_invalid:
            message = f"The API key was rejected (HTTP {status}): it is not a valid key. Check {key_name}.{detail}"
        elif status == 404:
            message = (
                f"The token endpoint was not found at {where} (HTTP 404). "
                f"Check GEMINI_BASE_URL.{detail}"
            )
        elif status == 400:
            message = f"The service refused the session settings (HTTP 400){detail}."
        elif status == 429:
            message = f"The service's rate limit or quota was reached (HTTP 429){detail}."
        elif isinstance(status, int) and status >= 500:
            message = f"The service failed while creating a session token (HTTP {status}){detail}."
        else:
            message = f"Creating a session token failed (HTTP {status}){detail}."
        retryable = status == 429 or (isinstance(status, int) and status >= 500)
        return TokenError(message, status=status, retryable=retryable)
    if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return TokenError(
            f"The TLS certificate of {where} is not trusted ({type(exc).__name__}). "
            "Check GEMINI_CA_FILE.",
            retryable=False,
        )
    reason = redact.redact_text(str(exc)).strip() or type(exc).__name__
    return TokenError(f"Could not reach {where} to create a session token: {reason}",
                      retryable=True)


def mint_live_token(
    client: genai.Client,
    settings: LiveSettings,
    *,
    uses: int = 1,
    now: datetime | None = None,
    expire_after: timedelta = timedelta(minutes=30),
    new_session_within: timedelta = timedelta(minutes=1),
) -> str:
    """Mint a single-use (by default) token with ``settings`` locked in; returns its name.

    Blocking; any thread. ``client`` must hold the API key and use api_version v1alpha
    (``livechat.config.make_client``). Raises ``TokenError`` on any service or network
    failure. The returned name is a credential: never log it.
    """
    config = build_token_config(
        settings, uses=uses, now=now, expire_after=expire_after,
        new_session_within=new_session_within,
    )
    try:
        token = client.auth_tokens.create(config=config)
    except (errors.APIError, *_NETWORK_ERRORS) as exc:
        raise _describe_failure(exc, _base_url(client)) from exc
    return _token_name(token)


async def amint_live_token(
    client: genai.Client,
    settings: LiveSettings,
    *,
    uses: int = 1,
    now: datetime | None = None,
    expire_after: timedelta = timedelta(minutes=30),
    new_session_within: timedelta = timedelta(minutes=1),
    key_name: str = "GEMINI_API_KEY",
) -> str:
    """``mint_live_token`` on the caller's asyncio loop (``client.aio``); cancellable.

    ``key_name`` is what a refusal of the key tells the analyst to check."""
    config = build_token_config(
        settings, uses=uses, now=now, expire_after=expire_after,
        new_session_within=new_session_within,
    )
    try:
        token = await client.aio.auth_tokens.create(config=config)
    except (errors.APIError, *_NETWORK_ERRORS) as exc:
        raise _describe_failure(exc, _base_url(client), key_name) from exc
    return _token_name(token)


def _token_name(token: Any) -> str:
    name = getattr(token, "name", None)
    if not isinstance(name, str) or not name.startswith("auth_tokens/"):
        raise TokenError(
            "The service answered the token request without a token name "
            "(expected 'auth_tokens/...')."
        )
    return name


def _base_url(client: genai.Client) -> str | None:
    # Only for error messages; the SDK keeps it on its private api client.
    options = getattr(getattr(client, "_api_client", None), "_http_options", None)
    return getattr(options, "base_url", None)
