"""Conversation records kept in the server's memory, so a page reload does not lose them.

Streamlit gives every page load a new session (``st.session_state`` starts empty), so a
reload would drop the transcript. The page keeps a random conversation id in its URL
(``?conversation=…``); this store maps that id to the transcript for a bounded time and
count. A reload finds the record again; a new tab with the same URL gets its own copy.
Nothing here survives a server restart, and the page says so when a record is gone.

The id is 128 random bits and names only the analyst's own conversation; it is not a
credential for anything else. Thread-safe: script threads of several browser sessions
use one store.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from livechat.conversation.transcript import Transcript

__all__ = ["RecordStore", "StoredRecord", "StoreConfigError", "new_conversation_id", "valid_conversation_id"]

DEFAULT_TTL_S = 2 * 3600.0
DEFAULT_MAX_RECORDS = 200
_ID_BYTES = 16


class StoreConfigError(ValueError):
    """A RecordStore was constructed with an impossible setting."""


def new_conversation_id() -> str:
    """A fresh, unguessable conversation id (URL-safe)."""
    return secrets.token_urlsafe(_ID_BYTES)


def valid_conversation_id(value: object) -> bool:
    """True for strings shaped like ``new_conversation_id()``'s (nothing else is looked up)."""
    return (isinstance(value, str) and 16 <= len(value) <= 64
            and all(c.isalnum() or c in "-_" for c in value))


@dataclass(frozen=True)
class StoredRecord:
    """A restored conversation: its own copy of the transcript, and what it was about."""

    transcript: Transcript
    dataset: str
    saved_at: float


class RecordStore:
    """Bounded map ``conversation id -> transcript``, expiring ``ttl_s`` after the last save."""

    def __init__(self, *, ttl_s: float = DEFAULT_TTL_S, max_records: int = DEFAULT_MAX_RECORDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not ttl_s > 0:
            raise StoreConfigError(f"ttl_s must be positive, got {ttl_s!r}")
        if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 1:
            raise StoreConfigError(f"max_records must be a positive integer, got {max_records!r}")
        self._ttl = ttl_s
        self._max = max_records
        self._clock = clock
        self._lock = threading.Lock()
        self._records: OrderedDict[str, tuple[Transcript, str, float]] = OrderedDict()

    def save(self, conversation_id: str, transcript: Transcript, dataset: str) -> None:
        """Keep ``transcript`` (by reference: later changes are kept too) under the id."""
        with self._lock:
            self._expire()
            self._records[conversation_id] = (transcript, dataset, self._clock())
            self._records.move_to_end(conversation_id)
            while len(self._records) > self._max:
                self._records.popitem(last=False)  # the least recently saved goes first

    def restore(self, conversation_id: str) -> StoredRecord | None:
        """A copy of the record under the id, or None if there is none (or it expired)."""
        with self._lock:
            self._expire()
            found = self._records.get(conversation_id)
            if found is None:
                return None
            transcript, dataset, saved_at = found
            # A copy: the old page may still be alive (a second tab), and two script
            # threads must never share one mutable transcript. Only the history: the new
            # page's sessions number their turns afresh.
            return StoredRecord(transcript.history_copy(), dataset, saved_at)

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._records)

    def _expire(self) -> None:
        cutoff = self._clock() - self._ttl
        for key in [k for k, (_, _, saved) in self._records.items() if saved < cutoff]:
            del self._records[key]
