"""ICE servers for the voice stream: ``st.secrets`` → one RTC configuration for both peers.

Local use needs no ICE server: on one machine or a LAN, host candidates connect, so the
default is ``{"iceServers": []}``. A hosted app (Streamlit Community Cloud) needs a TURN
server; the operator lists it in ``.streamlit/secrets.toml``::

    [[ice_servers]]
    urls = ["turn:turn.example.org:3478?transport=udp"]
    username = "user"
    credential = "secret"

The list is *always* passed explicitly: without an ``iceServers`` key streamlit-webrtc
calls ``get_available_ice_servers()``, which may contact the internet and contains a
yield point where Streamlit can stop the script run. The same configuration goes to the
browser (``frontend_rtc_configuration``) and to aiortc (``server_rtc_configuration``);
streamlit-webrtc 0.79 distinguishes the two, and both peers must reach the same TURN.

Credentials end up in the browser's RTCPeerConnection (that is how TURN works), so use
short-lived TURN credentials; they never appear in logs or on the diagnostics page.
Pure functions plus ``ice_configuration()`` (script thread), which reads the secrets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from livechat.ui import runtime

__all__ = [
    "ICE_SCHEMES",
    "IceConfigError",
    "ice_configuration",
    "ice_servers_from_secrets",
    "rtc_configuration",
]

ICE_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")
_TURN_SCHEMES = ("turn:", "turns:")
SECRETS_KEY = "ice_servers"


class IceConfigError(ValueError):
    """The ``ice_servers`` secret breaks a rule; the message names the entry and the rule."""


def _urls(entry: Mapping[str, Any], index: int) -> list[str]:
    raw = entry.get("urls", entry.get("url"))
    if isinstance(raw, str):
        urls = [raw]
    elif isinstance(raw, Sequence) and not isinstance(raw, (bytes, bytearray)):
        urls = list(raw)
    else:
        raise IceConfigError(
            f"ice_servers entry {index + 1} must have urls (a text or a list of texts), got {raw!r}"
        )
    if not urls:
        raise IceConfigError(f"ice_servers entry {index + 1} must list at least one url")
    for url in urls:
        if not isinstance(url, str) or not url.strip().lower().startswith(ICE_SCHEMES):
            raise IceConfigError(
                f"ice_servers entry {index + 1}: every url must start with "
                f"{', '.join(ICE_SCHEMES)}, got {url!r}"
            )
    return [url.strip() for url in urls]


def _server(entry: Any, index: int) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise IceConfigError(
            f"ice_servers entry {index + 1} must be a table with urls, got {type(entry).__name__}"
        )
    server: dict[str, Any] = {"urls": _urls(entry, index)}
    for field in ("username", "credential"):
        value = entry.get(field)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            # The value may be a secret: name the field, never echo the value.
            raise IceConfigError(f"ice_servers entry {index + 1}: {field} must be non-empty text")
        server[field] = value
    if any(url.lower().startswith(_TURN_SCHEMES) for url in server["urls"]) and not (
        "username" in server and "credential" in server
    ):
        # Browsers reject a TURN server without both (InvalidAccessError), killing the call.
        raise IceConfigError(
            f"ice_servers entry {index + 1} lists a turn: url, so it needs both username and credential"
        )
    return server


def ice_servers_from_secrets(secrets: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The validated ``ice_servers`` list from a secrets mapping (empty when absent).

    Accepts an array of tables (``[[ice_servers]]``) or a single table (``[ice_servers]``).
    Raises ``IceConfigError`` for an entry the browser or aiortc would reject.
    """
    raw = secrets.get(SECRETS_KEY)
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        entries: list[Any] = [raw]
    elif isinstance(raw, Sequence) and not isinstance(raw, (str, bytes, bytearray)):
        entries = list(raw)
    else:
        raise IceConfigError(
            f"ice_servers must be an array of tables ([[ice_servers]]), got {type(raw).__name__}"
        )
    return [_server(entry, index) for index, entry in enumerate(entries)]


def rtc_configuration(servers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"iceServers": [...]}`` with an explicit (possibly empty) list; copies the entries."""
    return {"iceServers": [dict(server) for server in servers]}


def ice_configuration() -> dict[str, Any]:
    """The RTC configuration for this app from ``st.secrets`` (script thread).

    Raises ``IceConfigError`` when the secret is malformed.
    """
    return rtc_configuration(ice_servers_from_secrets(runtime.secrets_mapping()))
