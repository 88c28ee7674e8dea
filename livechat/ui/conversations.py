"""Conversations kept in the store: restore on reload, save as they change, the sidebar list.

The page's URL names its conversation (``?conversation=<id>``). On a session's first run
``session_transcript`` finds it in the store and brings back the record *and* its tables
(the Data and Talk pages then show the restored set; no upload needed), or starts a new
conversation. Each run then hands what changed to the store's background writer
(``save_progress``): the record as plain data when the transcript's version moved, the
table set when the tables or ticks changed (each table's snapshot once per table, encoded
on the writer thread). Nothing here waits for a write; a conversation that is only the
bundled sample, untouched, is not saved.

When the store is down every page says "Conversations are not being saved: <reason>"
(``render_store_warning``), the app keeps working in memory and the writer retries.
A table whose stored copy is missing or damaged is named; the rest opens.

Runs on the session's script thread (page runs, fragment runs, widget callbacks); the
writer is one per process (``store_writer``).
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass

import streamlit as st

from livechat.conversation.saved import (
    new_conversation_id,
    transcript_from_saved,
    valid_conversation_id,
)
from livechat.conversation.transcript import Transcript
from livechat.data.load import LoadedTable
from livechat.data.sample import SAMPLE_NAME
from livechat.data.snapshot import SnapshotError, decode_table, encode_table
from livechat.data.table_file import map_table, release_parse_memory
from livechat.store import ConversationStore, MemberRow, StoreError, StoreWriter
from livechat.store.repository import ConversationRow, SavedConversation
from livechat.store.settings import StoreSettingsError, resolve_store_settings
from livechat.store.audit import AuditEvent, EventKind, append_event
from livechat.ui import runtime, shutdown, slots, state, tables
from livechat.ui.analyst import current_analyst
from livechat.ui.cache import freeze_frame
from livechat.ui.shared import WeakShared

logger = logging.getLogger(__name__)

QUERY_PARAM = "conversation"
# What a conversation keeps in the session (declared in livechat.ui.slots); forgotten
# together when another conversation is opened.
_PER_CONVERSATION = (slots.SAVED_TABLES, slots.SAVED_VERSION, slots.RESTORE_NOTE, slots.RESTORED,
                     slots.TABLE_PROBLEMS)
_LIST_LIMIT = 20
NOT_FOUND = "Conversation not found"
_FLUSH_BEFORE_RESTORE_S = 2.0  # this process's own pending writes first (read your writes)


# ----------------------------------------------------------------------------- the process's writer


class _SettingsProblem:
    """An opener for unusable settings: the store is "down" with the settings' reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __call__(self) -> ConversationStore:
        raise StoreError(self.reason)


@st.cache_resource(show_spinner=False)
def store_writer() -> StoreWriter:
    """The process's store writer (opened on first use; flushed at SIGTERM and exit)."""
    try:
        settings = resolve_store_settings(runtime.secrets_mapping(), os.environ)
    except StoreSettingsError as exc:
        writer = StoreWriter(_SettingsProblem(str(exc)), retry_s=3600.0).start()
    else:
        logger.info("Store: %s (retention %s)", settings.display_url,
                    "none: in memory" if settings.in_memory else f"{settings.retention_days} days")
        url = settings.url
        writer = StoreWriter(lambda: ConversationStore.open(url), keep_s=settings.keep_s).start()
    shutdown.register_closer(writer.close)  # SIGTERM: what is queued is written first
    atexit.register(writer.close)
    return writer


