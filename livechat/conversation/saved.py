"""The conversation record as plain JSON-ready data, for the store, and back.

``entry_to_dict`` / ``transcript_from_saved`` translate transcript entries (questions,
answers, tool calls with their SQL and the results as given to the model, chart specs,
notices, errors, per-turn figures) to dicts and back; ``RecordSnapshots.take`` (or
``record_snapshot``) takes everything the store keeps of a transcript in one go, on the
script thread that owns the transcript, so the background writer never reads a
transcript that is changing. ``RecordSnapshots`` converts only entries that changed
since its last snapshot and hands back the very same dict for the others, so a save
costs a few small conversions however long the conversation (and the store's diff is
mostly identity checks).

Values that JSON cannot hold (NaN, infinities, dates in a tool result) become null or
text. Conversation ids live here too: 128 random bits in the URL (``?conversation=``),
naming only the analyst's own conversation, never a credential for anything else.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import asdict, dataclass, fields
from typing import Any

from livechat.conversation.transcript import Entry, Transcript

__all__ = [
    "RecordSnapshot",
    "RecordSnapshots",
    "entry_from_dict",
    "entry_to_dict",
    "new_conversation_id",
    "record_snapshot",
    "transcript_from_saved",
    "valid_conversation_id",
]

_ID_BYTES = 16
_ENTRY_FIELDS = {f.name for f in fields(Entry)}


def new_conversation_id() -> str:
    """A fresh, unguessable conversation id (URL-safe)."""
    return secrets.token_urlsafe(_ID_BYTES)


def valid_conversation_id(value: object) -> bool:
    """True for strings shaped like ``new_conversation_id()``'s (nothing else is looked up)."""
    return (isinstance(value, str) and 16 <= len(value) <= 64
            and all(c.isalnum() or c in "-_" for c in value))


def _plain(value: Any) -> Any:
    """``value`` with only what JSON holds: non-finite floats become None, others text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """One transcript entry as a JSON-ready dict (defaults left out, to keep rows small)."""
    defaults = Entry(entry.kind)
    return {k: _plain(v) for k, v in asdict(entry).items() if k == "kind" or v != getattr(defaults, k)}


def entry_from_dict(body: dict[str, Any]) -> Entry:
    """The entry ``entry_to_dict`` was given; unknown keys (a newer release's) are ignored."""
    values = {k: v for k, v in body.items() if k in _ENTRY_FIELDS}
    entry = Entry(**values)
    if entry.kind == "tool" and not entry.final:
        # The call was running when the page went away; nothing can finish it now.
        entry.final, entry.cancelled = True, True
    elif entry.kind == "message":
        entry.final = True
    return entry


@dataclass(frozen=True)
class RecordSnapshot:
    """What the store keeps of a transcript at one moment (plain data, immutable use)."""

    version: int
    entries: list[dict[str, Any]]
    totals: dict[str, Any]
    questions: int


def _signature(entry: Entry) -> tuple[Any, ...]:
    # Transcript replaces args/result/chart dicts (never mutates them) and changes the
    # scalar fields in place: their identities and values say whether an entry changed.
    return (entry.kind, entry.text, entry.role, entry.final, entry.interrupted, entry.tool, id(entry.args),
            id(entry.result), entry.cancelled, id(entry.chart), entry.first_audio_s, entry.tokens)


class RecordSnapshots:
    """Snapshots of one transcript that reuse the dicts of unchanged entries (script thread)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[Entry, tuple[Any, ...], dict[str, Any]]] = {}

    def take(self, transcript: Transcript) -> RecordSnapshot:
        cache: dict[int, tuple[Entry, tuple[Any, ...], dict[str, Any]]] = {}
        entries = []
        for entry in transcript.entries:
            signature = _signature(entry)
            found = self._cache.get(id(entry))
            if found is None or found[0] is not entry or found[1] != signature:
                found = (entry, signature, entry_to_dict(entry))
            cache[id(entry)] = found
            entries.append(found[2])
        self._cache = cache  # entries trimmed away are forgotten
        return _snapshot(transcript, entries)


def record_snapshot(transcript: Transcript) -> RecordSnapshot:
    """The transcript's entries and totals as plain data (script thread)."""
    return _snapshot(transcript, [entry_to_dict(e) for e in transcript.entries])


def _snapshot(transcript: Transcript, entries: list[dict[str, Any]]) -> RecordSnapshot:
    questions = sum(1 for e in transcript.entries if e.kind == "message" and e.role == "user")
    totals = {"tokens_used": int(transcript.tokens_used),
              "first_audio_s": [float(x) for x in transcript.first_audio_s if math.isfinite(x)]}
    return RecordSnapshot(transcript.version, entries, totals, questions)


def transcript_from_saved(entries: list[dict[str, Any]], totals: dict[str, Any]) -> Transcript:
    """A transcript holding the saved history (no session bookkeeping: new sessions
    number their turns afresh, as after ``Transcript.history_copy``)."""
    transcript = Transcript()
    transcript.entries = [entry_from_dict(e) for e in entries if isinstance(e, dict) and "kind" in e]
    tokens = totals.get("tokens_used")
    transcript.tokens_used = tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else 0
    audio = totals.get("first_audio_s")
    transcript.first_audio_s = [float(x) for x in audio if isinstance(x, (int, float))] if isinstance(audio, list) else []
    transcript.version = 1
    return transcript
