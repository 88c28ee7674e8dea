"""Plain-words description of where the app's Live sessions go.

Shown in the sidebar and on the Settings page. Describes the endpoint by mode and host
only: never the key, and never the user-info part of a URL (a proxy URL may carry
credentials as ``https://user:secret@host``).
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

OFFLINE_LABEL = "Offline emulator"
GEMINI_LABEL = "Gemini API"

# Hosts that are the public Gemini API itself, not a custom endpoint.
_GEMINI_HOSTS = frozenset({"generativelanguage.googleapis.com"})


class _EndpointConfig(Protocol):
    """The two fields of ``livechat.config.ServiceConfig`` this module reads."""

    @property
    def base_url(self) -> str | None: ...

    @property
    def offline(self) -> bool: ...


def endpoint_host(base_url: str | None) -> str | None:
    """Return ``host[:port]`` of ``base_url`` without any user info, or None if absent."""
    if not base_url:
        return None
    parts = urlsplit(base_url if "//" in base_url else f"//{base_url}")
    host = parts.hostname
    if not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a malformed port: show the host alone rather than fail
        port = None
    return f"{host}:{port}" if port is not None else host


def endpoint_label(config: _EndpointConfig) -> str:
    """Describe the endpoint mode: "Offline emulator", "Gemini API" or "Custom endpoint (host)"."""
    if config.offline:
        return OFFLINE_LABEL
    host = endpoint_host(config.base_url)
    if host is None or host.split(":")[0] in _GEMINI_HOSTS:
        return GEMINI_LABEL
    return f"Custom endpoint ({host})"
