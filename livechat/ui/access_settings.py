"""What Settings says about who can use the app, and the key warning on Settings and Talk.

One section (``render_access_section``) and one warning (``render_key_warning``), each a
single call from its page. The warning shows when the server listens beyond this machine
(Streamlit's ``server.address``, or ``LIVECHAT_LISTEN_ADDRESS`` where a proxy in front
listens for it: ``deploy/serve`` sets it to HAProxy's), nobody signs in, and the owner's
key mints.

Runs on the session's script thread.
"""

from __future__ import annotations

import dataclasses
import os

import streamlit as st
from streamlit import config as st_config

from livechat.access.reach import KEY_WARNING, Reach, reach
from livechat.access.rules import AccessSettingsError, KeyPolicy
from livechat.config import ConfigError
from livechat.ui import access, runtime
from livechat.ui.analyst import current_analyst

__all__ = ["LISTEN_ADDRESS_ENV", "listen_address", "render_access_section", "render_key_warning", "who_can_reach"]

LISTEN_ADDRESS_ENV = "LIVECHAT_LISTEN_ADDRESS"


def listen_address() -> str | None:
    """Where browsers reach the app: the proxy's address when one is named, else Streamlit's."""
    return os.environ.get(LISTEN_ADDRESS_ENV) or st_config.get_option("server.address")


def who_can_reach() -> Reach | None:
    """This deployment's reach, or None when its settings are unusable (the gate said so)."""
    try:
        rules = access.access_rules()
        configured = runtime.service_config()
    except (AccessSettingsError, ConfigError):
        return None
    if rules.key_policy is KeyPolicy.VISITOR and not access.visitor_keys_apply(rules):
        rules = dataclasses.replace(rules, key_policy=KeyPolicy.SERVER)  # offline: the emulator's own key
    server_key = configured.has_api_key and rules.key_policy is KeyPolicy.SERVER
    return reach(rules, sign_in=access.sign_in_on(), address=listen_address(),
                 server_key=server_key)


def render_key_warning() -> None:
    """The warning itself, when it applies (Settings and the Talk page)."""
    found = who_can_reach()
    if found is not None and found.warn_key:
        st.warning(f"{KEY_WARNING} The server listens beyond this machine and nobody signs in: set up "
                   "sign-in, or let visitors use their own keys (docs/access.md).", icon=":material/warning:")


def render_access_section() -> None:
    """Settings' "Who can use it": the set-up in one sentence, and who you are."""
    st.header("Who can use it")
    found = who_can_reach()
    if found is None:
        st.error("The access settings are not usable; the server log says why.")
        return
    st.markdown(found.sentence)
    render_key_warning()
    analyst = current_analyst()
    if analyst.signed_in:
        st.markdown(f"**You:** {analyst.label} ({analyst.id}){', an admin' if analyst.is_admin else ''}")
    if access.visitor_keys_apply(access.access_rules()) and not access.sign_in_on():
        st.caption("Your conversations are kept under your key: paste the same key to find them again.")
