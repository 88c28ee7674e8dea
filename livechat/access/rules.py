"""Who may use the app: the ``[access]`` rules from secrets, and the decision for one person.

Pure functions of plain mappings (``st.secrets`` as a dict, ``st.user`` as a dict), so the
rules are checked the same way on every run and tested without Streamlit.

The rules (``[access]`` in ``secrets.toml``; every key optional)::

    allowed_emails = ["ana@example.com"]      # exact addresses
    allowed_domains = ["example.com"]         # anyone at the domain, verified email required
    admins = ["owner@example.com"]            # see usage; allowed to sign in as well
    require_sign_in = true                    # refuse to serve without an [auth] section
    key_policy = "server"                     # or "visitor": each analyst pastes their own key
    trust_unverified_emails = false           # exact addresses only; see docs/access.md

Deny by default: with sign-in on and no ``allowed_emails``, ``allowed_domains`` or
``admins``, nobody is let in (a provider such as Google signs in anyone with an account).
A value of the wrong shape raises ``AccessSettingsError``: the app refuses to serve rather
than guess at who may reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from livechat.access.identity import Analyst

__all__ = [
    "AccessRules",
    "AccessSettingsError",
    "Decision",
    "KeyPolicy",
    "Refusal",
    "decide",
    "parse_access_rules",
    "sign_in_configured",
]

SECTION = "access"
AUTH_SECTION = "auth"


class AccessSettingsError(ValueError):
    """An ``[access]`` value breaks a rule; the message names the setting and the value."""


class KeyPolicy(StrEnum):
    """Whose Gemini API key mints a session's tokens."""

    SERVER = "server"  # the owner's GEMINI_API_KEY
    VISITOR = "visitor"  # each analyst's own, pasted into their browser session


class Refusal(StrEnum):
    """Why a signed-in person was not let in (for the audit trail, never shown to them)."""

    NO_EMAIL = "no_email"
    UNVERIFIED_EMAIL = "unverified_email"
    NOT_LISTED = "not_listed"


@dataclass(frozen=True)
class AccessRules:
    """The ``[access]`` section, normalised (addresses and domains lower-case)."""

    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    require_sign_in: bool = False
    key_policy: KeyPolicy = KeyPolicy.SERVER
    trust_unverified_emails: bool = False

    @property
    def lets_anyone_in(self) -> bool:
        """False when no list names anyone (deny by default)."""
        return bool(self.allowed_emails or self.allowed_domains or self.admins)


@dataclass(frozen=True)
class Decision:
    """The outcome for one signed-in person: an ``analyst``, or a ``refusal``."""

    analyst: Analyst | None
    refusal: Refusal | None
    email: str  # as the provider gave it, lower-cased ("" when none): for the audit trail

    @property
    def allowed(self) -> bool:
        return self.analyst is not None


def sign_in_configured(secrets: Mapping[str, Any]) -> bool:
    """True when secrets hold an ``[auth]`` section (Streamlit's OIDC sign-in)."""
    section = secrets.get(AUTH_SECTION)
    return isinstance(section, Mapping) and bool(section)


def _strings(section: Mapping[str, Any], name: str) -> frozenset[str]:
    value = section.get(name, ())
    if isinstance(value, str):  # one address written without brackets
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise AccessSettingsError(f"[access] {name} must be a list of strings, got {value!r}")
    return frozenset(v.strip().lower() for v in value if v.strip())


def _flag(section: Mapping[str, Any], name: str) -> bool:
    value = section.get(name, False)
    if not isinstance(value, bool):
        raise AccessSettingsError(f"[access] {name} must be true or false, got {value!r}")
    return value


def parse_access_rules(secrets: Mapping[str, Any]) -> AccessRules:
    """The rules in ``secrets["access"]`` (defaults when absent); raises AccessSettingsError."""
    section = secrets.get(SECTION, {})
    if not isinstance(section, Mapping):
        raise AccessSettingsError(f"[access] must be a table of settings, got {section!r}")
    domains = frozenset(d.lstrip("@") for d in _strings(section, "allowed_domains"))  # "@example.com" too
    for domain in domains:
        if "@" in domain or "." not in domain:
            raise AccessSettingsError(
                f"[access] allowed_domains must hold domains such as 'example.com', got {domain!r}")
    raw_policy = section.get("key_policy", KeyPolicy.SERVER.value)
    try:
        policy = KeyPolicy(str(raw_policy).strip().lower())
    except ValueError:
        raise AccessSettingsError(
            f"[access] key_policy must be \"server\" or \"visitor\", got {raw_policy!r}") from None
    return AccessRules(
        allowed_emails=_strings(section, "allowed_emails"),
        allowed_domains=domains,
        admins=_strings(section, "admins"),
        require_sign_in=_flag(section, "require_sign_in"),
        key_policy=policy,
        trust_unverified_emails=_flag(section, "trust_unverified_emails"),
    )


def _verified(claims: Mapping[str, Any]) -> bool | None:
    """The ``email_verified`` claim: True, False, or None when the provider sent none."""
    value = claims.get("email_verified")
    if isinstance(value, str):  # some providers send "true"/"false"
        return {"true": True, "false": False}.get(value.strip().lower())
    return value if isinstance(value, bool) else None


def decide(rules: AccessRules, claims: Mapping[str, Any]) -> Decision:
    """Whether the person behind ``claims`` (``st.user`` as a dict) may use the app.

    Listed addresses (``allowed_emails``, ``admins``) need a verified email, or one not
    marked unverified when ``trust_unverified_emails`` is on; ``allowed_domains`` always
    needs ``email_verified = true``: a domain match on an unverified address would let
    anyone who can type an address in at the provider in.
    """
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        return Decision(None, Refusal.NO_EMAIL, email)
    verified = _verified(claims)
    listed = email in rules.allowed_emails or email in rules.admins
    domain = email.rsplit("@", 1)[1]
    if listed and (verified is True or (rules.trust_unverified_emails and verified is None)):
        allowed = True
    elif domain in rules.allowed_domains and verified is True:
        allowed = True
    else:
        unverified = verified is not True and (listed or domain in rules.allowed_domains)
        return Decision(None, Refusal.UNVERIFIED_EMAIL if unverified else Refusal.NOT_LISTED, email)
    name = str(claims.get("name") or "").strip()
    return Decision(Analyst(id=email, name=name, is_admin=email in rules.admins, signed_in=True), None, email)
