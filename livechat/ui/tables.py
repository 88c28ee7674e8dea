"""Table sets in the UI: what the model sees, always a set; a single upload is a set of one.

The session keeps a ``CurrentTableSet`` next to ``CurrentDataset`` (``livechat.ui.state``):
the dataset is the table shown on the Data page (any table of the set), the set is what
the model gets. Several uploads, or a workbook's sheets, make a set of several (the
ticked tables, by SQL name, the first ticked one also as ``data``); one file with one
table makes a set of one (``CurrentTableSet.of_one``): its table is ``data``, summarised,
named and stored as one table, exactly as before sets existed. What the model is given
from a set is built in one place, ``livechat.ui.model_tables``.

Here: loading an upload as a set (``load_uploads``) and a single table as a set of one
(``adopt_one``, ``follow_reload``), ticks and the table viewer (widget callbacks), the
set's summary and instruction (cached per selection), the choices on the Data page, and
the Talk page's reaction to a changed set (a new session with the new instruction, said
in the transcript).

Runs on the session's script thread (page runs and widget callbacks).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import pandas as pd
import streamlit as st

from livechat.conversation.transcript import Transcript
from livechat.data.load import LoadedTable, content_digest, is_workbook
from livechat.data.tableset import (
    NamedTable,
    TableFailure,
    TableSetLoadError,
    load_table_set,
)
from livechat.data.workbook import nonempty_sheet_names
from livechat.store import MemberRow
from livechat.summary.prompt import build_system_instruction
from livechat.summary.tableset import SetTable, TableSetSummary, summarize_tables
from livechat.summary.token_estimate import estimate_tokens
from livechat.summary.vocabulary import custom_vocabulary
from livechat.tools.declarations import DATA_ALIAS
from livechat.ui import slots, state
from livechat.ui.cache import ModelView, load_table_cached
from livechat.ui.formatting import escape_markdown, format_shape
from livechat.ui.state import CurrentDataset, LoadFailure

logger = logging.getLogger(__name__)



class UploadedFileLike(Protocol):
    """What Streamlit's ``UploadedFile`` gives us (tests may pass anything like it)."""

    name: str

    def getvalue(self) -> bytes: ...


@dataclass(frozen=True, eq=False)
class SetEntry:
    """One loaded table of the set and the digest of the file it came from.

    ``dataset`` is set for the table of a single upload (a set of one): the dataset it was
    loaded as, whose key also names the encoding and header row it was read with.
    """

    named: NamedTable
    digest: str
    dataset: CurrentDataset | None = None

    @property
    def sql_name(self) -> str:
        return self.named.sql_name

    @property
    def cache_key(self) -> str:
        if self.dataset is not None:
            return self.dataset.cache_key
        return f"{self.digest}/{self.named.source}/{self.named.sheet or ''}"

    @property
    def stored_name(self) -> str | None:
        """The SQL name the store keeps; None for a single upload's table (stored as one)."""
        return None if self.dataset is not None else self.sql_name

    @property
    def header_row(self) -> int | None:
        """The header row chosen by hand on the Data page (a single upload), else None."""
        return self.dataset.header_row if self.dataset is not None else None

    @property
    def stored_encoding(self) -> str | None:
        """The legacy code page a single upload's text file was read with, else None."""
        encoding = self.named.table.encoding if self.dataset is not None else None
        return encoding if encoding not in (None, "utf-8") else None


