"""Who is calling: API keys and ephemeral tokens, on REST and on the Live socket.

Where credentials come from (LIVE_PROTOCOL 2.1, 5.3):

* API key: ``x-goog-api-key`` header or ``?key=``;
* token: ``Authorization: Token auth_tokens/...`` (Python SDK) or
  ``?access_token=auth_tokens/...`` (browsers). The SDK also copies the token
  into ``x-goog-api-key`` on the Constrained path; that copy is ignored.

Tokens are valid only on ``BidiGenerateContentConstrained`` (and only on the
API versions in ``EmulatorOptions.token_versions``), keys only on
``BidiGenerateContent``. Refusals on the socket are close codes (1008 for a
missing, unregistered or wrong-method credential; 1007 for a bad key), applied
after the upgrade by the caller.

The server's API key is compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Mapping

from .auth_tokens import TOKEN_PREFIX, UNREGISTERED_REASON, AuthToken, TokenStore
from .errors import MintRejected, SessionRefused
from .options import EmulatorOptions

KEY_INVALID_REASON = "API key not valid. Please pass a valid API key."


@dataclass(frozen=True)
class Credentials:
    """Credentials found on one request (either may be missing)."""

    api_key: str | None
    token: str | None


@dataclass(frozen=True)
class LiveIdentity:
    """An authenticated Live caller: ``auth`` is "api_key", "token" or "none"."""

    auth: str
    token: AuthToken | None


def find_credentials(headers: Mapping[str, str], query: Mapping[str, str]) -> Credentials:
    """Extract a key and a token from request headers (lower-case names) and query."""
    token = None
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "token" and value.strip():
        token = value.strip()
    elif query.get("access_token"):
        token = query["access_token"]
    api_key = query.get("key") or headers.get("x-goog-api-key") or None
    return Credentials(api_key=api_key, token=token)


def key_matches(candidate: str | None, server_key: str) -> bool:
    """Constant-time comparison of a presented key with the server's key."""
    if not candidate:
        return False
    return hmac.compare_digest(candidate.encode(), server_key.encode())


def check_mint_credentials(credentials: Credentials, *, server_key: str, options: EmulatorOptions) -> None:
    """Authorise ``POST /v1alpha/auth_tokens``; raise ``MintRejected`` like the service.

    Missing key: 403 PERMISSION_DENIED. Invalid key (a token name included,
    which is never a mint credential): 400 INVALID_ARGUMENT / API_KEY_INVALID, the service's
    answer to a bad key (reported in google-gemini/gemini-cli#25198 and
    google-gemini/deprecated-generative-ai-python#481).
    """
    key = credentials.api_key
    if key and (key.startswith(TOKEN_PREFIX) or options.refuse_auth):
        raise MintRejected(400, "INVALID_ARGUMENT", KEY_INVALID_REASON, reason="API_KEY_INVALID")
    if not key:
        if options.require_api_key or options.refuse_auth:
            raise MintRejected(403, "PERMISSION_DENIED", UNREGISTERED_REASON)
        return
    if options.require_api_key and not key_matches(key, server_key):
        raise MintRejected(400, "INVALID_ARGUMENT", KEY_INVALID_REASON, reason="API_KEY_INVALID")


def check_live_credentials(credentials: Credentials, *, constrained: bool, api_version: str,
                           server_key: str, options: EmulatorOptions, tokens: TokenStore,
                           now: float) -> LiveIdentity:
    """Authorise a Live connection; raise ``SessionRefused`` with the service's close code."""
    if constrained:
        if not credentials.token:
            raise SessionRefused(1008, UNREGISTERED_REASON,
                                 "BidiGenerateContentConstrained needs an auth token "
                                 "(Authorization: Token ... or ?access_token=)")
        if options.refuse_auth:
            raise SessionRefused(1008, UNREGISTERED_REASON, "refuse_auth fault: every credential refused")
        if api_version not in options.token_versions:
            raise SessionRefused(1008, UNREGISTERED_REASON,
                                 f"tokens are accepted on {', '.join(options.token_versions)} only, "
                                 f"got {api_version}")
        return LiveIdentity(auth="token", token=tokens.authenticate(credentials.token, now=now))

    key = credentials.api_key
    if key:
        if key.startswith(TOKEN_PREFIX):
            raise SessionRefused(1007, KEY_INVALID_REASON,
                                 "an auth token was passed as an API key on BidiGenerateContent")
        if options.refuse_auth:
            raise SessionRefused(1007, KEY_INVALID_REASON, "refuse_auth fault: every credential refused")
        if options.require_api_key and not key_matches(key, server_key):
            raise SessionRefused(1007, KEY_INVALID_REASON, "wrong API key")
        return LiveIdentity(auth="api_key", token=None)
    if credentials.token:
        raise SessionRefused(1008, UNREGISTERED_REASON,
                             "an auth token is only valid on BidiGenerateContentConstrained")
    if options.require_api_key or options.refuse_auth:
        raise SessionRefused(1008, UNREGISTERED_REASON, "no API key")
    return LiveIdentity(auth="none", token=None)
