"""The Talk page's conversation history, built from Live session events.

``Transcript`` turns the events a ``VoiceBridge`` reports (each tagged with the serial of
the session it came from) into an ordered list of entries: user and model messages
(updated in place while they are being transcribed), tool calls with their arguments
and results, the chart a ``show_chart`` call asked for, notices and errors. It is kept
in the browser session's state so the history outlives sessions (Stop, a new question after a
dataset change, a reconnection).

Plain data, no Streamlit: the page renders the entries. Threads: one transcript belongs
to one browser session and is only touched on its script thread (page and fragment
runs), which Streamlit runs one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from livechat.voice.bridge import TaggedEvent
from livechat.voice.gaps import UplinkGaps
from livechat.live.events import (
    ErrorEvent,
    Interrupted,
    Notice,
    Role,
    ToolCallFinished,
    ToolCallStarted,
    TranscriptUpdate,
    TurnFigures,
    Usage,
)

if TYPE_CHECKING:
    from livechat.conversation.figures.check import FigureCheck

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
    # Per-turn figures of a model reply (TurnFigures): seconds to its first audio, tokens.
    first_audio_s: float | None = None
    tokens: int | None = None
    # Model messages: how its figures matched the data (livechat.conversation.figures),
    # set once by check_transcript when the message is complete; None until then.
    figure_check: FigureCheck | None = None
    # Microphone gaps over 1 s that ended before this reply began (UplinkGaps): frames came
    # late (a frozen tab, a busy host) and the call went on.
    mic_gaps: int = 0
    longest_gap_s: float = 0.0

    @property
    def figures_caption(self) -> str | None:
        """``first audio 0.84 s · 1,234 tokens · 1 mic gap (4.1 s)`` for a reply, else None."""
        parts = []
        if self.first_audio_s is not None:
            parts.append(f"first audio {self.first_audio_s:.2f} s")
        if self.tokens is not None:
            parts.append(f"{self.tokens:,} tokens")
        if self.mic_gaps:
            parts.append(f"{_gaps_text(self.mic_gaps)} ({'longest ' if self.mic_gaps > 1 else ''}"
                         f"{self.longest_gap_s:.1f} s)")
        return " · ".join(parts) or None

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
        self.tokens_used = 0  # total tokens the service reported (once per turn), all sessions
        self.first_audio_s: list[float] = []  # every reply's time to first audio, all sessions
        self.mic_gaps = 0  # microphone gaps over 1 s, all calls
        self._pending_gaps: tuple[int, float] = (0, 0.0)  # for the next reply: (count, longest s)
        self._keys: dict[int, tuple[int, int]] = {}  # id(message entry) -> (serial, turn_id)
        self._trimmed: dict[int, int] = {}  # serial -> highest turn_id trimmed away
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

    def history_copy(self) -> "Transcript":
        """A new transcript holding a deep copy of this one's entries and totals, and nothing
        of its sessions' bookkeeping.

        For a page that starts over with someone else's history (a reload): its bridge
        numbers sessions from 1 again, so the keys of the old sessions' turns must not be
        there for the new events to land on. A call still running in the old session can no
        longer finish: it is shown cancelled.
        """
        copy = Transcript(max_entries=self._max)
        copy.entries = [replace(e, args=dict(e.args),
                                            result=deepcopy(e.result), chart=deepcopy(e.chart))
                        for e in self.entries]
        for entry in copy.entries:
            if entry.kind == "tool" and not entry.final:
                entry.final, entry.cancelled = True, True
            elif entry.kind == "message":
                entry.final = True
        copy.tokens_used = self.tokens_used
        copy.first_audio_s = list(self.first_audio_s)
        copy.mic_gaps = self.mic_gaps
        copy.version = self.version + 1
        return copy

    def clear(self) -> None:
        """Forget the whole history."""
        self.entries.clear()
        self._messages.clear()
        self._tools.clear()
        self._keys.clear()
        self._trimmed.clear()
        self.first_audio_s.clear()
        self.mic_gaps = 0
        self._pending_gaps = (0, 0.0)
        self.version += 1

    # ------------------------------------------------------------------ internals

    def _apply(self, serial: int, event: object) -> bool:
        if isinstance(event, TranscriptUpdate):
            entry = self._messages.get((serial, event.turn_id))
            if entry is None:
                entry = Entry("message", event.text, role=event.role, final=event.final)
                if event.role == "model" and self._pending_gaps[0]:
                    entry.mic_gaps, entry.longest_gap_s = self._pending_gaps
                    self._pending_gaps = (0, 0.0)
                self._messages[(serial, event.turn_id)] = entry
                self._keys[id(entry)] = (serial, event.turn_id)
                self._insert_message(entry, serial, event.turn_id)
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
        if isinstance(event, TurnFigures):
            if event.first_audio_s is not None:
                self.first_audio_s.append(event.first_audio_s)
            entry = self._messages.get((serial, event.turn_id)) if event.turn_id is not None else None
            if entry is None:
                return event.first_audio_s is not None  # the session total changed
            entry.first_audio_s, entry.tokens = event.first_audio_s, event.tokens
            return True
        if isinstance(event, UplinkGaps):
            self.mic_gaps += event.count
            count, longest = self._pending_gaps
            self._pending_gaps = (count + event.count, max(longest, event.longest_s))
            return True  # the session total changed
        return False  # StateChanged and anything newer: the badge shows state

    def _append(self, entry: Entry) -> None:
        self.entries.append(entry)

    def _insert_message(self, entry: Entry, serial: int, turn_id: int) -> None:
        """Place a new message in its session's utterance order (``turn_id``).

        A user line transcribed late (after the model's reply, LIVE_PROTOCOL §8.5) carries
        an id below the reply's: it goes above that reply, not under it.
        """
        before: int | None = None
        if turn_id <= self._trimmed.get(serial, 0):
            self.entries.append(entry)  # its neighbours were trimmed away: nothing to go above
            return
        for position in range(len(self.entries) - 1, -1, -1):
            key = self._keys.get(id(self.entries[position]))
            if key is None or key[0] != serial:
                continue
            if key[1] < turn_id:
                break
            before = position  # a later utterance of the same session: go above it
        if before is None:
            self.entries.append(entry)
        else:
            self.entries.insert(before, entry)

    def session_total(self) -> str | None:
        """``3 replies · 4,210 tokens · first audio median 0.82 s · 2 mic gaps`` for the Talk
        page, or None. Mic gaps: pauses over 1 s in the microphone audio (a host or browser
        too busy), shown only when there were any."""
        replies = sum(1 for e in self.entries if e.kind == "message" and e.role == "model")
        if not replies and not self.tokens_used:
            return None
        parts = [f"{replies} {'reply' if replies == 1 else 'replies'}", f"{self.tokens_used:,} tokens"]
        if self.first_audio_s:
            ordered = sorted(self.first_audio_s)
            parts.append(f"first audio median {ordered[len(ordered) // 2]:.2f} s")
        if self.mic_gaps:
            parts.append(_gaps_text(self.mic_gaps))
        return " · ".join(parts)

    def _trim(self) -> None:
        excess = len(self.entries) - self._max
        if excess <= 0:
            return
        dropped = self.entries[:excess]
        del self.entries[:excess]
        gone = {id(e) for e in dropped}
        for key in (self._keys.get(id(e)) for e in dropped):
            if key is not None:
                self._trimmed[key[0]] = max(self._trimmed.get(key[0], 0), key[1])
        self._messages = {k: e for k, e in self._messages.items() if id(e) not in gone}
        self._keys = {k: v for k, v in self._keys.items() if k not in gone}
        self._tools = {k: e for k, e in self._tools.items() if id(e) not in gone}


def _gaps_text(count: int) -> str:
    return f"{count} mic gap{'' if count == 1 else 's'}"


def _chart_of(event: ToolCallFinished) -> dict[str, Any] | None:
    """The chart spec a successful show_chart call returned, else None."""
    if event.name != CHART_TOOL or event.cancelled or not isinstance(event.result, dict):
        return None
    chart = event.result.get("chart")
    if "error" in event.result or not isinstance(chart, dict):
        return None
    return dict(chart)