@dataclass(frozen=True, eq=False)
class CurrentTableSet:
    """The loaded tables and which of them the model sees (``selected``, SQL names)."""

    entries: tuple[SetEntry, ...]
    selected: frozenset[str]

    @classmethod
    def of_one(cls, dataset: CurrentDataset) -> CurrentTableSet:
        """A single upload as a set of one: its table is ``data`` in SQL."""
        table = dataset.table
        entry = SetEntry(NamedTable(DATA_ALIAS, table, dataset.source, table.sheet), dataset.digest, dataset)
        return cls((entry,), frozenset({DATA_ALIAS}))

    @property
    def single(self) -> CurrentDataset | None:
        """The dataset of a single upload (a set of one), else None: several tables."""
        return self.entries[0].dataset if len(self.entries) == 1 else None

    @property
    def upload_key(self) -> str:
        """Identity of the upload (widget keys are per upload, so a new one starts fresh)."""
        return _digest("|".join(f"{e.cache_key}:{e.sql_name}" for e in self.entries))[:16]

    def chosen(self) -> tuple[SetEntry, ...]:
        """The ticked tables, in upload order (the first is also ``data``)."""
        return tuple(e for e in self.entries if e.sql_name in self.selected)

    @property
    def key(self) -> str:
        """Identity of what the model sees: the ticked tables' content and names."""
        return "set:" + _digest("|".join(f"{e.cache_key}:{e.sql_name}" for e in self.chosen()))[:24]

    def frames(self) -> dict[str, pd.DataFrame]:
        return {e.sql_name: e.named.table.df for e in self.chosen()}

    def with_selected(self, names: frozenset[str]) -> CurrentTableSet:
        return CurrentTableSet(self.entries, names)

    def shows(self, entry: SetEntry, dataset: CurrentDataset | None) -> bool:
        """Whether ``entry`` is the table ``dataset`` (the Data page's) shows."""
        return dataset is not None and dataset.table is entry.named.table

    def entry(self, sql_name: str) -> SetEntry | None:
        return next((e for e in self.entries if e.sql_name == sql_name), None)


@dataclass(frozen=True)
class SetProblems:
    """What the last set upload could not load (named per file) and the limits it hit."""

    failures: tuple[TableFailure, ...]
    notes: tuple[str, ...]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------- state


def current_table_set() -> CurrentTableSet | None:
    """The session's tables (a set of one for a single upload), or None before any load."""
    return slots.TABLE_SET.get()


def adopt_one(dataset: CurrentDataset) -> CurrentTableSet:
    """Make ``dataset`` (a single upload, or one restored) the session's set, of one."""
    table_set = CurrentTableSet.of_one(dataset)
    slots.TABLE_SET.set(table_set)
    slots.SET_PROBLEMS.pop()
    return table_set


def follow_reload(dataset: CurrentDataset) -> None:
    """The shown table was read again (the sample, another sheet, encoding or header row).

    A set of one follows it (the model sees the table as read now); a set of several
    keeps its tables (the new reading shows on the Data page only).
    """
    table_set = current_table_set()
    if table_set is None or table_set.single is not None:
        adopt_one(dataset)


def set_problems() -> SetProblems | None:
    return slots.SET_PROBLEMS.get()


# ----------------------------------------------------------------------------- loading


def needs_table_set(files: Sequence[UploadedFileLike]) -> bool:
    """Several files, or one workbook with more than one non-empty sheet."""
    if len(files) > 1:
        return True
    if len(files) == 1 and is_workbook(files[0].name):
        sheets = nonempty_sheet_names(files[0].getvalue(), files[0].name)
        return sheets is not None and len(sheets) > 1
    return False


def load_uploads(files: Sequence[UploadedFileLike]) -> CurrentTableSet | None:
    """Load ``files`` as the session's table set; on total failure keep what was loaded.

    Every table starts ticked; the first becomes the dataset shown on the Data page.
    Per-file failures and limit notes are kept for the page (``set_problems``).
    """
    payloads = [(f.name, f.getvalue()) for f in files]
    digests = {name: content_digest(data) for name, data in payloads}

    def cached(data: bytes, filename: str, sheet: str | None) -> LoadedTable:
        return load_table_cached(digests[filename], filename, sheet, _data=data)

    try:
        result = load_table_set(payloads, loader=cached)
    except TableSetLoadError as exc:
        logger.info("Upload of %d file(s) not loaded: %s", len(payloads), exc)
        state.set_load_failure(LoadFailure(", ".join(n for n, _ in payloads), str(exc)))
        return None
    except Exception:  # never a traceback on the analyst's screen
        logger.exception("Unexpected failure reading %d uploaded file(s)", len(payloads))
        names = ", ".join(n for n, _ in payloads)
        state.set_load_failure(LoadFailure(names, (
            f"Could not read {names}: a file may be damaged or not really a spreadsheet. "
            "The details were written to the server log.")))
        return None
    entries = tuple(SetEntry(named, digests[named.source]) for named in result.tables)
    table_set = CurrentTableSet(entries, frozenset(e.sql_name for e in entries))
    slots.TABLE_SET.set(table_set)
    slots.SET_PROBLEMS.set(SetProblems(result.failures, result.notes))
    _show(entries[0])
    state.set_load_failure(None)
    logger.info("Loaded a set of %d table(s), %d failure(s)", len(entries), len(result.failures))
    return table_set


