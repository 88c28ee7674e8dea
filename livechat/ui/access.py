"""The gate every page passes: who is using this browser session, and may they.

``admit()`` runs first in the shell on every run (``livechat.ui.shell``). It reads the
``[access]`` rules and, when secrets hold an ``[auth]`` section, Streamlit's own sign-in
(``st.login``/``st.user``, OIDC through Authlib), and returns the ``Gate`` the page draws
instead of the app (``render_gate``): a signed-out person sees a sign-in button, a
signed-in person outside the rules a polite refusal that names nothing about the data.
With ``key_policy = "visitor"`` and no sign-in, the visitor's own key is their way in
(``livechat.ui.visitor_key``). Nothing else of the app runs for someone not admitted.

Everything else asks ``current_analyst()`` whose conversations, usage and audit rows these
are, and ``mint_config()`` which key the session's token mints use.

Runs on the session's script thread. Audit rows go through the process's store writer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import streamlit as st

from livechat.access import LOCAL_ANALYST, Analyst
from livechat.access.rules import (
    AccessRules,
    AccessSettingsError,
    KeyPolicy,
    decide,
    parse_access_rules,
    sign_in_configured,
)
from livechat.access.visitor import visitor_analyst
from livechat.config import ConfigError, ServiceConfig
from livechat.store.audit import AuditEvent, EventKind, append_event
from livechat.ui import conversations, runtime, slots, visitor_key
from livechat.ui.analyst import current_analyst

__all__ = ["Gate", "GateKind", "access_rules", "admit", "current_analyst", "mint_config", "record_event",
           "render_gate", "render_sidebar_account", "sign_in_on", "visitor_keys_apply"]

logger = logging.getLogger(__name__)

CLOSED_MISCONFIGURED = ("This app is not set up correctly, so it is closed for now. "
                        "The person who runs it will find the reason in the server log.")
CLOSED_NO_SIGN_IN = ("This app is set to require sign-in, but sign-in is not set up yet, so it is "
                     "closed for now. The person who runs it will find the reason in the server log.")
REFUSED = ("Sorry, this account cannot use this app. If you think it should, ask the person who "
           "runs it for access, or sign out and sign in with another account.")


# ----------------------------------------------------------------------------- settings


def access_rules(secrets: Mapping[str, Any] | None = None) -> AccessRules:
    """The ``[access]`` rules; raises AccessSettingsError for an unusable value."""
    return parse_access_rules(runtime.secrets_mapping() if secrets is None else secrets)


def sign_in_on(secrets: Mapping[str, Any] | None = None) -> bool:
    """True when secrets hold an ``[auth]`` section (every page needs sign-in)."""
    return sign_in_configured(runtime.secrets_mapping() if secrets is None else secrets)


def visitor_keys_apply(rules: AccessRules) -> bool:
    """True when visitors' own keys mint: the "visitor" policy and a real service.

    With neither a key nor a base URL configured the app talks to its built-in emulator,
    whose key is the server's own random one: there is no Gemini bill to protect.
    """
    if rules.key_policy is not KeyPolicy.VISITOR:
        return False
    try:
        return not runtime.service_config().offline
    except ConfigError:
        return True  # the page says what is wrong; never fall back to the owner's key


# ----------------------------------------------------------------------------- the gate


class GateKind(StrEnum):
    """What a person not (yet) admitted sees instead of the app."""

    CLOSED = "closed"  # settings unusable, or sign-in required but not set up
    SIGN_IN = "sign_in"
    REFUSED = "refused"
    VISITOR_KEY = "visitor_key"  # public with visitors' keys: the key is the way in


@dataclass(frozen=True)
class Gate:
    """The page drawn instead of the app (``render_gate``)."""

    kind: GateKind
    message: str = ""
    email: str = ""  # the refused person's own address, shown to them


def admit() -> Gate | None:
    """Decide this run's analyst (kept for ``current_analyst``); the gate to draw instead, or None.

    Draws nothing: the shell decides before ``st.navigation`` and the page draws the gate
    (``render_gate``), so its widgets keep one identity from run to run."""
    slots.ANALYST.pop()
    secrets = runtime.secrets_mapping()
    try:
        rules = access_rules(secrets)
    except AccessSettingsError as exc:
        logger.error("The app refuses to serve: %s", exc)
        return Gate(GateKind.CLOSED, CLOSED_MISCONFIGURED)
    if sign_in_on(secrets):
        found = _signed_in(rules)
        if isinstance(found, Gate):
            return found
        analyst = found
    elif rules.require_sign_in:
        logger.error("The app refuses to serve: [access] require_sign_in is true but secrets have no [auth] "
                     "section (see docs/access.md)")
        return Gate(GateKind.CLOSED, CLOSED_NO_SIGN_IN)
    else:
        analyst = LOCAL_ANALYST
    if not analyst.signed_in and visitor_keys_apply(rules):
        key = slots.VISITOR_KEY.get()
        if key is None:
            return Gate(GateKind.VISITOR_KEY)
        analyst = visitor_analyst(key)
    slots.ANALYST.set(analyst)
    return None


def _signed_in(rules: AccessRules) -> Analyst | Gate:
    user = st.user.to_dict()
    if not user.get("is_logged_in"):
        return Gate(GateKind.SIGN_IN)
    decision = decide(rules, user)
    if decision.analyst is None:
        who = decision.email or "unknown"
        _audit_once(f"refused:{who}", EventKind.SIGN_IN_REFUSED, who, {"reason": str(decision.refusal)})
        return Gate(GateKind.REFUSED, REFUSED, decision.email)
    analyst = decision.analyst
    _audit_once(f"in:{analyst.id}", EventKind.SIGN_IN, analyst.id, {"admin": analyst.is_admin})
    return analyst


def render_gate(gate: Gate) -> None:
    """The sign-in, refusal, closed or key page: the whole page, nothing about the data."""
    st.title("Live Data Chat")
    if gate.kind is GateKind.CLOSED:
        st.error(gate.message, icon=":material/lock:")
    elif gate.kind is GateKind.SIGN_IN:
        st.markdown("Sign in to talk to your data.")
        if st.button("Sign in", key=slots.SIGN_IN_WIDGET.key, type="primary", icon=":material/login:"):
            st.login()
    elif gate.kind is GateKind.REFUSED:
        st.warning(gate.message, icon=":material/block:")
        if gate.email:
            st.caption(f"Signed in as {gate.email}.")
        _sign_out_button(gate.email or "unknown")
    else:
        visitor_key.render_key_form(gate=True)


# ----------------------------------------------------------------------------- sign-out, the sidebar


def _sign_out_button(analyst_id: str) -> None:
    if st.button("Sign out", key=slots.SIGN_OUT_WIDGET.key, icon=":material/logout:"):
        record_event(EventKind.SIGN_OUT, analyst_id)
        slots.VISITOR_KEY.pop()
        slots.AUDITED.pop()
        st.logout()


def render_sidebar_account() -> None:
    """Who is signed in, and Sign out; a visitor's key in use, and Forget (inside st.sidebar)."""
    analyst = slots.ANALYST.get()
    if analyst is None:
        return
    if analyst.signed_in:
        st.caption(f"Signed in as **{analyst.label}**{' (admin)' if analyst.is_admin else ''}")
        _sign_out_button(analyst.id)
    if slots.VISITOR_KEY.get() is not None:
        visitor_key.render_forget_button()


