"""Service configuration: where the Gemini Live service is and how to reach it.

Resolves ``GEMINI_API_KEY``, ``GEMINI_BASE_URL``, ``GEMINI_CA_FILE`` and ``GEMINI_MODEL``
from Streamlit secrets (passed in as a plain ``Mapping``; this module never imports
streamlit) and the environment, and builds ``google.genai`` clients for it.

Every client is pinned to ``v1alpha`` (the only version that serves ephemeral tokens and
the constrained Live method), trusts ``GEMINI_CA_FILE`` when one is given (the local
emulator's self-signed certificate, a corporate proxy) and carries websocket keepalive
settings tolerant enough that a pong delayed by up to 30 s never kills a healthy session.
"""

from __future__ import annotations

import functools
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