def adopt_stored(opened: Sequence[tuple[MemberRow, LoadedTable]]) -> None:
    """Make the tables restored from the store (at least one) the session's set.

    A stored single upload (no SQL name) comes back as a set of one, read as before (its
    header row); a stored set with its SQL names, ticks and the table shown.
    """
    row, table = opened[0]
    if row.sql_name is None:
        dataset = CurrentDataset(table=table, digest=row.digest, source=row.source, header_row=row.header_row)
        state.set_current_dataset(dataset)
        adopt_one(dataset)
        return
    entries = tuple(SetEntry(NamedTable(row.sql_name or f"table_{i + 1}", table, row.source, row.sheet), row.digest)
                    for i, (row, table) in enumerate(opened))
    ticked = frozenset(e.sql_name for e, (row, _) in zip(entries, opened) if row.ticked)
    slots.TABLE_SET.set(CurrentTableSet(entries, ticked or frozenset(e.sql_name for e in entries)))
    slots.SET_PROBLEMS.pop()
    _show(next((e for e, (row, _) in zip(entries, opened) if row.shown), entries[0]))


def _show(entry: SetEntry) -> None:
    """Make ``entry`` the dataset the Data page shows."""
    state.set_current_dataset(CurrentDataset(table=entry.named.table, digest=entry.digest,
                                             source=entry.named.source))


# ----------------------------------------------------------------------------- widgets


def tick_widget_key(table_set: CurrentTableSet, entry: SetEntry) -> str:
    return slots.TICK_WIDGETS.key(f"{table_set.upload_key}.{entry.sql_name}")


def view_widget_key(table_set: CurrentTableSet) -> str:
    return slots.VIEW_WIDGETS.key(table_set.upload_key)


def on_tick(sql_name: str, widget_key: str) -> None:
    """Tick callback: show or hide one table from the model (never the last one)."""
    table_set = current_table_set()
    if table_set is None:
        return
    tick = slots.TICK_WIDGETS.slot_of(widget_key)
    ticked = bool(tick.get())
    selected = set(table_set.selected)
    if ticked:
        selected.add(sql_name)
    else:
        selected.discard(sql_name)
    if not selected:  # the model needs at least one table: keep this one
        tick.set(True)
        return
    slots.TABLE_SET.set(table_set.with_selected(frozenset(selected)))


def on_view_change(widget_key: str) -> None:
    """Viewer callback: show another table of the set on the Data page."""
    table_set = current_table_set()
    entry = table_set.entry(str(slots.VIEW_WIDGETS.slot_of(widget_key).get())) if table_set else None
    if entry is not None:
        _show(entry)


def render_table_choice(table_set: CurrentTableSet, *, on_sheet_change: Callable[[str], None]) -> None:
    """The Data page's choice of tables: for a set of several, a tick per table (seen by
    the model) and which one to show; for a single workbook with several sheets, the sheet
    (``on_sheet_change(widget_key)`` reads it)."""
    one = table_set.single
    if one is None:
        _render_table_list(table_set)
        return
    sheets = list(one.table.sheets)
    if len(sheets) > 1:
        st.selectbox(
            "Sheet",
            options=sheets,
            index=sheets.index(one.table.sheet) if one.table.sheet in sheets else 0,
            key=one.sheet_widget_key,
            on_change=on_sheet_change,
            args=(one.sheet_widget_key,),
            help="This workbook has several sheets; the model sees the one chosen here.",
        )


