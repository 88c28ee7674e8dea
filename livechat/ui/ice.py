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
Better still, give ``turn_urls`` + ``turn_secret`` (``livechat.config.TurnSettings``): the
server then mints credentials per browser session (TURN REST API scheme) and only those
reach the browser. ``ice_transport_policy = "relay"`` makes the browser use the relay
only: how the tests prove the relay works, and how an operator checks a TURN setup.

With relay forced and a TURN server that refuses the credentials (or cannot be reached),
the browser gathers no candidate at all and would sit in "connecting" for ever;
``relay_problem`` turns that into a message the Talk page shows.

With neither ``ice_servers`` nor ``turn_urls`` but a managed TURN pair (Cloudflare's or
Twilio's, the secrets streamlit-webrtc reads; ``livechat.managed_turn``), the servers come
from streamlit-webrtc's own credential helpers, minted again before they expire, shared
by every session of the process. A failed mint raises ``ManagedTurnError`` (the Talk
page shows it and renders no component): never a silent fallback to host candidates.

Pure functions plus ``ice_configuration()`` (script thread), which reads the secrets
and keeps the session's minted credentials in its slots (``livechat.ui.slots``).
"""

from __future__ import annotations

import os
import secrets as secrets_module
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from livechat.config import TurnCredentials, TurnSettings, resolve_turn_settings, turn_credentials
from livechat.managed_turn import (
    CLOUDFLARE,
    IceRenewal,
    ManagedTurn,
    ManagedTurnError,
    MintedIce,
    Schedule,
    managed_turn_in_use,
)
from livechat.ui import runtime, slots

__all__ = [
    "ICE_SCHEMES",
    "NO_RELAY_MESSAGE",
    "RELAY_GATHER_TIMEOUT_S",
    "IceConfigError",
    "ManagedTurnError",
    "ManagedStatus",
    "managed_turn_status",
    "ice_configuration",
    "minted_server",
    "relay_candidate_seen",
    "relay_problem",
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


def rtc_configuration(servers: Sequence[Mapping[str, Any]], *, policy: str = "all") -> dict[str, Any]:
    """``{"iceServers": [...]}`` with an explicit (possibly empty) list; copies the entries.

    ``policy="relay"`` adds ``iceTransportPolicy: "relay"`` (the browser reads it; aiortc,
    which streamlit-webrtc gives only ``iceServers``, ignores it). A relay policy without
    any TURN server could never connect, so it is refused.
    """
    config: dict[str, Any] = {"iceServers": [dict(server) for server in servers]}
    if policy == "relay":
        if not any(str(url).lower().startswith(_TURN_SCHEMES)
                   for server in servers for url in server.get("urls", [])):
            raise IceConfigError(
                "ice_transport_policy is relay, but no TURN server is configured "
                "(set turn_urls and turn_secret, or a turn: url in ice_servers)"
            )
        config["iceTransportPolicy"] = "relay"
    return config


def minted_server(settings: TurnSettings, credentials: TurnCredentials) -> dict[str, Any]:
    """The ``iceServers`` entry for ``settings.urls`` with one session's minted credentials."""
    return {"urls": list(settings.urls), "username": credentials.username,
            "credential": credentials.credential}




def _session_credentials(settings: TurnSettings, now: float) -> TurnCredentials:
    """This browser session's credentials, minted again once half their lifetime is gone.

    Kept across reruns: new credentials on every run would change the component's
    arguments each time. The id is random (not Streamlit's session id) and says nothing.
    """
    turn_id = slots.TURN_ID.get()
    if turn_id is None:
        turn_id = secrets_module.token_hex(8)
        slots.TURN_ID.set(turn_id)
    current = slots.TURN_CREDENTIALS.get()
    half = settings.credential_lifetime_s / 2
    if isinstance(current, TurnCredentials) and current.expires_at - now > half:
        return current
    assert settings.secret is not None  # TurnSettings refuses urls without a secret
    fresh = turn_credentials(settings.secret, turn_id, now=now, lifetime_s=settings.credential_lifetime_s)
    slots.TURN_CREDENTIALS.set(fresh)
    return fresh


def turn_settings() -> TurnSettings:
    """The TURN settings from ``st.secrets`` and the environment (script thread).

    Raises ``livechat.config.ConfigError`` when they break a rule.
    """
    return resolve_turn_settings(runtime.secrets_mapping(), os.environ)


def ice_configuration(*, now: float | None = None) -> dict[str, Any]:
    """The RTC configuration for this browser session (script thread).

    Static ``ice_servers`` first, then the minted TURN entry, then the transport policy;
    with neither, a managed service's servers. Raises ``IceConfigError`` when the secret
    is malformed, ``ConfigError`` when the TURN settings are, and ``ManagedTurnError``
    when the managed service refuses or cannot be reached.
    """
    secrets = runtime.secrets_mapping()
    servers = ice_servers_from_secrets(secrets)
    settings = resolve_turn_settings(secrets, os.environ)
    moment = time.time() if now is None else now
    if settings.mints_credentials:
        servers.append(minted_server(settings, _session_credentials(settings, moment)))
    managed = _managed_in_use(secrets, static_servers=bool(servers), settings=settings)
    if managed is not None:
        servers.extend(dict(server) for server in _minted(managed, moment).servers)
    configuration = rtc_configuration(servers, policy=settings.transport_policy)
    slots.RELAY_ONLY.set(settings.relay_only)  # for relay_watch
    return configuration


# ----------------------------------------------------------------------------- managed TURN

# One per process: every browser session shares the current servers (livechat.managed_turn).
_RENEWAL = IceRenewal()


def _schedule(managed: ManagedTurn) -> Schedule:
    """streamlit-webrtc's own lifetimes: a mint is renewed at half its life, or when the
    helper's cache would renew it (Cloudflare: valid 2 h, renewed every hour)."""
    from streamlit_webrtc import credentials

    if managed.service is CLOUDFLARE:
        lifetime = credentials.CLOUDFLARE_CRED_TTL
        return Schedule(lifetime, min(credentials.CLOUDFLARE_CRED_CACHE_TTL, lifetime / 2))
    return Schedule(credentials.TWILIO_CRED_TTL, credentials.TWILIO_CRED_TTL / 2)


def _helper_mint(managed: ManagedTurn) -> Callable[[], Any]:
    """A call of streamlit-webrtc's credential helper for ``managed``, without its cache.

    The helpers are ``st.cache_data`` functions: a cached answer may have been minted at
    any time in the last hour (Twilio's then expires within the hour), and the cache
    re-raises a failure with its HTTP cause replaced. So the function under the cache
    (``__wrapped__``, the helper's own code) is called: ``IceRenewal`` decides when to
    mint, knows when it did, and can tell a refusal from an unreachable service.
    """
    from streamlit_webrtc import credentials

    if managed.service is CLOUDFLARE:
        helper: Any = credentials.get_cloudflare_ice_servers
        kwargs = {"turn_key_id": managed.account, "turn_key_api_token": managed.token}
    else:
        helper = credentials.get_twilio_ice_servers
        kwargs = {"twilio_sid": managed.account, "twilio_token": managed.token}
    mint = getattr(helper, "__wrapped__", helper)
    return lambda: mint(**kwargs)


def _managed_in_use(secrets: Mapping[str, Any], *, static_servers: bool,
                    settings: TurnSettings) -> ManagedTurn | None:
    return managed_turn_in_use(static_servers=static_servers, turn=settings, secrets=secrets, env=os.environ)


def _minted(managed: ManagedTurn, now: float) -> MintedIce:
    return _RENEWAL.servers(managed, _schedule(managed), _helper_mint(managed), now=now)


@dataclass(frozen=True)
class ManagedStatus:
    """What Settings says about a managed TURN service: its name, and the mint or its failure."""

    label: str  # "Cloudflare, via streamlit-webrtc, renewed every hour"
    minted: MintedIce | None
    error: str | None

    @property
    def servers_text(self) -> str | None:
        """"2 minted, valid until 14:05 UTC" (no credential), or None before a mint."""
        if self.minted is None:
            return None
        until = time.strftime("%H:%M UTC", time.gmtime(self.minted.expires_at))
        return f"{len(self.minted.servers)} minted, valid until {until}"


def managed_turn_status(*, now: float | None = None) -> ManagedStatus | None:
    """The managed service in use (minting, or reusing the process's servers, as the Talk
    page would), or None when another source or none is configured (script thread).

    Raises ``IceConfigError`` / ``ConfigError`` like ``ice_configuration``.
    """
    secrets = runtime.secrets_mapping()
    managed = _managed_in_use(secrets, static_servers=bool(ice_servers_from_secrets(secrets)),
                              settings=resolve_turn_settings(secrets, os.environ))
    if managed is None:
        return None
    label = f"{managed.service.name}, via streamlit-webrtc, renewed {_schedule(managed).every}"
    try:
        minted = _minted(managed, time.time() if now is None else now)
    except ManagedTurnError as exc:
        return ManagedStatus(label, None, str(exc))
    renewal_error = _RENEWAL.last_error(managed)  # servers still valid, renewal failing
    return ManagedStatus(label, minted, str(renewal_error) if renewal_error else None)


# ----------------------------------------------------------------------------- relay check

# Shown on the Talk page when relay is forced and the browser found no relay candidate.
NO_RELAY_MESSAGE = "no relay candidate: check the TURN server and its credentials"
# A TURN allocation takes one or two round trips (a 401 challenge, then the request);
# Chromium gives up on an unanswered TURN server after about 5 s of retransmissions.
RELAY_GATHER_TIMEOUT_S = 8.0


def relay_candidate_seen(component_value: Mapping[str, Any] | None) -> bool:
    """True when the browser's trickled ICE candidates include a relay candidate.

    streamlit-webrtc 0.79's frontend sends ``{"sdpOffer": ..., "iceCandidates": {id:
    RTCIceCandidateInit}}`` while signalling; a relay candidate's line says ``typ relay``.
    """
    if not component_value:
        return False
    candidates = component_value.get("iceCandidates") or {}
    lines = [c.get("candidate", "") for c in candidates.values() if isinstance(c, Mapping)]
    offer = component_value.get("sdpOffer") or {}
    if isinstance(offer, Mapping):
        lines.append(str(offer.get("sdp", "")))
    return any(" typ relay" in line for line in lines)


def relay_problem(*, relay_only: bool, signalling_for_s: float | None,
                  component_value: Mapping[str, Any] | None) -> str | None:
    """``NO_RELAY_MESSAGE`` when relay is forced, the stream has been signalling for
    ``RELAY_GATHER_TIMEOUT_S`` and the browser offered no relay candidate; else None.

    ``signalling_for_s`` is None when the component is not signalling (stopped, or
    playing: connected streams clear their candidate list).
    """
    if not relay_only or signalling_for_s is None or signalling_for_s < RELAY_GATHER_TIMEOUT_S:
        return None
    return None if relay_candidate_seen(component_value) else NO_RELAY_MESSAGE


def relay_watch(component_key: str, *, relay_only: bool | None = None, now: float | None = None) -> str | None:
    """Check the voice component of ``component_key`` for a missing relay (script thread).

    Returns ``NO_RELAY_MESSAGE`` once per stuck stream (the first call that detects it),
    None otherwise. Reads the component's state from the session (``slots.WEBRTC_CONTEXT``): the
    ``WebRtcStreamerContext`` under the key, the frontend's value under streamlit-webrtc's
    frontend key. ``relay_only`` defaults to the policy ``ice_configuration`` last used.
    """
    from streamlit_webrtc.component import generate_frontend_component_key

    if relay_only is None:
        relay_only = slots.RELAY_ONLY.get()
    moment = time.monotonic() if now is None else now
    context = slots.WEBRTC_CONTEXT.slot(component_key).get()
    state = getattr(context, "state", None)
    signalling = bool(state is not None and state.signalling and not state.playing)
    if not signalling:
        slots.SIGNALLING_SINCE.pop()
        slots.RELAY_REPORTED.pop()
        return None
    since = slots.SIGNALLING_SINCE.get()
    if since is None:
        since = moment
        slots.SIGNALLING_SINCE.set(since)
    if slots.RELAY_REPORTED.get():
        return None
    value = slots.WEBRTC_CONTEXT.slot(generate_frontend_component_key(component_key)).get()
    problem = relay_problem(relay_only=relay_only, signalling_for_s=moment - since,
                            component_value=value if isinstance(value, Mapping) else None)
    if problem is not None:
        slots.RELAY_REPORTED.set(True)
    return problem