# ----------------------------------------------------------------------------- keys, audit


def mint_config(configured: ServiceConfig) -> ServiceConfig | None:
    """The configuration this session's token mints use; None when a visitor's key is needed.

    Under ``key_policy = "visitor"`` the owner's key is replaced by the analyst's pasted key
    (never the other way round): no key pasted yet means no mint at all.
    """
    try:
        rules = access_rules()
    except AccessSettingsError:
        return None  # the gate already closed the app; never mint on a guess
    if not visitor_keys_apply(rules):
        return configured
    key = slots.VISITOR_KEY.get()
    if key is None:
        return None
    return dataclasses.replace(configured, api_key=key.value, key_name=visitor_key.KEY_NAME)


def record_event(kind: EventKind, analyst_id: str, details: Mapping[str, Any] | None = None) -> None:
    """Append one audit row through the process's store writer (never waits)."""
    event = AuditEvent(kind, analyst_id, dict(details or {}))
    conversations.store_writer().submit(lambda store: append_event(store, event))


def _audit_once(marker: str, kind: EventKind, analyst_id: str, details: Mapping[str, Any]) -> None:
    """Record a sign-in (or refusal) once per browser session, not on every run."""
    if slots.AUDITED.get() == marker:
        return
    slots.AUDITED.set(marker)
    record_event(kind, analyst_id, details)