def _render_table_list(table_set: CurrentTableSet) -> None:
    """A tick per table (seen by the model), SQL name, source; the table shown."""
    problems = set_problems()
    if problems is not None:
        for failure in problems.failures:
            st.warning(f"Not loaded: {failure.message}")
        for note in problems.notes:
            st.warning(note)
    chosen = table_set.chosen()
    st.markdown(f"**Tables** ({len(chosen)} of {len(table_set.entries)} shown to the model; "
                f"`{chosen[0].sql_name}` is also `data` in SQL)")
    for entry in table_set.entries:
        df = entry.named.table.df
        key = tick_widget_key(table_set, entry)
        st.checkbox(
            f"`{entry.sql_name}` — {escape_markdown(entry.named.table.name)} ({format_shape(len(df), len(df.columns))})",
            value=entry.sql_name in table_set.selected,
            key=key,
            on_change=on_tick,
            args=(entry.sql_name, key),
            help="Untick to keep this table from the model: it leaves the instruction and SQL.",
        )
    names = [e.sql_name for e in table_set.entries]
    current = state.current_dataset()
    shown = next((e.sql_name for e in table_set.entries if table_set.shows(e, current)), names[0])
    key = view_widget_key(table_set)
    st.selectbox("Show table", options=names, index=names.index(shown), key=key,
                 on_change=on_view_change, args=(key,),
                 help="Which table the tabs below show; the model sees every ticked table.")


def render_sidebar_tables(table_set: CurrentTableSet) -> None:
    """The sidebar's list of the tables in the conversation (inside ``st.sidebar``): a
    single upload by its name and shape, a set by its ticked tables' SQL names."""
    one = table_set.single
    if one is not None:
        st.markdown(f"**{escape_markdown(one.table.name)}**")
        st.caption(format_shape(len(one.table.df), len(one.table.df.columns)))
        return
    chosen = table_set.chosen()
    st.markdown(f"**{len(chosen)} tables in the conversation**")
    for entry in chosen:
        df = entry.named.table.df
        st.caption(f"`{entry.sql_name}` · {format_shape(len(df), len(df.columns))}")
    hidden = len(table_set.entries) - len(chosen)
    if hidden:
        st.caption(f"{hidden} more unticked on the Data page (not shown to the model).")


# ----------------------------------------------------------------------------- what the model gets


def _set_tables(table_set: CurrentTableSet) -> list[SetTable]:
    return [SetTable(e.sql_name, e.named.table.df, e.named.table.name) for e in table_set.chosen()]


@st.cache_data(show_spinner="Summarising the tables for the model…", max_entries=32)
def _summary(key: str, budget: int, _tables: list[SetTable]) -> TableSetSummary:
    return summarize_tables(_tables, budget_tokens=budget)


@st.cache_data(show_spinner=False, max_entries=32)
def _model_view(key: str, budget: int, _tables: list[SetTable]) -> ModelView:
    summary = _summary(key, budget, _tables)
    instruction = build_system_instruction(summary)
    return ModelView(summary, instruction, estimate_tokens(instruction))


def model_view(table_set: CurrentTableSet, budget: int) -> ModelView:
    """Summary, exact instruction and its size for the ticked tables under ``budget``."""
    return _model_view(table_set.key, budget, _set_tables(table_set))


@st.cache_data(show_spinner=False, max_entries=16)
def _vocabulary(key: str, _frames: dict[str, pd.DataFrame]) -> tuple[str, ...]:
    return custom_vocabulary(_frames)


def vocabulary(table_set: CurrentTableSet) -> tuple[str, ...]:
    """The transcription vocabulary of the ticked tables (names, columns, categories)."""
    return _vocabulary(table_set.key, table_set.frames())


def note_set_change(identity: str, names: Sequence[str], *, restart: Callable[[], bool],
                    transcript: Transcript) -> None:
    """On the Talk page: when what the model sees changed since this page last ran, say so
    in the transcript (kept visible) and start the new session now if one is running.

    ``identity`` is the set's key (or the single dataset's cache key); ``restart`` starts
    the new session (called only when a session is live).
    """
    seen = slots.TALK_TABLES_SEEN.get()
    slots.TALK_TABLES_SEEN.set(identity)
    if seen is None or seen == identity or not transcript.entries:
        return
    restarted = restart()
    listed = ", ".join(names)
    when = "A new session started" if restarted else "The next question starts a new session"
    transcript.add_notice(f"The data changed (now: {listed}). {when} with the new "
                          "instruction; the conversation above was about the previous data.")
