"""Ephemeral ("auth") tokens: parsing a mint request and the store of minted tokens.

``POST /v1alpha/auth_tokens`` bodies are validated like the service does
(LIVE_PROTOCOL 1.2-1.6 and 5.5-5.7): RFC 3339 timestamps with an offset,
expiries under 20 h, ``uses`` (default 1, 0 = unlimited), a field mask of valid
paths that covers every field the token's setup sets. The store then answers
the questions a Live connection asks: is this token known and unexpired, may it
open a new session now (``uses``, ``newSessionExpireTime``)?

Thread affinity: a ``TokenStore`` is used from the server's event-loop thread;
``snapshot()`` may be called from any thread (it takes the store's lock).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import SessionRefused, invalid_argument
from .schema import SchemaError, normalise
from .setup import check_mask_covers, parse_field_mask

TOKEN_PREFIX = "auth_tokens/"
MAX_LIFETIME_S = 20 * 3600
DEFAULT_EXPIRE_S = 30 * 60
DEFAULT_NEW_SESSION_S = 60
UNREGISTERED_REASON = ("Method doesn't allow unregistered callers (callers without established identity). "
                       "Please use API Key or other form of API consumer identity to call this API.")

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass
class AuthToken:
    """One minted token and its bookkeeping (times are epoch seconds)."""

    name: str
    created_at: float
    expire_time: float
    new_session_expire_time: float
    uses: int
    uses_left: int | None  # None: unlimited (uses == 0)
    setup: dict | None
    field_mask: list[str] | None
    body: dict
    sessions: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        """A JSON-ready description for ``GET /emulator/tokens``."""
        return {
            "name": self.name,
            "created_at": _iso(self.created_at),
            "expire_time": _iso(self.expire_time),
            "new_session_expire_time": _iso(self.new_session_expire_time),
            "uses": self.uses,
            "uses_left": self.uses_left,
            "setup": copy.deepcopy(self.setup),
            "field_mask": list(self.field_mask) if self.field_mask is not None else None,
            "body": copy.deepcopy(self.body),
            "sessions": list(self.sessions),
        }


def parse_timestamp(value: Any, field_name: str) -> float:
    """Parse an RFC 3339 timestamp that carries ``Z`` or an offset; raise ``MintRejected`` 400.

    A naive timestamp (what the SDK sends for a naive ``datetime``) is refused,
    as proto3 JSON parsing refuses it.
    """
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if not match:
        raise invalid_argument(
            f"Invalid value at '{field_name}' (type.googleapis.com/google.protobuf.Timestamp), "
            f"{json.dumps(value)}: a timestamp needs a date, a time and 'Z' or a UTC offset (RFC 3339)")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zone in ("Z", "z"):
        tz = dt.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        stamp = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz)
    except ValueError as exc:
        raise invalid_argument(
            f"Invalid value at '{field_name}' (type.googleapis.com/google.protobuf.Timestamp), "
            f"{json.dumps(value)}: {exc}") from None
    return stamp.timestamp()


def _parse_uses(value: Any) -> int:
    # proto3 JSON accepts int32 as a number or a decimal string.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise invalid_argument(f"Invalid value at 'uses' (TYPE_INT32), {json.dumps(value)}")
    try:
        uses = int(value) if not isinstance(value, float) or value.is_integer() else None
    except ValueError:
        uses = None
    if uses is None:
        raise invalid_argument(f"Invalid value at 'uses' (TYPE_INT32), {json.dumps(value)}")
    if uses < 0:
        raise invalid_argument(f"uses must be >= 0 (0 means unlimited), got {uses}")
    return uses


def parse_mint_body(raw: bytes, *, now: float, accept_nested_mask_paths: bool) -> dict:
    """Validate a mint request body; return the parsed fields.

    Returns ``{"expire_time", "new_session_expire_time", "uses", "setup", "field_mask", "body"}``.
    Raises ``MintRejected`` (400 INVALID_ARGUMENT) on any rule the service enforces.
    """
    if raw.strip():
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise invalid_argument(f"Invalid JSON payload received. {exc}") from None
    else:
        body = {}  # create() without a config sends an empty body
    if not isinstance(body, dict):
        raise invalid_argument(
            f"Invalid JSON payload received. Expected an object at the top level, got {type(body).__name__}.")
    try:
        parsed = normalise(body, "AuthToken")
    except SchemaError as exc:
        raise invalid_argument(str(exc)) from None

    expire = (parse_timestamp(parsed["expireTime"], "expire_time")
              if parsed.get("expireTime") is not None else now + DEFAULT_EXPIRE_S)
    new_session = (parse_timestamp(parsed["newSessionExpireTime"], "new_session_expire_time")
                   if parsed.get("newSessionExpireTime") is not None else now + DEFAULT_NEW_SESSION_S)
    for name, stamp in (("expire_time", expire), ("new_session_expire_time", new_session)):
        if stamp <= now:
            raise invalid_argument(f"{name} must be in the future, got {_iso(stamp)} (now {_iso(now)})")
        if stamp - now >= MAX_LIFETIME_S:
            raise invalid_argument(
                f"{name} must be less than 20 hours in the future, got {_iso(stamp)} (now {_iso(now)})")
    uses = _parse_uses(parsed["uses"]) if parsed.get("uses") is not None else 1
    setup = parsed.get("bidiGenerateContentSetup")
    mask = parse_field_mask(parsed.get("fieldMask"), accept_nested=accept_nested_mask_paths)
    if mask and setup is not None:
        check_mask_covers(setup, mask)
    return {"expire_time": expire, "new_session_expire_time": new_session, "uses": uses,
            "setup": setup, "field_mask": mask or None, "body": body}


class TokenStore:
    """Minted tokens by name. See the module docstring for thread affinity."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, AuthToken] = {}

    def mint(self, raw_body: bytes, *, now: float, accept_nested_mask_paths: bool) -> AuthToken:
        """Validate ``raw_body`` and store a new token; raise ``MintRejected`` on a bad body."""
        parsed = parse_mint_body(raw_body, now=now, accept_nested_mask_paths=accept_nested_mask_paths)
        token = AuthToken(
            name=TOKEN_PREFIX + secrets.token_hex(32), created_at=now,
            expire_time=parsed["expire_time"], new_session_expire_time=parsed["new_session_expire_time"],
            uses=parsed["uses"], uses_left=parsed["uses"] or None,
            setup=parsed["setup"], field_mask=parsed["field_mask"], body=parsed["body"])
        with self._lock:
            self._tokens[token.name] = token
        return token

    def authenticate(self, name: str, *, now: float) -> AuthToken:
        """Return the live token ``name``; raise ``SessionRefused`` 1008 if unknown or expired."""
        with self._lock:
            token = self._tokens.get(name)
        if token is None:
            raise SessionRefused(1008, UNREGISTERED_REASON, "unknown auth token")
        if now >= token.expire_time:
            raise SessionRefused(1008, UNREGISTERED_REASON,
                                 f"auth token expired at {_iso(token.expire_time)} (now {_iso(now)})")
        return token

    def admit_new_session(self, token: AuthToken, session_id: str, *, now: float) -> None:
        """Count one use of ``token`` for a new session; raise ``SessionRefused`` 1008 if not allowed."""
        with self._lock:
            if now >= token.new_session_expire_time:
                raise SessionRefused(
                    1008, UNREGISTERED_REASON,
                    f"auth token no longer opens new sessions: newSessionExpireTime was "
                    f"{_iso(token.new_session_expire_time)} (now {_iso(now)})")
            if token.uses_left is not None:
                if token.uses_left <= 0:
                    raise SessionRefused(1008, UNREGISTERED_REASON,
                                         f"auth token has no uses left (uses={token.uses})")
                token.uses_left -= 1
            token.sessions.append(session_id)

    def note_resumed_session(self, token: AuthToken, session_id: str) -> None:
        """Record a resumed session on ``token`` (a resumption is not a use)."""
        with self._lock:
            token.sessions.append(session_id)

    def snapshot(self) -> list[dict]:
        """JSON-ready descriptions of every token, oldest first (any thread)."""
        with self._lock:
            return [token.describe() for token in self._tokens.values()]


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat().replace("+00:00", "Z")
