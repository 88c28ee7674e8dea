"""Managed TURN (Cloudflare, Twilio): which service, and its short-lived ICE servers kept fresh.

streamlit-webrtc's users give a hosted app its relay with two secrets, the names its
``streamlit_webrtc.credentials`` helpers read: ``CLOUDFLARE_TURN_KEY_ID`` +
``CLOUDFLARE_TURN_KEY_API_TOKEN``, or ``TWILIO_ACCOUNT_SID`` + ``TWILIO_AUTH_TOKEN``.
Those services hand out ICE servers whose credentials expire, so they are minted again
before they do. This module is the pure part (no Streamlit, no HTTP of its own):

- ``resolve_managed_turn``: the configured pair (secrets win over the environment), in
  streamlit-webrtc's order of preference (Cloudflare, then Twilio);
- ``managed_turn_in_use``: the choice between the four sources of ICE servers (static
  ``ice_servers``, ``turn_urls`` + ``turn_secret``, a managed service, none);
- ``ManagedTurnError``: a failed mint in plain words (refused / could not be reached);
- ``IceRenewal``: one process's current servers per service, minted through a callable
  (``livechat.ui.ice`` passes streamlit-webrtc's helper) and renewed when due.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from livechat import redact
from livechat.config import ConfigError, TurnSettings, secret_or_env

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManagedService:
    """One managed TURN service: its name and the two secrets streamlit-webrtc reads."""

    name: str
    id_name: str
    token_name: str
    host: str  # where its credential endpoint is (for the "could not be reached" message)


CLOUDFLARE = ManagedService("Cloudflare", "CLOUDFLARE_TURN_KEY_ID", "CLOUDFLARE_TURN_KEY_API_TOKEN",
                            "rtc.live.cloudflare.com")
TWILIO = ManagedService("Twilio", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "api.twilio.com")
# streamlit-webrtc's get_available_ice_servers() tries Cloudflare first, then Twilio.
MANAGED_SERVICES = (CLOUDFLARE, TWILIO)


@dataclass(frozen=True)
class ManagedTurn:
    """A configured managed service; both secrets hidden from ``repr``."""

    service: ManagedService
    account: str = field(repr=False)
    token: str = field(repr=False)

    @property
    def key(self) -> str:
        """Names this configuration without revealing it (a changed secret is a new key)."""
        raw = f"{self.service.name}\0{self.account}\0{self.token}".encode()
        return hashlib.sha256(raw).hexdigest()[:16]


def _text(secrets: Mapping[str, Any], env: Mapping[str, str], name: str) -> str | None:
    value = secret_or_env(secrets, name, env, name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def resolve_managed_turn(secrets: Mapping[str, Any], env: Mapping[str, str]) -> ManagedTurn | None:
    """The first service whose pair is set (secrets win over the environment), or None.

    Every value found is registered for log redaction. A pair with one half missing (and no
    complete pair) raises ``ConfigError`` naming the missing secret: streamlit-webrtc only
    logs that, and the app would then have no relay.
    """
    pairs = [(service, _text(secrets, env, service.id_name), _text(secrets, env, service.token_name))
             for service in MANAGED_SERVICES]
    for value in (v for _, account, token in pairs for v in (account, token) if v):
        redact.register_secret(value)  # the unused pair too: it is still a secret
    half: list[str] = []
    for service, account, token in pairs:
        if account and token:
            return ManagedTurn(service, account, token)
        if account or token:
            present, missing = ((service.id_name, service.token_name) if account
                                else (service.token_name, service.id_name))
            half.append(f"{present} is set but {missing} is not (set both to use {service.name}'s TURN)")
    if half:
        raise ConfigError("; ".join(half))
    return None


def managed_turn_in_use(*, static_servers: bool, turn: TurnSettings, secrets: Mapping[str, Any],
                        env: Mapping[str, str]) -> ManagedTurn | None:
    """The managed service to mint from: only when no other source is configured.

    Static ``ice_servers`` and ``turn_urls`` + ``turn_secret`` are the operator's explicit
    choice and win; a managed pair beside them is not even read (so half a pair there is
    no error). Without any source the app uses host candidates only and looks nothing up.
    """
    if static_servers or turn.mints_credentials:
        return None
    return resolve_managed_turn(secrets, env)


# ----------------------------------------------------------------------------- failures

REFUSED = "the TURN service refused the credentials"
UNREACHABLE = "the TURN service could not be reached"


class ManagedTurnError(RuntimeError):
    """Minting ICE servers from a managed service failed; the message is for the page.

    ``kind`` is ``"refused"``, ``"unreachable"``, ``"error"``, ``"answer"`` or ``"package"``.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it: streamlit-webrtc re-raises HTTP failures as ValueError."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _status(exc: BaseException) -> int | None:
    # urllib's HTTPError has .code; twilio's TwilioRestException has .status.
    for name in ("status", "code"):
        value = getattr(exc, name, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    return None


def describe_failure(service: ManagedService, exc: BaseException) -> ManagedTurnError:
    """``exc`` (from a credential helper) as a ``ManagedTurnError`` in plain words.

    Never quotes the exception's text: an HTTP library's message may hold the request.
    """
    secrets_hint = f"check {service.id_name} and {service.token_name}"
    for link in _chain(exc):
        if isinstance(link, ImportError):
            return ManagedTurnError(
                f"{service.name}'s TURN needs the {service.name.lower()} package, which is not "
                f"installed (add it to requirements.txt)", "package")
        status = _status(link)
        if status in (401, 403):
            return ManagedTurnError(f"{REFUSED} ({service.name}: {secrets_hint})", "refused")
        if status is not None and status >= 400:
            return ManagedTurnError(
                f"the TURN service answered with an error ({service.name}, HTTP {status})", "error")
    if any(isinstance(link, OSError) for link in _chain(exc)):  # URLError, timeouts, requests
        return ManagedTurnError(f"{UNREACHABLE} ({service.name}, {service.host})", "unreachable")
    return ManagedTurnError(f"the TURN service gave an answer that is not a list of ICE servers "
                            f"({service.name})", "answer")


# ----------------------------------------------------------------------------- the answer

_TURN_SCHEMES = ("turn:", "turns:")


def ice_servers_from_answer(service: ManagedService, answer: Any) -> tuple[dict[str, Any], ...]:
    """The helper's answer as ``iceServers`` entries (``urls``, ``username``, ``credential``).

    Cloudflare answers a list (or, in its older API, one table); Twilio adds a legacy
    ``url`` beside ``urls``, which browsers and aiortc do not need. An answer without a
    TURN server with credentials is refused: it would leave a hosted app without a relay.
    """
    entries = [answer] if isinstance(answer, Mapping) else answer
    if not isinstance(entries, Sequence) or isinstance(entries, (str, bytes)):
        raise ManagedTurnError(f"the TURN service gave an answer that is not a list of ICE servers "
                               f"({service.name})", "answer")
    servers: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        urls = entry.get("urls", entry.get("url"))
        urls = [urls] if isinstance(urls, str) else [u for u in (urls or []) if isinstance(u, str)]
        if not urls:
            continue
        server: dict[str, Any] = {"urls": urls}
        for name in ("username", "credential"):
            if isinstance(entry.get(name), str) and entry[name]:
                server[name] = entry[name]
                redact.register_secret(entry[name])  # they reach the browser, never the log
        servers.append(server)
    if not any("credential" in s and any(u.lower().startswith(_TURN_SCHEMES) for u in s["urls"])
               for s in servers):
        raise ManagedTurnError(f"the TURN service's answer holds no TURN server ({service.name})", "answer")
    return tuple(servers)


# ----------------------------------------------------------------------------- renewal


@dataclass(frozen=True)
class Schedule:
    """How long a service's minted servers are valid, and when they are renewed."""

    lifetime_s: float
    renew_after_s: float

    def __post_init__(self) -> None:
        if not 0 < self.renew_after_s < self.lifetime_s:
            raise ValueError(f"renew_after_s must be positive and below lifetime_s, got {self!r}")

    @property
    def every(self) -> str:
        """"every hour", "every 30 minutes": for the Settings page."""
        minutes = round(self.renew_after_s / 60)
        if minutes % 60 == 0:
            hours = minutes // 60
            return "every hour" if hours == 1 else f"every {hours} hours"
        return f"every {minutes} minutes"


@dataclass(frozen=True)
class MintedIce:
    """One mint: the servers (hidden from ``repr``: they hold credentials), when they were
    minted, and when their credentials expire."""

    servers: tuple[dict[str, Any], ...] = field(repr=False)
    minted_at: float
    expires_at: float


# After a failure, reruns within this time get the same error instead of waiting on the
# service again (a helper's request may take its 10 s timeout).
RETRY_AFTER_S = 30.0


class IceRenewal:
    """The current ``MintedIce`` per managed configuration, in one process (thread-safe).

    Every browser session gets the same servers until they are due (``Schedule``), so the
    component's arguments stay the same across reruns. A failed renewal keeps serving the
    previous servers while they are still valid, and is retried after ``RETRY_AFTER_S``.
    The lock is held while minting: sessions arriving meanwhile wait for that one mint.
    """

    def __init__(self, *, retry_after_s: float = RETRY_AFTER_S) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, MintedIce] = {}
        self._failed: dict[str, tuple[float, ManagedTurnError]] = {}
        self._retry_after_s = retry_after_s

    def servers(self, managed: ManagedTurn, schedule: Schedule, mint: Callable[[], Any], *,
                now: float) -> MintedIce:
        """The current servers for ``managed``; ``mint()`` returns a fresh helper answer.

        Raises ``ManagedTurnError`` when minting fails and nothing valid is held.
        """
        with self._lock:
            held = self._held.get(managed.key)
            if held is not None and now - held.minted_at < schedule.renew_after_s:
                return held
            failed = self._failed.get(managed.key)
            if failed is not None and now - failed[0] < self._retry_after_s:
                return self._fallback(held, failed[1], now)
            try:
                servers = ice_servers_from_answer(managed.service, mint())
            except ManagedTurnError as exc:
                error = exc
            except Exception as exc:  # the helper's failures: classified, never quoted
                error = describe_failure(managed.service, exc)
            else:
                minted = MintedIce(servers, now, now + schedule.lifetime_s)
                self._held[managed.key] = minted
                self._failed.pop(managed.key, None)
                return minted
            self._failed[managed.key] = (now, error)
            logger.warning("Minting TURN servers failed: %s", error)
            return self._fallback(held, error, now)

    @staticmethod
    def _fallback(held: MintedIce | None, error: ManagedTurnError, now: float) -> MintedIce:
        if held is not None and now < held.expires_at:
            return held  # the previous servers still work; the next run retries
        raise error

    def last_error(self, managed: ManagedTurn) -> ManagedTurnError | None:
        """The last failure for ``managed`` if it has not been followed by a success."""
        with self._lock:
            failed = self._failed.get(managed.key)
            return failed[1] if failed is not None else None
