"""Each answer's figures, marked on the Talk page: a check where the data supports the
figure, a warning where it does not, the source on hover, and a caption per answer.

The checking itself is ``livechat.conversation.figures`` (plain Python, no Streamlit);
this module runs it on the script thread once a reply is complete (``check_figures``,
called by the live panel after new events were folded in) and draws the result under
the answer (``render_marks``). Part of the Talk page's DOM contract: a horizontal
container keyed ``figures-<n>`` per answer holding one ``st.badge`` per figure (icon
``check`` or ``warning``), then the caption ``<k> of <n> figures found in the data``.
The Settings page's toggle (``render_marks_setting``) hides the marks on screen; the
report keeps them.

Runs on the session's script thread.
"""

from __future__ import annotations

import streamlit as st

from livechat.conversation.figures.check import FigureCheck, check_transcript, describe
from livechat.conversation.transcript import Transcript
from livechat.ui import slots, state
from livechat.ui.formatting import escape_markdown
from livechat.voice.bridge import VoiceBridge

__all__ = ["MARKS_KEY_PREFIX", "check_figures", "render_marks", "render_marks_setting"]

MARKS_KEY_PREFIX = "figures-"
FOUND_ICON = ":material/check:"
MISSING_ICON = ":material/warning:"
MISSING_HELP = "Not found in the data this answer was given (its tool results, the two turns before, the summary)."


def check_figures(transcript: Transcript, bridge: VoiceBridge) -> None:
    """Check the figures of every reply completed since the last run (each reply once).

    The summary the replies were grounded in is the instruction of the bridge's latest
    session (the one that produced them)."""
    session = bridge.session
    instruction = session.effective_instruction if session is not None else None
    check_transcript(transcript, instruction)


def render_marks(check: FigureCheck | None, index: int) -> None:
    """Under an answer: a badge per figure (source on hover) and ``3 of 4 figures found``."""
    if not isinstance(check, FigureCheck) or not check.marks or not state.figure_marks_shown():
        return
    # Labels and sources are transcript and spreadsheet text: inert in Markdown ("$1.2m" is no formula).
    with st.container(key=f"{MARKS_KEY_PREFIX}{index}", horizontal=True):
        for mark in check.marks:
            if mark.found:
                st.badge(escape_markdown(mark.text), icon=FOUND_ICON, color="green",
                         help=escape_markdown(f"{mark.kind}: {mark.source}"))
            else:
                st.badge(escape_markdown(mark.text), icon=MISSING_ICON, color="orange", help=MISSING_HELP)
    st.caption(check.caption or "", help="\n\n".join(escape_markdown(describe(m)) for m in check.marks))


def _remember_setting() -> None:
    # The widget's own key is dropped when the Settings page is left; the slot is not.
    state.set_figure_marks_shown(slots.FIGURE_MARKS_WIDGET.get())


def render_marks_setting() -> None:
    """The Settings page's switch for the marks on screen."""
    st.toggle("Mark the figures in answers", value=state.figure_marks_shown(), key=state.FIGURE_MARKS_WIDGET_KEY,
              on_change=_remember_setting,
              help="Each number the model says is checked against the data it was given: a check where "
                   "the data supports it, a warning where it does not. The report keeps the marks either way.")
