"""Budgets on the Talk page: a meter for every Live session, and the call's end when one runs out.

Every session gets a ``CallMeter`` (``livechat.usage.meter``) for the analyst of this
browser session, writing through the process's store writer: its usage and audit events
are recorded whether or not limits are set. The limits come from ``[limits]`` in secrets
(or ``LIVECHAT_*``); unusable limits raise ``LimitsError`` and the Talk page says so
instead of starting calls without them.

When a limit ends the call (or refuses its token), the Live session closes itself (1000);
``stop_if_limit_ended`` then has the voice component stop its WebRTC stream: the next
full run passes ``desired_playing_state=False`` (``voice_stop_wanted``) until the
component reports it stopped, then one more run draws it uncontrolled (START back).

Script thread only.
"""

from __future__ import annotations

import os

import streamlit as st

from livechat.access.identity import Analyst
from livechat.usage.limits import Limits, resolve_limits
from livechat.usage.meter import CallMeter
from livechat.ui import conversations, runtime, slots

__all__ = ["current_limits", "make_meter", "meter_of", "note_voice_state", "stop_if_limit_ended", "voice_stop_wanted"]


def current_limits() -> Limits:
    """The configured limits (raises ``LimitsError`` naming an unusable one)."""
    return resolve_limits(runtime.secrets_mapping(), os.environ)


def make_meter(analyst: Analyst, limits: Limits, model: str, *, voice: bool) -> CallMeter:
    """A meter for one new Live session of ``analyst``."""
    return CallMeter(store=conversations.store_writer(), limits=limits, analyst=analyst.id, model=model,
                     voice=voice)


def meter_of(session: object) -> CallMeter | None:
    """The ``CallMeter`` guarding ``session`` (a LiveSession), if any."""
    guard = getattr(session, "guard", None)
    return guard if isinstance(guard, CallMeter) else None


def stop_if_limit_ended(session: object, *, streaming: bool) -> None:
    """A limit ended ``session`` while its stream is on: stop the stream (a full rerun)."""
    meter = meter_of(session)
    if meter is None or meter.limit_hit is None or not streaming or slots.VOICE_STOP.get():
        return
    slots.VOICE_STOP.set(True)
    st.rerun(scope="app")


def voice_stop_wanted() -> bool:
    """True while the voice component must be told to stop (``desired_playing_state=False``)."""
    return slots.VOICE_STOP.get()


def note_voice_state(*, playing: bool, signalling: bool) -> None:
    """The component's state this run: once it has stopped, it is left alone again.

    A component told what to play hides its START/STOP buttons, so the page runs once more
    at once to draw it uncontrolled, START back."""
    if not playing and not signalling and slots.VOICE_STOP.get():
        slots.VOICE_STOP.set(False)
        st.rerun(scope="app")
