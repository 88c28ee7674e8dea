"""The Talk page's conversation history, built from Live session events.

``Transcript`` turns the events a ``VoiceBridge`` reports (each tagged with the serial of
the session it came from) into an ordered list of entries: user and model messages
(updated in place while they are being transcribed), tool calls with their arguments
and results, the chart a ``show_chart`` call asked for, notices and errors. It is kept
in ``st.session_state`` so the history outlives sessions (Stop, a new question after a
dataset change, a reconnection).

Plain data, no Streamlit: the page renders the entries. Threads: one transcript belongs
to one browser session and is only touched on its script thread (page and fragment
runs), which Streamlit runs one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from livechat.voice.bridge import TaggedEvent
from livechat.live.events import (
    ErrorEvent,
    Interrupted,
    Notice,
    Role,
    ToolCallFinished,
    ToolCallStarted,
    TranscriptUpdate,
    Usage,
)

__all__ = ["Entry", "EntryKind", "Transcript", "TranscriptError"]

EntryKind = Literal["message", "tool", "notice", "error"]
CHART_TOOL = "show_chart"


class TranscriptError(ValueError):
    """A Transcript was constructed with an impossible setting."""


@dataclass
class Entry:
    """One item of the history. Messages and tool calls change until they are final."""

    kind: EntryKind
    text: str = ""
    role: Role | None = None  # messages only
    final: bool = True
    interrupted: bool = False
    tool: str | None = None  # tool calls only
    args: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    cancelled: bool = False
    chart: dict[str, Any] | None = None  # ChartSpec.to_dict() of a successful show_chart

    @property
    def tool_failed(self) -> bool:
        """True when a finished tool call answered with an error."""
        return isinstance(self.result, dict) and "error" in self.result


class Transcript:
    """Ordered, bounded history of one browser session's conversation (script thread)."""

    def __init__(self, *, max_entries: int = 500) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise TranscriptError(f"max_entries must be a positive integer, got {max_entries!r}")
        self._max = max_entries
        self.entries: list[Entry] = []
        self._messages: dict[tuple[int, int], Entry] = {}
        self._tools: dict[tuple[int, str], Entry] = {}
        self.tokens_used = 0  # total tokens the service reported, all sessions
        self.version = 0  # bumped on every change, so callers can skip redundant work

    def apply(self, events: Iterable[TaggedEvent]) -> bool:
        """Fold ``events`` into the history; True when anything visible changed."""
        changed = False
        for tagged in events:
            changed = self._apply(tagged.session, tagged.event) or changed
        if changed:
            self.version += 1
            self._trim()
        return changed

    def add_error(self, message: str) -> None:
        """Record an error the page met itself (e.g. a session that could not start)."""
        self._append(Entry("error", message))
        self.version += 1
        self._trim()

    def add_notice(self, message: str) -> None:
        """Record a notice the page gives itself (e.g. a new session for changed tables)."""
        self._append(Entry("notice", message))
        self.version += 1
        self._trim()

    def messages(self, role: Role | None = None) -> list[str]:
        """The texts of the message entries (of ``role`` if given), oldest first."""
        return [e.text for e in self.entries if e.kind == "message" and (role is None or e.role == role)]

    def clear(self) -> None:
        """Forget the whole history."""
        self.entries.clear()
        self._messages.clear()
        self._tools.clear()
        self.version += 1

    # ------------------------------------------------------------------ internals

    def _apply(self, serial: int, event: object) -> bool:
        if isinstance(event, TranscriptUpdate):
            entry = self._messages.get((serial, event.turn_id))
            if entry is None:
                entry = Entry("message", event.text, role=event.role, final=event.final)
                self._messages[(serial, event.turn_id)] = entry
                self._append(entry)
                return True
            if entry.text == event.text and entry.final == event.final:
                return False
            entry.text, entry.final = event.text, event.final
            return True
        if isinstance(event, ToolCallStarted):
            entry = Entry("tool", tool=event.name, args=dict(event.args), final=False)
            self._tools[(serial, event.call_id)] = entry
            self._append(entry)
            return True
        if isinstance(event, ToolCallFinished):
            entry = self._tools.pop((serial, event.call_id), None)
            if entry is None:  # its start was trimmed away or never seen
                entry = Entry("tool", tool=event.name)
                self._append(entry)
            entry.final = True
            entry.result = event.result
            entry.cancelled = event.cancelled
            entry.chart = _chart_of(event)
            return True
        if isinstance(event, Interrupted):
            for entry in reversed(self.entries):
                if entry.kind == "message" and entry.role == "model":
                    if entry.interrupted:
                        return False
                    entry.interrupted = True
                    return True
            return False
        if isinstance(event, ErrorEvent):
            text = event.message if not event.recoverable else f"{event.message} Reconnecting…"
            last = self.entries[-1] if self.entries else None
            if last is not None and last.kind == "error" and last.text == text:
                return False  # the same failure reported twice in a row
            self._append(Entry("error", text))
            return True
        if isinstance(event, Notice):
            self._append(Entry("notice", event.message))
            return True
        if isinstance(event, Usage):
            self.tokens_used += max(0, event.total)
            return False
        return False  # StateChanged and anything newer: the badge shows state

    def _append(self, entry: Entry) -> None:
        self.entries.append(entry)

    def _trim(self) -> None:
        excess = len(self.entries) - self._max
        if excess <= 0:
            return
        dropped = self.entries[:excess]
        del self.entries[:excess]
        gone = {id(e) for e in dropped}
        self._messages = {k: e for k, e in self._messages.items() if id(e) not in gone}
        self._tools = {k: e for k, e in self._tools.items() if id(e) not in gone}


def _chart_of(event: ToolCallFinished) -> dict[str, Any] | None:
    """The chart spec a successful show_chart call returned, else None."""
    if event.name != CHART_TOOL or event.cancelled or not isinstance(event.result, dict):
        return None
    chart = event.result.get("chart")
    if "error" in event.result or not isinstance(chart, dict):
        return None
    return dict(chart)
