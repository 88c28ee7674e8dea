"""The Data page's "Definitions" tab: the analyst's terms, trusted queries and their file.

The terms as a table (``st.data_editor``, saved whole with "Save the terms"), the trusted
queries with their broken marks (kept, shown with DuckDB's error, removable), and a
download of the same YAML the upload reads. Every change goes through
``livechat.ui.definitions.apply``: checked against the tables first, all or nothing; a
refusal is shown at the top of the page.

Runs on the session's script thread (the page run and widget callbacks).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from livechat.summary.definitions import Definitions, DefinitionsError, definitions_from_rows, dump_definitions
from livechat.ui import definitions, slots, state
from livechat.ui.formatting import escape_markdown
from livechat.ui.model_tables import ModelTables
from livechat.ui.state import CurrentDataset

TERM_COLUMNS = ("name", "meaning", "sql", "aliases")


# ----------------------------------------------------------------------------- changes


def _on_save_terms(widget_key: str, rows: list[dict[str, Any]]) -> None:
    current = definitions.session_definitions()
    try:
        updated = definitions_from_rows(rows, current.trusted_queries)
    except DefinitionsError as exc:
        state.set_definitions_error(definitions.refusal(exc, "The terms"))
        return
    if definitions.apply(updated, "The terms"):
        slots.TERMS_WIDGETS.slot_of(widget_key).pop()


def _on_delete_trusted(question: str) -> None:
    current = definitions.session_definitions()
    definitions.keep(dataclasses.replace(
        current, trusted_queries=tuple(q for q in current.trusted_queries if q.question != question)))


# ----------------------------------------------------------------------------- Data page


def terms_frame(kept: Definitions) -> pd.DataFrame:
    """The terms as the editor's rows (aliases as comma-separated text)."""
    rows = [{"name": t.name, "meaning": t.meaning, "sql": t.sql or "", "aliases": ", ".join(t.aliases)}
            for t in kept.terms]
    return pd.DataFrame(rows, columns=list(TERM_COLUMNS)).astype("string")


def download_name(dataset: CurrentDataset) -> str:
    """``sales.definitions.yaml`` for ``sales.csv``: the name the upload recognises."""
    stem = dataset.source.rsplit(".", 1)[0] or "tables"
    return f"{stem}.definitions.yaml"


def render_panel(dataset: CurrentDataset, seen: ModelTables) -> None:
    """The Data page's "Definitions" tab for the tables the model sees: terms, trusted
    queries, download named after ``dataset`` (a refusal is shown at the top of the page)."""
    kept = definitions.active(seen)
    st.markdown(
        "**Terms**: what your words mean, with an optional SQL expression and the aliases you say. "
        "The model gets them after the data, and they join the transcription vocabulary. Upload a "
        "`.definitions.yaml` beside the data to fill this in (see the README for the format).")
    widget_key = slots.TERMS_WIDGETS.key(kept.digest)
    edited = st.data_editor(
        terms_frame(kept), key=widget_key, num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "name": st.column_config.TextColumn("Term", required=True, max_chars=80),
            "meaning": st.column_config.TextColumn("Meaning (one sentence)", max_chars=300),
            "sql": st.column_config.TextColumn("SQL (optional)", max_chars=2000),
            "aliases": st.column_config.TextColumn("Aliases (comma-separated)"),
        })
    rows = edited.to_dict("records") if isinstance(edited, pd.DataFrame) else []
    st.button("Save the terms", key=slots.SAVE_TERMS_WIDGET.key, on_click=_on_save_terms,
              args=(widget_key, rows), icon=":material/save:",
              help="Checked whole against the tables first: SQL that does not run is refused.")
    st.markdown("**Trusted queries**: saved from the Talk page (\"Save as trusted query\" under a "
                "run_sql call) or from the file. The model runs them with run_trusted_query.")
    if not kept.trusted_queries:
        st.caption("None yet.")
    for number, query in enumerate(kept.trusted_queries):
        with st.container(border=True):
            st.markdown(f"**{escape_markdown(query.question)}**")
            st.code(query.sql, language="sql", wrap_lines=True)
            if query.broken:
                st.warning(f"Broken: it no longer runs on these tables ({query.broken}). It is kept; "
                           "the model is not offered it until the tables fit it again.")
            st.button("Remove", key=slots.REMOVE_TRUSTED_WIDGETS.key(str(number)),
                      on_click=_on_delete_trusted, args=(query.question,), icon=":material/delete:")
    st.download_button(
        "Download the definitions (.definitions.yaml)",
        data=dump_definitions(definitions.current_definitions(seen)),
        file_name=download_name(dataset), mime="application/x-yaml", on_click="ignore",
        icon=":material/download:", key=slots.DOWNLOAD_DEFINITIONS_WIDGET.key)
