"""The analyst's record on the Talk page: each answer's work, the downloads, and reloads.

- ``render_tool_work``: inside a tool call's expander, the SQL that ran (``st.code``
  highlights it and has a copy button), the rows returned to the model with the row cap
  noted, and how long the query took.
- ``render_downloads``: the conversation as a Markdown report (zip with chart PNGs) and
  as one self-contained HTML page, built when the analyst presses "Prepare the report".
- ``session_transcript``: the browser session's transcript, kept in the store under the
  ``?conversation=`` id in the URL (``livechat.ui.conversations``), so a reload, a
  restart or another replica finds it again with its tables; when it cannot, the page
  says so.

Runs on the session's script thread.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from livechat.conversation.figures.check import check_transcript
from livechat.conversation.record import ToolWork, Turn, turns
from livechat.conversation.report import ReportContext, html_report, report_zip
from livechat.conversation.transcript import Transcript
from livechat.store.audit import EventKind
from livechat.summary.escape import fence_nonce
from livechat.tools.charts import ChartRenderError, ChartSpec, ChartSpecError, build_chart, chart_png
from livechat.ui import access, conversations, slots
from livechat.ui.analyst import current_analyst
from livechat.ui.state import CurrentDataset

logger = logging.getLogger(__name__)

QUERY_PARAM = conversations.QUERY_PARAM


def _dataset_label(dataset: CurrentDataset | None) -> str:
    if dataset is None:
        return "no dataset"
    sheet = f" (sheet {dataset.table.sheet})" if dataset.table.sheet else ""
    return f"{dataset.source}{sheet}"


def session_transcript(dataset: CurrentDataset | None = None) -> Transcript:
    """This browser session's transcript: its own, the stored one the URL names, or a new one
    (``dataset`` is unused: the store keeps the session's tables itself)."""
    return conversations.session_transcript()


def render_restore_note(transcript: Transcript) -> None:
    """After a reload, whether the record came back; shown until the conversation moves on."""
    note = conversations.restore_note()
    if not note:
        return
    version, text = note
    if transcript.version != version:
        conversations.clear_restore_note()
        return
    st.info(text, icon=":material/history:")


def render_tool_work(work: ToolWork) -> None:
    """How one tool call found its answer (inside the call's expander)."""
    if work.sql is not None:
        st.code(work.sql, language="sql", wrap_lines=True)  # copy button included
    elif work.args:
        st.json(work.args, expanded=False)
    if work.pending:
        st.caption("Running…")
        return
    if work.cancelled:
        st.caption("Cancelled: the analyst spoke before it finished.")
        return
    if work.error is not None:
        st.warning(work.error)
        return
    if work.columns:
        frame = pd.DataFrame(work.rows, columns=_unique(work.columns))
        # A plain HTML table (results are capped at 50 rows): its text can be selected and
        # pasted into a message, unlike the canvas grid of st.dataframe.
        st.table(frame, hide_index=True, border="horizontal")
        notes = [f"{work.row_count:,} rows" if work.row_count is not None else None,
                 work.row_cap_note,
                 f"query took {work.elapsed_ms:,.1f} ms" if work.elapsed_ms is not None else None]
        st.caption(" · ".join(n for n in notes if n))
    elif work.result is not None and work.chart is None:
        st.json(work.result, expanded=False)


def _unique(columns: list[str]) -> list[str]:
    # SQL allows duplicate output names (SELECT a, a); a DataFrame display does not.
    seen: dict[str, int] = {}
    out = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def report_context(dataset: CurrentDataset | None, instruction: str, model: str) -> ReportContext:
    """What the report's header says: dataset, shape, the instruction's hash, model, time."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows, columns = dataset.table.df.shape if dataset is not None else (0, 0)
    return ReportContext(dataset=_dataset_label(dataset), rows=int(rows), columns=int(columns),
                         summary_hash=fence_nonce(instruction), model=model, exported_at=now)


ChartSource = Callable[[dict[str, Any]], pd.DataFrame]


def chart_images(record: list[Turn], source: ChartSource | None) -> dict[int, bytes]:
    """PNG of every chart in ``record`` that can still be drawn from ``source(spec)``."""
    images: dict[int, bytes] = {}
    if source is None:
        return images
    for turn in record:
        for work in turn.tools:
            if work.chart is None:
                continue
            try:
                frame = source(work.chart)
                images[work.index] = chart_png(build_chart(frame, ChartSpec.from_dict(work.chart)))
            except (ChartSpecError, ChartRenderError) as exc:  # the report says it is missing
                logger.warning("A chart was left out of the report: %s", exc)
    return images


def _prepare(transcript: Transcript, dataset: CurrentDataset | None, instruction: str,
             model: str, source: ChartSource | None) -> tuple[int, bytes, bytes, str]:
    """Both report files for the transcript as it is now: (version, zip, html, file stem)."""
    check_transcript(transcript, instruction)  # replies not checked on screen yet (e.g. restored ones)
    record = turns(list(transcript.entries))
    context = report_context(dataset, instruction, model)
    images = chart_images(record, source)
    stem = "conversation-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M")
    return (transcript.version, report_zip(record, context, charts=images),
            html_report(record, context, charts=images).encode("utf-8"), stem)


def _downloaded(kind: str) -> None:
    """A download's callback: one audit row (who, which conversation, which format).

    The rerun it causes draws the same bytes again, so the file stays referenced."""
    access.record_event(EventKind.REPORT_DOWNLOAD, current_analyst().id,
                        {"conversation": conversations.conversation_id(), "format": kind})


def render_downloads(transcript: Transcript, dataset: CurrentDataset | None, instruction: str, model: str,
                     *, chart_source: ChartSource | None = None) -> None:
    """"Prepare the report", then two downloads: Markdown (zip with chart PNGs) and HTML.

    Why two steps and not Streamlit's deferred (callable) download: the generated file
    of a deferred download is referenced by no script run, and the live panel's
    fragment reruns several times a second, each ending with an orphan sweep that
    deletes it, often before the browser fetched it (seen here: 2 failed downloads in
    5). Files given as bytes in a full run stay referenced until the next full run.
    """
    if st.button("Prepare the report", icon=":material/summarize:", key=slots.PREPARE_REPORT_WIDGET.key,
                 help="The conversation so far as a Markdown report (zip, with chart images) "
                      "and as one HTML page that opens without a network."):
        with st.spinner("Preparing the report (drawing the charts)…"):
            slots.PREPARED_REPORT.set(_prepare(transcript, dataset, instruction, model, chart_source))
    prepared = slots.PREPARED_REPORT.get()
    if not prepared:
        return
    version, zipped, page, stem = prepared
    if version != transcript.version:
        st.caption("The conversation has moved on since the report was prepared: prepare it again "
                   "to include the latest turns.")
    st.download_button("Download report (Markdown + charts, .zip)", data=zipped, file_name=f"{stem}.zip",
                       mime="application/zip", icon=":material/download:", on_click=_downloaded, args=("zip",),
                       key=slots.DOWNLOAD_ZIP_WIDGET.key, width="stretch")
    st.download_button("Download report (HTML, opens offline)", data=page, file_name=f"{stem}.html",
                       mime="text/html", icon=":material/description:", on_click=_downloaded, args=("html",),
                       key=slots.DOWNLOAD_HTML_WIDGET.key, width="stretch")
