"""The definitions on the Talk page: first questions, "Save as trusted query", the marks.

- ``render_first_questions``: before the conversation's first question, three to five
  buttons with questions worth asking (``livechat.summary.first_questions``); a click
  asks the question as if typed (``pending_question``) and the buttons go.
- ``render_save_trusted``: under a finished ``run_sql`` call, a small form that keeps its
  SQL as the trusted query for a question (the turn's question to start with).
- ``render_trusted_mark``: under a ``run_trusted_query`` call, "trusted query: <question>".

DOM contract (browser tests): the buttons sit in a container keyed ``first-questions``;
the mark in one keyed ``trusted-mark-<entry index>``.
Runs on the session's script thread (page runs, the live fragment's runs, callbacks).
"""

from __future__ import annotations

import streamlit as st

from livechat.conversation.record import tool_work
from livechat.conversation.report import TRUSTED_MARK
from livechat.conversation.transcript import Entry, Transcript
from livechat.summary.definitions import NAME_CAP as QUESTION_CAP
from livechat.summary.definitions import Definitions
from livechat.summary.definitions_section import TRUSTED_TOOL
from livechat.summary.first_questions import first_questions
from livechat.tools.declarations import TableSource
from livechat.ui import definitions, slots, state
from livechat.ui.formatting import escape_markdown
from livechat.ui.model_tables import ModelTables

FIRST_QUESTIONS_KEY = "first-questions"
TRUSTED_MARK_PREFIX = "trusted-mark-"
SAVE_LABEL = "Save as trusted query"
SQL_TOOL = "run_sql"


@st.cache_data(show_spinner=False, max_entries=32)
def _questions(key: str, digest: str, _source: TableSource, _definitions: Definitions) -> tuple[str, ...]:
    return first_questions(_source, _definitions)


def _on_first_question(question: str, transcript_id: int) -> None:
    slots.FIRST_QUESTION.set(question)
    slots.FIRST_QUESTION_ASKED.set(transcript_id)


def pending_question() -> str | None:
    """The first question clicked since the last run (asked once), or None."""
    return slots.FIRST_QUESTION.pop()


def render_first_questions(seen: ModelTables, transcript: Transcript) -> None:
    """Question buttons before the first question of this conversation; nothing after."""
    if transcript.messages("user") or slots.FIRST_QUESTION_ASKED.get() == id(transcript):
        return
    active = definitions.active(seen)
    questions = _questions(seen.key, active.digest, seen.source, active)
    with st.container(key=FIRST_QUESTIONS_KEY):
        st.caption("Not sure what to ask? Try one of these:")
        with st.container(horizontal=True):
            for number, question in enumerate(questions):
                st.button(question, key=slots.FIRST_QUESTION_WIDGETS.key(str(number)),
                          on_click=_on_first_question, args=(question, id(transcript)))


def turn_question(transcript: Transcript, index: int) -> str | None:
    """The analyst's question of the turn holding entry ``index`` (the last one above it)."""
    for entry in reversed(transcript.entries[:index]):
        if entry.kind == "message" and entry.role == "user" and entry.text.strip():
            return entry.text.strip()
    return None


def _on_save(widget_key: str, sql: str, transcript: Transcript) -> None:
    question = " ".join(str(slots.TRUSTED_QUESTION_WIDGETS.slot_of(widget_key).get() or "").split())
    if not question:
        transcript.add_error("Say which question the trusted query answers, then save it.")
        return
    if definitions.save_trusted_query(question, sql):
        transcript.add_notice(f"Saved as a trusted query: \u201c{question}\u201d. The next question "
                              "starts a new session that can run it.")
    else:
        transcript.add_error(state.definitions_error() or "The trusted query was not saved.")


def default_question(transcript: Transcript, index: int) -> str:
    """The question a saved query answers, to start from: the turn's, cut to fit."""
    question = turn_question(transcript, index) or ""
    if len(question) > QUESTION_CAP:
        question = question[: QUESTION_CAP - 1].rsplit(" ", 1)[0] + "…"
    return question


def render_save_trusted(index: int, entry: Entry, transcript: Transcript) -> None:
    """Under a finished, successful run_sql call: save its SQL as a trusted query, with the
    question it answers (the turn's question to start with; the analyst may reword it).

    A form: the question is sent with the click, so the live panel's reruns never lose it.
    """
    sql = entry.args.get("query")
    if entry.tool != SQL_TOOL or not entry.final or entry.tool_failed or entry.cancelled \
            or not isinstance(sql, str) or not sql.strip():
        return
    kept = definitions.session_definitions()
    saved = next((q for q in kept.trusted_queries if q.sql == sql.strip()), None)
    if saved is not None:
        st.caption(f"Saved as the trusted query for \u201c{escape_markdown(saved.question)}\u201d.")
        return
    widget_key = slots.TRUSTED_QUESTION_WIDGETS.key(str(index))
    with st.form(key=slots.TRUSTED_FORMS.key(str(index)), border=False, enter_to_submit=False):
        st.text_input("The question it answers", value=default_question(transcript, index),
                      max_chars=QUESTION_CAP, key=widget_key)
        st.form_submit_button(SAVE_LABEL, icon=":material/verified:", on_click=_on_save,
                              args=(widget_key, sql, transcript),
                              help="Keep this SQL as the trusted answer to the question: the model then "
                                   "runs it with run_trusted_query when the question comes up.")


def render_trusted_mark(index: int, entry: Entry) -> None:
    """"trusted query: <question>" under a call that ran one (as the report marks it)."""
    question = tool_work(index, entry).trusted if entry.tool == TRUSTED_TOOL else None
    if question is not None:
        with st.container(key=f"{TRUSTED_MARK_PREFIX}{index}"):
            st.caption(f":material/verified: {TRUSTED_MARK}{escape_markdown(question)}")
