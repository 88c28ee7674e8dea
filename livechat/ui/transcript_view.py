"""The live transcript on the Talk page: messages, tool calls with their work, charts,
errors with their next step, each answer's figures marked against the data
(``livechat.ui.figures_view``), per-turn figures and the conversation total.

Part of the Talk page's DOM contract (see ``livechat.ui.talk``): a container keyed
``transcript`` holding ``st.chat_message`` entries, tool-call expanders labelled
``Tool: <name> (<outcome>)`` and ``st.altair_chart`` charts. Runs on the session's
script thread (the live panel's fragment runs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from livechat.conversation.record import tool_work
from livechat.conversation.transcript import Entry, Transcript
from livechat.tools.charts import ChartSpec, ChartSpecError, build_chart
from livechat.ui import definitions_talk, figures_view, model_tables, record
from livechat.ui.formatting import escape_markdown
from livechat.ui.next_steps import with_next_step
from livechat.ui.state import CurrentDataset

__all__ = ["TOOL_LABEL_PREFIX", "TRANSCRIPT_KEY", "render_transcript", "tool_label"]

TRANSCRIPT_KEY = "transcript"
TOOL_LABEL_PREFIX = "Tool: "
SESSION_TOTAL_PREFIX = "This conversation: "
FIGURES_HELP = ("First audio: from the end of your question (speech or typed) to the reply's "
                "first audio queued for playback. Tokens: the turn's usage as the service "
                "reported it, counted once per turn.")

ChartSource = Callable[[dict[str, Any], pd.DataFrame], pd.DataFrame]


def tool_label(entry: Entry) -> str:
    """``Tool: <name>`` plus how the call went, for the expander label."""
    if not entry.final:
        outcome = "running…"
    elif entry.cancelled:
        outcome = "cancelled"
    elif entry.tool_failed:
        outcome = "failed"
    else:
        outcome = "done"
    return f"{TOOL_LABEL_PREFIX}{escape_markdown(entry.tool or '?')} ({outcome})"


def _render_chart(entry: Entry, df: pd.DataFrame | None, dataset_key: str, chart_source: ChartSource) -> None:
    if entry.chart is None:
        return
    if df is None:
        st.caption("The chart cannot be drawn: no dataset is loaded.")
        return
    try:
        df = chart_source(entry.chart, df)
        chart = _chart(dataset_key, json.dumps(entry.chart, sort_keys=True), df)
    except ChartSpecError as exc:
        # e.g. drawn for a dataset that has since been replaced
        st.caption(f"The chart cannot be drawn for the current dataset: {exc}")
        return
    st.altair_chart(chart, width="stretch")


@st.cache_data(show_spinner=False, max_entries=64)
def _chart(dataset_key: str, spec_json: str, _df: pd.DataFrame) -> alt.Chart:
    return build_chart(_df, ChartSpec.from_dict(json.loads(spec_json)))


def render_transcript(transcript: Transcript, dataset: CurrentDataset | None, *,
                      chart_source: ChartSource) -> None:
    """The conversation so far, in the ``transcript`` container.

    ``chart_source(spec, df)`` gives the rows a chart draws from (a table of the set, a
    query's result, else ``df``)."""
    df = dataset.table.df if dataset is not None else None
    # Charts of a set draw from its tables, whichever one is viewed.
    seen = model_tables.current()
    dataset_key = seen.key if seen is not None else ""
    with st.container(key=TRANSCRIPT_KEY):
        if not transcript.entries:
            st.caption("Press START and speak, or type a question below.")
        for index, entry in enumerate(transcript.entries):
            if entry.kind == "message":
                with st.chat_message("user" if entry.role == "user" else "assistant"):
                    # Plain text: a transcript is not Markdown, and must show as said.
                    st.text(entry.text)
                    if entry.interrupted:
                        st.caption("(interrupted)")
                    if entry.role == "model":
                        figures_view.render_marks(entry.figure_check, index)
                    figures = entry.figures_caption
                    if figures:
                        st.caption(figures, help=FIGURES_HELP)
            elif entry.kind == "tool":
                with st.expander(tool_label(entry), expanded=False):
                    record.render_tool_work(tool_work(index, entry))
                    definitions_talk.render_save_trusted(index, entry, transcript)
                definitions_talk.render_trusted_mark(index, entry)
                _render_chart(entry, df, dataset_key, chart_source)
            elif entry.kind == "error":
                st.error(with_next_step(entry.text))
            else:
                st.info(entry.text)
        total = transcript.session_total()
        if total:
            st.caption(f"{SESSION_TOTAL_PREFIX}{total}", help=FIGURES_HELP)
