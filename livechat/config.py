"""Service configuration: where the Gemini Live service is and how to reach it.

Resolves ``GEMINI_API_KEY``, ``GEMINI_BASE_URL``, ``GEMINI_CA_FILE`` and ``GEMINI_MODEL``
(and the TURN relay settings, ``resolve_turn_settings``) from Streamlit secrets (passed in as a plain ``Mapping``; this module never imports
streamlit) and the environment, and builds ``google.genai`` clients for it.

Every client is pinned to ``v1alpha`` (the only version that serves ephemeral tokens and
the constrained Live method), trusts ``GEMINI_CA_FILE`` when one is given (the local
emulator's self-signed certificate, a corporate proxy) and carries websocket keepalive
settings tolerant enough that a pong delayed by up to 30 s never kills a healthy session.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import types

from livechat import redact

logger = logging.getLogger(__name__)

# The Live API's stable default since 2026-09 (ai.google.dev/gemini-api/docs/models/gemini-3.8-live);
# its rules are a row of livechat/live/models.py.
DEFAULT_MODEL = "gemini-3.8-live"
API_VERSION = "v1alpha"

# websockets' own defaults (ping every 20 s, give up after 20 s without a pong) would drop a
# healthy session whose pongs are slow under load; 45 s leaves margin over a 30 s delay.
DEFAULT_PING_INTERVAL_S = 20.0
DEFAULT_PING_TIMEOUT_S = 45.0
# websockets waits 10 s for the peer's close frame by default; stop() must finish in ~2 s.
DEFAULT_CLOSE_TIMEOUT_S = 1.0
# Bound on a token mint (REST) so a silent server cannot hang a session.
DEFAULT_HTTP_TIMEOUT_S = 20.0

_NAMES = ("GEMINI_API_KEY", "GEMINI_BASE_URL", "GEMINI_CA_FILE", "GEMINI_MODEL")


class ConfigError(ValueError):
    """A configuration value breaks a rule; the message names the setting and the value."""


@dataclass(frozen=True)
class ServiceConfig:
    """Where the Live service is and the credentials to reach it (immutable).

    ``api_key`` is excluded from ``repr`` so the object can be logged or shown in a
    diagnostics page without leaking the key.
    """

    api_key: str | None = field(repr=False)
    base_url: str | None = None
    ca_file: str | None = None
    model: str = DEFAULT_MODEL
    ping_interval_s: float | None = DEFAULT_PING_INTERVAL_S
    ping_timeout_s: float | None = DEFAULT_PING_TIMEOUT_S
    close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S
    http_timeout_s: float = DEFAULT_HTTP_TIMEOUT_S
    # What a refused key tells the analyst to check: the owner's setting, or (a visitor's
    # own key, livechat.access.visitor) "the Gemini API key you pasted".
    key_name: str = "GEMINI_API_KEY"

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("GEMINI_MODEL must name a Live model, got an empty value")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"GEMINI_BASE_URL must start with http:// or https://, got {self.base_url!r}"
            )
        for label, value in (
            ("ping_interval_s", self.ping_interval_s),
            ("ping_timeout_s", self.ping_timeout_s),
        ):
            if value is not None and value <= 0:
                raise ConfigError(f"{label} must be positive or None, got {value!r}")
        if self.close_timeout_s <= 0 or self.http_timeout_s <= 0:
            raise ConfigError(
                "close_timeout_s and http_timeout_s must be positive, got "
                f"{self.close_timeout_s!r} and {self.http_timeout_s!r}"
            )

    @property
    def offline(self) -> bool:
        """True when neither a key nor a base URL is configured: the app runs the emulator."""
        return not self.api_key and not self.base_url

    @property
    def has_api_key(self) -> bool:
        """True when an API key is set (safe to show; the key itself is not)."""
        return bool(self.api_key)


def _lookup(source: Mapping[str, Any], name: str) -> str | None:
    """Read one setting; a missing, blank or non-string value counts as unset."""
    try:
        value = source.get(name)
    except (KeyError, FileNotFoundError):
        # st.secrets raises FileNotFoundError from .get() when there is no secrets.toml.
        return None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def resolve_service_config(
    secrets: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> ServiceConfig:
    """Resolve the service settings; a value in ``secrets`` wins over the same name in ``env``.

    Blank values count as unset. ``env`` defaults to ``os.environ``. Raises ``ConfigError``
    when ``GEMINI_CA_FILE`` does not name a readable file or ``GEMINI_BASE_URL`` is not a URL.
    """
    env = os.environ if env is None else env
    values: dict[str, str | None] = {}
    for name in _NAMES:
        from_secrets = _lookup(secrets, name)
        values[name] = from_secrets if from_secrets is not None else _lookup(env, name)
    ca_file = values["GEMINI_CA_FILE"]
    if ca_file is not None and not os.access(ca_file, os.R_OK):
        raise ConfigError(f"GEMINI_CA_FILE must name a readable PEM file, got {ca_file!r}")
    api_key = values["GEMINI_API_KEY"]
    if api_key:
        redact.register_secret(api_key)
    return ServiceConfig(
        api_key=api_key,
        base_url=values["GEMINI_BASE_URL"],
        ca_file=ca_file,
        model=values["GEMINI_MODEL"] or DEFAULT_MODEL,
    )


def make_ssl_context(config: ServiceConfig) -> ssl.SSLContext:
    """An SSL context trusting ``config.ca_file`` only, or the process's public-CA context.

    Loads certificates: call it off the shared Live loop (``asyncio.to_thread``).
    """
    if config.ca_file is None:
        return default_ssl_context()
    try:
        return ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"GEMINI_CA_FILE must be a PEM certificate bundle, got {config.ca_file!r} ({exc})"
        ) from exc


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """Public-CA trust for the real service, built once per process.

    Why not leave it to the SDK: without a context it builds fresh ones for every
    ``genai.Client``, loading the whole trust store each time (40-60 ms of CPU per client,
    measured). A Live session makes a client per connection on the loop all sessions share,
    so every other conversation's audio would stall that long at each connect. The trust is
    the system's (OpenSSL's default paths, which honour SSL_CERT_FILE / SSL_CERT_DIR, as
    the SDK's own default does); where the system has no CA store, certifi's bundle, the
    SDK's fallback.
    """
    ctx = ssl.create_default_context()
    if not ctx.cert_store_stats().get("x509_ca"):
        import certifi  # the SDK's own dependency; only needed on a system without CAs

        ctx = ssl.create_default_context(cafile=certifi.where())
    return ctx


def make_client(
    config: ServiceConfig, *, api_key: str, ssl_context: ssl.SSLContext | None = None
) -> genai.Client:
    """A ``genai.Client`` for ``config`` authenticated with ``api_key`` (a key or a token name).

    ``ssl_context`` lets a caller that builds many clients (one per reconnection) load the
    CA file once; by default it is built from ``config.ca_file``. The caller closes the
    client (``close()`` and ``await client.aio.aclose()``).
    """
    if not api_key:
        raise ConfigError("make_client needs an API key or a token name, got an empty value")
    if not api_key.startswith("auth_tokens/"):
        redact.register_secret(api_key)
    ctx = ssl_context if ssl_context is not None else make_ssl_context(config)
    # async_client_args feeds both the async HTTP client and websockets' connect(); the SDK
    # drops keys each one does not accept (see BaseApiClient._ensure_websocket_ssl_ctx), so
    # ping_interval/ping_timeout/close_timeout reach only the websocket.
    async_args: dict[str, Any] = {
        "ping_interval": config.ping_interval_s,
        "ping_timeout": config.ping_timeout_s,
        "close_timeout": config.close_timeout_s,
        # No permessage-deflate: base64 PCM barely compresses, and deflating every audio
        # message costs CPU on both ends under the GIL (bench/bench_sessions.py measures it).
        # websockets.connect takes compression=None; the HTTP client never sees the key.
        "compression": None,
    }
    client_args: dict[str, Any] = {"verify": ctx}
    async_args["verify"] = ctx
    async_args["ssl"] = ctx
    options = types.HttpOptions(
        api_version=API_VERSION,
        base_url=config.base_url,
        timeout=int(config.http_timeout_s * 1000),
        client_args=client_args,
        async_client_args=async_args,
    )
    return genai.Client(api_key=api_key, vertexai=False, http_options=options)


# ----------------------------------------------------------------------------- TURN relay
#
# Two ways to give WebRTC a relay (README "Deploying"): a static ``ice_servers`` list
# (livechat.ui.ice reads it), or ``turn_urls`` + ``turn_secret`` for a TURN server that
# implements the TURN REST API scheme (coturn's ``use-auth-secret``, and what managed
# TURN services offer): the app mints short-lived credentials per browser session from
# the shared secret, so the long-term secret never reaches the browser.
# Scheme: draft-uberti-behave-turn-rest-00 §2.2; coturn's README.turnserver, option
# --use-auth-secret: username "<unix expiry>:<user id>", password
# base64(HMAC-SHA1(secret, username)).

TURN_URLS_ENV = "LIVECHAT_TURN_URLS"
TURN_SECRET_ENV = "LIVECHAT_TURN_SECRET"
ICE_TRANSPORT_POLICY_ENV = "LIVECHAT_ICE_TRANSPORT_POLICY"
TURN_URLS_KEY = "turn_urls"
TURN_SECRET_KEY = "turn_secret"
ICE_TRANSPORT_POLICY_KEY = "ice_transport_policy"
ICE_TRANSPORT_POLICIES = ("all", "relay")
# "A few hours": long enough for a working session, short enough that a credential
# copied out of a browser soon stops working.
DEFAULT_TURN_CREDENTIAL_LIFETIME_S = 4 * 3600
_TURN_SCHEMES = ("turn:", "turns:")


@dataclass(frozen=True)
class TurnSettings:
    """How WebRTC reaches a TURN relay (immutable; ``secret`` hidden from ``repr``).

    ``urls`` empty means no minted credentials (static ``ice_servers`` may still list a
    relay). ``transport_policy`` ``"relay"`` makes the browser use relay candidates only.
    """

    urls: tuple[str, ...] = ()
    secret: str | None = field(default=None, repr=False)
    transport_policy: str = "all"
    credential_lifetime_s: int = DEFAULT_TURN_CREDENTIAL_LIFETIME_S

    def __post_init__(self) -> None:
        if self.transport_policy not in ICE_TRANSPORT_POLICIES:
            raise ConfigError(
                f"{ICE_TRANSPORT_POLICY_KEY} must be one of {', '.join(ICE_TRANSPORT_POLICIES)}, "
                f"got {self.transport_policy!r}"
            )
        for url in self.urls:
            if not url.lower().startswith(_TURN_SCHEMES):
                raise ConfigError(f"{TURN_URLS_KEY} must list turn: or turns: URLs, got {url!r}")
        if self.urls and not self.secret:
            raise ConfigError(f"{TURN_URLS_KEY} is set, so {TURN_SECRET_KEY} must be set too")
        if self.secret and not self.urls:
            raise ConfigError(f"{TURN_SECRET_KEY} is set, so {TURN_URLS_KEY} must list the TURN server")
        if self.credential_lifetime_s <= 0:
            raise ConfigError(
                f"credential_lifetime_s must be positive, got {self.credential_lifetime_s!r}"
            )

    @property
    def mints_credentials(self) -> bool:
        """True when per-session credentials are minted from ``secret`` for ``urls``."""
        return bool(self.urls)

    @property
    def relay_only(self) -> bool:
        """True when the browser may use relay candidates only."""
        return self.transport_policy == "relay"


def _turn_urls(raw: Any) -> tuple[str, ...]:
    """``turn_urls`` as a tuple: a TOML list, or one text with comma-separated URLs."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        parts = raw.split(",")
    elif isinstance(raw, (list, tuple)):
        parts = list(raw)
    else:
        raise ConfigError(f"{TURN_URLS_KEY} must be a list of URLs, got {type(raw).__name__}")
    urls = []
    for part in parts:
        if not isinstance(part, str):
            raise ConfigError(f"{TURN_URLS_KEY} must list texts, got {part!r}")
        if part.strip():
            urls.append(part.strip())
    return tuple(urls)


