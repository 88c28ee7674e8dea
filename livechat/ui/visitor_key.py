"""A visitor's own Gemini API key (``key_policy = "visitor"``): the form, and forgetting it.

The key is typed into a password field inside a form that clears itself on submit, kept
as a ``VisitorKey`` in this browser session's slot (server memory; ``repr`` hides it) and
used only for this session's token mints (``livechat.ui.access.mint_config``). It is never
written to the store, a log line, the page or a URL. A reload starts a new browser session:
the key is pasted again.

Runs on the session's script thread.
"""

from __future__ import annotations

import streamlit as st

from livechat import redact
from livechat.access.visitor import VisitorKey, VisitorKeyError
from livechat.ui import slots

__all__ = ["KEY_NAME", "render_forget_button", "render_key_form"]

# What a refused key tells the analyst to check (livechat.config.ServiceConfig.key_name).
KEY_NAME = "the Gemini API key you pasted"
_KEEPING = ("It stays in this server's memory for this browser tab only: it is never stored, "
            "logged or shown, and a reload asks for it again.")


def render_key_form(*, gate: bool) -> None:
    """The password field; ``gate``: the whole page (no sign-in) rather than the Talk page's part."""
    if gate:
        st.markdown("This app runs on each visitor's own Gemini API key. Paste yours to start.")
    else:
        st.info("Voice and typed questions use your own Gemini API key here. Paste it to start.",
                icon=":material/key:")
    with st.form(key=slots.VISITOR_KEY_FORM.key, clear_on_submit=True, border=not gate):
        pasted = st.text_input("Your Gemini API key", type="password", key=slots.VISITOR_KEY_WIDGET.key,
                               autocomplete="off", help=_KEEPING)
        submitted = st.form_submit_button("Use my key", icon=":material/key:")
    st.caption(_KEEPING)
    if submitted:
        _accept(pasted or "")
    problem = slots.VISITOR_KEY_PROBLEM.get()
    if problem:
        st.error(problem)


def _accept(pasted: str) -> None:
    try:
        key = VisitorKey(pasted)
    except VisitorKeyError as exc:
        slots.VISITOR_KEY_PROBLEM.set(str(exc))
        return
    redact.register_secret(key.value)  # a library quoting it in a log line gets it masked
    slots.VISITOR_KEY.set(key)
    slots.VISITOR_KEY_PROBLEM.pop()
    st.rerun()


def _forget() -> None:
    slots.VISITOR_KEY.pop()


def render_forget_button() -> None:
    """"Forget my key" (inside st.sidebar): the next mint asks for a key again."""
    st.button("Forget my key", key=slots.FORGET_KEY_WIDGET.key, on_click=_forget, icon=":material/key_off:",
              help="Remove your Gemini API key from this session; paste another to go on.")
