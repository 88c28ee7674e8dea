"""Who can reach the app as configured: one sentence for Settings, and when to warn.

The server's listening address (Streamlit's ``server.address``) says whether only this
machine can open the page: a loopback address does; an empty one (Streamlit's default:
every interface), ``0.0.0.0``, ``::`` or a LAN address does not. With a server key and no
sign-in, anyone who reaches such a server spends the owner's key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from livechat.access.rules import AccessRules, KeyPolicy

__all__ = ["KEY_WARNING", "Reach", "is_loopback", "reach"]

KEY_WARNING = "Anyone who can open this page can use your Gemini key."


def is_loopback(address: str | None) -> bool:
    """True when ``address`` (``server.address``) accepts connections from this machine only."""
    text = (address or "").strip().strip("[]")
    if not text:
        return False  # unset: Streamlit listens on every interface
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False  # a host name: assume it resolves beyond this machine


@dataclass(frozen=True)
class Reach:
    """What Settings says about access, and whether the Talk page warns."""

    sentence: str
    warn_key: bool  # show KEY_WARNING on Settings and Talk


def reach(rules: AccessRules, *, sign_in: bool, address: str | None, server_key: bool) -> Reach:
    """Who can reach the app, in the operator's words.

    ``server_key``: the owner's key would mint (a key is configured and the policy is
    "server"). The warning applies only without sign-in on a non-loopback address.
    """
    local = is_loopback(address)
    visitor = rules.key_policy is KeyPolicy.VISITOR
    key_part = ("Each analyst pastes their own Gemini API key; yours is never used."
                if visitor else "Voice sessions use the server's Gemini API key." if server_key else "")
    if sign_in:
        who = []
        if rules.allowed_emails:
            who.append(f"{len(rules.allowed_emails)} listed address(es)")
        if rules.allowed_domains:
            who.append("anyone with a verified address at " + ", ".join(sorted(rules.allowed_domains)))
        if rules.admins:
            who.append(f"{len(rules.admins)} admin(s)")
        listed = "; ".join(who) if who else "nobody yet (no allowed_emails, allowed_domains or admins)"
        sentence = f"Sign-in is on: only signed-in people the access rules allow can use it: {listed}."
    elif visitor:
        sentence = ("No sign-in: whoever opens the page pastes their own Gemini API key and sees only "
                    "the conversations made with that key.")
    elif local:
        sentence = "Single user: no sign-in, and the server listens on this machine only."
    else:
        where = f"address {address}" if (address or "").strip() else "every network interface"
        sentence = (f"No sign-in, and the server listens on {where}: anyone who can open its "
                    "address can use the app and see its conversations.")
    warn = not sign_in and not local and server_key and not visitor
    return Reach(" ".join(part for part in (sentence, key_part) if part), warn)