def _table_key(cache_key: str) -> str:
    return hashlib.sha256(cache_key.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------- tables <-> members


@dataclass(frozen=True, eq=False)
class _Member:
    row: MemberRow
    table: LoadedTable


def _members() -> tuple[_Member, ...]:
    """The session's tables as store rows (a single upload's one table has no SQL name)."""
    table_set = tables.current_table_set()
    if table_set is None:
        return ()
    shown = state.current_dataset()
    return tuple(_Member(MemberRow(
        table_key=_table_key(e.cache_key), digest=e.digest, source=e.named.source, sql_name=e.stored_name,
        ticked=e.sql_name in table_set.selected, shown=table_set.shows(e, shown), sheet=e.named.sheet,
        header_row=e.header_row, encoding=e.stored_encoding), e.named.table) for e in table_set.entries)


def _title(members: tuple[_Member, ...]) -> str:
    if not members:
        return "no tables"
    sources = list(dict.fromkeys(m.row.source for m in members))
    if len(members) == 1:
        sheet = f" (sheet {members[0].row.sheet})" if members[0].row.sheet else ""
        return f"{sources[0]}{sheet}"
    return f"{', '.join(sources)} ({len(members)} tables)"


# Restored tables, shared while any session or tool holds them (as parsed uploads are,
# livechat/ui/cache.py): a cache of N would keep N tables and their mapped files alive
# after every analyst moved on.
_RESTORED: WeakShared[LoadedTable] = WeakShared()


def _restored_table(table_key: str) -> LoadedTable:
    """A stored table, decoded once while anyone holds it and shared like a parsed upload."""

    def decode() -> LoadedTable:  # one at a time (WeakShared): their peaks do not add up
        with st.spinner("Opening the stored table…"):
            blob = store_writer().read(lambda store: store.get_blob(table_key), None)
            if blob is None:
                raise StoreError("the store cannot be reached")
            # Shared like a parsed upload too: one mapped copy for the app and its SQL worker.
            table = map_table(decode_table(blob.data, blob.meta), f"restored/{table_key}")
            release_parse_memory()
        freeze_frame(table.df)
        return table

    return _RESTORED.get_or_make(table_key, decode)


def restore_table(row: MemberRow) -> LoadedTable:
    """The loaded table a stored member names (the same object type the load path returns).

    Raises StoreError or SnapshotError with the reason it cannot be opened."""
    return _restored_table(row.table_key)


def _restore_tables(saved: SavedConversation) -> list[str]:
    """Put the saved tables in the session; return what could not be opened (named)."""
    problems: list[str] = []
    opened: list[tuple[MemberRow, LoadedTable]] = []
    for row in saved.members:
        try:
            opened.append((row, restore_table(row)))
        except (StoreError, SnapshotError) as exc:
            where = f"{row.source}, sheet {row.sheet}" if row.sheet else row.source
            problems.append(f"{row.sql_name or where} ({where}): {exc}")
            logger.warning("Stored table %s not restored: %s", row.table_key[:12], exc)
    if opened:
        tables.adopt_stored(opened)
    return problems


# ----------------------------------------------------------------------------- the session's conversation


def conversation_id() -> str | None:
    """The id of this session's conversation, once ``session_transcript`` ran."""
    return slots.CONVERSATION_ID.get()


def restored() -> bool:
    """True when this session opened a stored conversation (a reload, another replica)."""
    return slots.RESTORED.get()


def session_transcript() -> Transcript:
    """This session's transcript: its own, the stored one the URL names, or a new one."""
    transcript = slots.TRANSCRIPT.get()
    current = conversation_id()
    if transcript is None or current is None:
        transcript, current = _open(st.query_params.get(QUERY_PARAM))
    if st.query_params.get(QUERY_PARAM) != current:
        st.query_params[QUERY_PARAM] = current
    return transcript


def _open(wanted: str | None) -> tuple[Transcript, str]:
    writer = store_writer()
    saved: SavedConversation | None = None
    owner = current_analyst().id
    if valid_conversation_id(wanted):
        writer.flush(_FLUSH_BEFORE_RESTORE_S)
        # Another analyst's conversation reads as missing: the page says "not found" and
        # nothing more, so a link does not even tell that it exists.
        saved = writer.read(lambda store: store.load(str(wanted), owner=owner), None)
    if saved is not None:
        transcript, current = transcript_from_saved(saved.entries, saved.totals), str(wanted)
        problems = _restore_tables(saved)
        text = f"Restored the conversation from before the page was reloaded (about {saved.row.title})."
        slots.RESTORE_NOTE.set((transcript.version, text))
        if problems:
            slots.TABLE_PROBLEMS.set(tuple(problems))
        slots.RESTORED.set(True)
        slots.SAVED_VERSION.set(transcript.version)
        slots.SAVED_TABLES.set(tuple(m.row for m in _members()))
    else:
        transcript, current = Transcript(), new_conversation_id()
        if wanted is not None:
            reason = writer.status().reason
            # The same words whether it never existed, is gone, or is someone else's.
            text = (f"{NOT_FOUND} (it was deleted, is older than the retention period, or belongs to another "
                    "account). A new conversation starts here." if reason is None else
                    f"The conversation could not be opened: conversations are not being saved ({reason}). "
                    "A new conversation starts here.")
            slots.RESTORE_NOTE.set((transcript.version, text))
    slots.TRANSCRIPT.set(transcript)
    slots.CONVERSATION_ID.set(current)
    return transcript, current


def _is_untouched_sample(members: tuple[_Member, ...], transcript: Transcript) -> bool:
    return (not transcript.entries and len(members) == 1 and members[0].row.source == SAMPLE_NAME
            and not slots.SAVED_TABLES.get())


def save_progress() -> None:
    """Hand what changed since the last save to the writer (never waits; script thread)."""
    transcript = slots.TRANSCRIPT.get()
    current = conversation_id()
    if transcript is None or current is None:
        return
    members = _members()
    rows = tuple(m.row for m in members)
    tables_changed = rows != slots.SAVED_TABLES.get()
    record_changed = transcript.version != slots.SAVED_VERSION.get()
    if not (tables_changed or record_changed) or _is_untouched_sample(members, transcript):
        return
    writer = store_writer()
    title = _title(members)
    owner = current_analyst().id
    if tables_changed:
        for member in members:
            writer.submit(_blob_job(member), key=f"blob:{member.row.table_key}")
        writer.submit(lambda store: store.save_members(current, rows, title=title, owner=owner),
                      key=f"members:{current}")
        slots.SAVED_TABLES.set(rows)
    if record_changed or tables_changed:
        snapshot = slots.SNAPSHOTS.get().take(transcript)
        writer.submit(lambda store: store.save_record(current, title=title, questions=snapshot.questions,
                                                      totals=snapshot.totals, entries=snapshot.entries,
                                                      owner=owner),
                      key=f"record:{current}")
        slots.SAVED_VERSION.set(transcript.version)


def _blob_job(member: _Member):  # -> a writer job
    row, table = member.row, member.table

    def job(store: ConversationStore) -> None:
        if store.has_blob(row.table_key):
            return
        data, meta = encode_table(table)  # on the writer thread: the page run never waits for it
        store.put_blob(row.table_key, row.digest, meta, data)
        del data
        release_parse_memory()  # the encoder's buffers (a table's size) go back at once

    return job


def _start_new() -> None:
    """A new, empty conversation with the session's current tables."""
    transcript, current = Transcript(), new_conversation_id()
    slots.TRANSCRIPT.set(transcript)
    slots.CONVERSATION_ID.set(current)
    for slot in _PER_CONVERSATION:
        slot.pop()
    st.query_params[QUERY_PARAM] = current


def on_new() -> None:
    """"New conversation" callback."""
    _start_new()


def on_delete() -> None:
    """"Delete" callback: remove this conversation (and its tables no other one uses)."""
    current = conversation_id()
    if current is not None:
        owner = current_analyst().id

        def job(store: ConversationStore) -> None:
            if store.delete_conversation(current, owner=owner):
                append_event(store, AuditEvent(EventKind.DELETION, owner, {"conversation": current}))

        store_writer().submit(job)
        slots.DELETED.set(slots.DELETED.get() | {current})
    _start_new()


def on_open(target: str) -> None:
    """A listed conversation's callback: open it in this session (record and tables)."""
    for slot in (slots.TRANSCRIPT, slots.CONVERSATION_ID, *_PER_CONVERSATION):
        slot.pop()
    st.query_params[QUERY_PARAM] = target  # the shell's next call to session_transcript opens it


# ----------------------------------------------------------------------------- what the page shows


def restore_note() -> tuple[int, str] | None:
    """(transcript version, text) of the note about the restore, while it applies."""
    return slots.RESTORE_NOTE.get()


def clear_restore_note() -> None:
    slots.RESTORE_NOTE.pop()


def render_store_warning() -> None:
    """On every page: stored tables that could not be opened, and while the store is down,
    that conversations are not being saved."""
    problems = slots.TABLE_PROBLEMS.get()
    if problems:
        st.warning("These tables of the conversation could not be opened: " + "; ".join(problems)
                   + ". Upload them again to use them; the rest of the conversation is here.",
                   icon=":material/broken_image:")
    status = store_writer().status()
    if not status.saving:
        st.warning(f"Conversations are not being saved: {status.reason}. The app keeps working; "
                   "this conversation lives in this server's memory until the store is back.",
                   icon=":material/cloud_off:")
    elif status.dropped:
        st.warning(f"Conversations are not being saved completely: {status.dropped:,} change(s) could "
                   "not be written (the store was too slow).", icon=":material/cloud_off:")


def _label(row: ConversationRow) -> str:
    when = dt.datetime.fromtimestamp(row.updated_at).strftime("%d %b %H:%M")
    questions = f"{row.questions} question{'s' if row.questions != 1 else ''}"
    return f"{row.title} · {when} · {questions}"


def render_sidebar_conversations() -> None:
    """The sidebar's "Conversations": most recent first, reopen, new, delete (inside st.sidebar)."""
    st.subheader("Conversations")
    writer = store_writer()
    deleted = slots.DELETED.get()
    owner = current_analyst().id
    rows = [r for r in writer.read(lambda store: store.list_conversations(owner=owner, limit=_LIST_LIMIT), [])
            if r.id not in deleted]
    current = conversation_id()
    left, right = st.columns(2)
    left.button("New conversation", key=slots.NEW_CONVERSATION_WIDGET.key, on_click=on_new,
                icon=":material/add_comment:", help="Start an empty conversation with the current tables.")
    right.button("Delete", key=slots.DELETE_CONVERSATION_WIDGET.key, on_click=on_delete,
                 icon=":material/delete:", disabled=not any(r.id == current for r in rows),
                 help="Delete this conversation, and its tables when no other conversation uses them.")
    if not rows:
        st.caption("Nothing saved yet." if writer.status().saving else "Not available: the store is down.")
    for row in rows:
        mine = row.id == current
        st.button(_label(row), key=slots.OPEN_CONVERSATION_WIDGETS.key(row.id), on_click=on_open,
                  args=(row.id,), disabled=mine, type="tertiary",
                  icon=":material/chat:" if mine else ":material/history:",
                  help="This conversation" if mine else "Open this conversation and its tables")