def secret_or_env(secrets: Mapping[str, Any], key: str, env: Mapping[str, str], env_name: str) -> Any:
    """``secrets[key]`` as given (a TOML list stays a list), else ``env[env_name]``; blank is unset."""
    try:
        value = secrets.get(key)
    except (KeyError, FileNotFoundError):
        value = None
    if value is None or (isinstance(value, str) and not value.strip()):
        value = _lookup(env, env_name)
    return value


def resolve_turn_settings(
    secrets: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> TurnSettings:
    """TURN settings from secrets (``turn_urls``, ``turn_secret``, ``ice_transport_policy``)
    with the environment (``LIVECHAT_TURN_URLS`` comma-separated, ``LIVECHAT_TURN_SECRET``,
    ``LIVECHAT_ICE_TRANSPORT_POLICY``) as fallback. Raises ``ConfigError`` naming the rule;
    the secret is registered for log redaction and never quoted in a message.
    """
    env = os.environ if env is None else env
    urls = _turn_urls(secret_or_env(secrets, TURN_URLS_KEY, env, TURN_URLS_ENV))
    secret = secret_or_env(secrets, TURN_SECRET_KEY, env, TURN_SECRET_ENV)
    if secret is not None and not isinstance(secret, str):
        raise ConfigError(f"{TURN_SECRET_KEY} must be text")  # never echo a secret
    secret = secret.strip() if secret else None
    if secret:
        redact.register_secret(secret)
    policy = secret_or_env(secrets, ICE_TRANSPORT_POLICY_KEY, env, ICE_TRANSPORT_POLICY_ENV)
    policy = str(policy).strip().lower() if policy is not None else "all"
    return TurnSettings(urls=urls, secret=secret or None, transport_policy=policy)


@dataclass(frozen=True)
class TurnCredentials:
    """One browser session's TURN credentials (TURN REST API scheme); ``credential`` hidden."""

    username: str
    credential: str = field(repr=False)
    expires_at: int = 0


def turn_credentials(secret: str, session_id: str, *, now: float,
                     lifetime_s: int = DEFAULT_TURN_CREDENTIAL_LIFETIME_S) -> TurnCredentials:
    """Mint ``<expiry>:<session_id>`` / base64(HMAC-SHA1(secret, username)).

    ``session_id`` must not contain ``:`` (the TURN server splits the username there).
    The TURN server checks the expiry itself; the credential cannot be reused after it.
    """
    if not secret:
        raise ConfigError("turn_credentials needs the TURN secret, got an empty value")
    if not session_id or ":" in session_id:
        raise ConfigError(f"the TURN user id must be non-empty text without ':', got {session_id!r}")
    expires_at = int(now) + int(lifetime_s)
    username = f"{expires_at}:{session_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredentials(username=username, credential=base64.b64encode(digest).decode("ascii"),
                           expires_at=expires_at)
