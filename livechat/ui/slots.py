"""The one owner of Streamlit's session state: every key, its type and its default.

Each key a browser session keeps is declared here once, as a ``Slot`` (or, for keys
made per file or per table, a ``SlotFamily``): its name under one prefix, the type its
value must have and a default factory. Widget keys are declared here too, so pages pass
``slots.X.key`` to the widget and callbacks read ``slots.X.get()``: nobody spells a key
inline. No other module touches the session state (``tests/unit/test_layout.py``).

Thread affinity: every read and write runs on the session's script thread (Streamlit's
ScriptRunner, widget callbacks included). Outside a script run the session state is a
process-wide mock, so background threads (the voice bridge, the store writer, SQL
workers) never call these; they get what they need as arguments. Each access takes the
session state's lock (``safe_session_state``), so read a slot once per run, not in a loop.
Every method takes an optional ``state`` mapping: a plain dict in unit tests.

Types that live in UI modules are named as ``"module:Name"`` and resolved on first use:
those modules use the slots, so importing them here would be a cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import streamlit as st

from livechat.access.identity import Analyst
from livechat.conversation.saved import RecordSnapshots
from livechat.conversation.transcript import Transcript

if TYPE_CHECKING:
    from streamlit_webrtc.shutdown import SessionShutdownObserver

    from livechat.access.visitor import VisitorKey
    from livechat.audio.playback import PlaybackStats
    from livechat.config import TurnCredentials
    from livechat.tools.toolbox import ToolBox
    from livechat.voice.bridge import VoiceBridge
    from livechat.ui.state import CurrentDataset, KeptDefinitions, LoadFailure
    from livechat.ui.tables import CurrentTableSet, SetProblems

T = TypeVar("T")
State = MutableMapping[str, Any]
Kind = type | tuple[type, ...] | str

PREFIX = "livechat."


def _state(state: State | None) -> State:
    return st.session_state if state is None else state


def _none() -> None:
    return None


class SlotTypeError(TypeError):
    """A value of the wrong type was put in a slot."""

    def __init__(self, key: str, kind: object, value: object) -> None:
        super().__init__(f"session slot {key!r} holds {kind}, got {type(value).__name__}")


class Slot(Generic[T]):
    """One session-state key: its full key, declared type and default factory.

    ``get`` returns the stored value when it has the declared type (None is allowed when
    the default is None), else the default. For a plain slot the default is made once per
    session and kept (so a mutable default is the same object on every run); a widget
    slot never stores its default: Streamlit owns a widget's value once it is drawn.
    """

    def __init__(self, name: str, kind: Kind, default: Callable[[], T], *, widget: bool = False,
                 foreign: bool = False) -> None:
        # foreign: a key another library chose (streamlit-webrtc's), used as is.
        self.key = name if foreign else f"{PREFIX}{name}"
        self.foreign = foreign
        self._kind = kind
        self._default = default
        self.widget = widget

    def _type(self) -> type | tuple[type, ...]:
        if isinstance(self._kind, str):
            module, _, name = self._kind.partition(":")
            self._kind = getattr(importlib.import_module(module), name)
        return self._kind  # type: ignore[return-value]

    def _fits(self, value: object) -> bool:
        return isinstance(value, self._type())

    def get(self, state: State | None = None) -> T:
        """The session's value (script thread), or the default."""
        target = _state(state)
        if self.key in target:
            value = target[self.key]
            if self._fits(value):
                return value  # type: ignore[no-any-return]
            return self._default()
        value = self._default()
        if not self.widget:
            target[self.key] = value
        return value

    def set(self, value: T, state: State | None = None) -> None:
        """Store ``value`` (script thread); refuses a value of another type."""
        if value is not None and not self._fits(value):
            raise SlotTypeError(self.key, self._type(), value)
        _state(state)[self.key] = value

    def pop(self, state: State | None = None) -> T | None:
        """Forget the value (the next ``get`` makes the default again); returns the old one."""
        value = _state(state).pop(self.key, None)
        return value if value is not None and self._fits(value) else None

    def exists(self, state: State | None = None) -> bool:
        """True when the session holds a value under this key."""
        return self.key in _state(state)


class SlotFamily(Generic[T]):
    """Keys made per thing (per file, per table): ``prefix`` plus a suffix, one type."""

    def __init__(self, prefix: str, kind: Kind, default: Callable[[], T], *, widget: bool = False,
                 foreign: bool = False) -> None:
        self._prefix, self._kind, self._default = prefix, kind, default
        self._widget, self._foreign = widget, foreign
        self.prefix = prefix if foreign else f"{PREFIX}{prefix}"

    def key(self, suffix: str) -> str:
        """The full key for ``suffix``."""
        return f"{self.prefix}{suffix}"

    def slot(self, suffix: str) -> Slot[T]:
        """The slot for ``suffix``."""
        return Slot(f"{self._prefix}{suffix}", self._kind, self._default, widget=self._widget,
                    foreign=self._foreign)

    def slot_of(self, key: str) -> Slot[T]:
        """The slot whose full key is ``key`` (a callback gets the key as an argument)."""
        if not key.startswith(self.prefix):
            raise KeyError(f"{key!r} is not a key of the family {self.prefix!r}")
        return self.slot(key[len(self.prefix):])


def _default_budget() -> int:
    from livechat.ui.state import DEFAULT_BUDGET

    return DEFAULT_BUDGET


# ----------------------------------------------------------------------------- data (state.py, tables.py)
DATASET: Slot[CurrentDataset | None] = Slot("dataset", "livechat.ui.state:CurrentDataset", _none)
BUDGET: Slot[int] = Slot("instruction_budget", int, _default_budget)
LOAD_ERROR: Slot[LoadFailure | None] = Slot("load_error", "livechat.ui.state:LoadFailure", _none)
DEFINITIONS: Slot[KeptDefinitions | None] = Slot("definitions", "livechat.ui.state:KeptDefinitions", _none)
DEFINITIONS_ERROR: Slot[str | None] = Slot("definitions_error", str, _none)
UPLOAD_ROUND: Slot[int] = Slot("upload_round", int, int)
FIGURE_MARKS: Slot[bool] = Slot("figure_marks", bool, lambda: True)
TABLE_SET: Slot[CurrentTableSet | None] = Slot("tableset", "livechat.ui.tables:CurrentTableSet", _none)
SET_PROBLEMS: Slot[SetProblems | None] = Slot("tableset.problems", "livechat.ui.tables:SetProblems", _none)

# ----------------------------------------------------------------------------- the Talk page
TALK_TABLES_SEEN: Slot[str | None] = Slot("talk.tables_seen", str, _none)  # the tables' identity last run
BRIDGE: Slot[VoiceBridge | None] = Slot("talk.bridge", "livechat.voice.bridge:VoiceBridge", _none)
BRIDGE_OBSERVER: Slot[SessionShutdownObserver | None] = Slot("talk.bridge_observer", "streamlit_webrtc.shutdown:SessionShutdownObserver", _none)
BRIDGE_COUNT: Slot[int] = Slot("talk.bridge_count", int, int)
PLAYBACK_SEEN: Slot[PlaybackStats | None] = Slot("talk.playback_seen", "livechat.audio.playback:PlaybackStats", _none)
PREPARED_REPORT: Slot[Any] = Slot("talk.prepared_report", object, _none)
FIRST_QUESTION: Slot[str | None] = Slot("talk.first_question", str, _none)
VOICE_STOP: Slot[bool] = Slot("talk.voice_stop", bool, lambda: False)  # a limit ended the call: stop WebRTC
FIRST_QUESTION_ASKED: Slot[int | None] = Slot("talk.first_question_asked", int, _none)  # id() of the transcript
# The ToolBox of the tables the session shows: held here so it (its tables and SQL worker)
# lives while a session uses it and goes when none does (livechat.ui.toolboxes).
TOOLBOX: Slot[ToolBox | None] = Slot("talk.toolbox", "livechat.tools.toolbox:ToolBox", _none)

# ----------------------------------------------------------------------------- conversations (store)
TRANSCRIPT: Slot[Transcript | None] = Slot("talk.transcript", Transcript, _none)
CONVERSATION_ID: Slot[str | None] = Slot("talk.conversation_id", str, _none)
RESTORE_NOTE: Slot[tuple[int, str] | None] = Slot("talk.restore_note", tuple, _none)
SAVED_VERSION: Slot[int | None] = Slot("store.saved_version", int, _none)
SAVED_TABLES: Slot[tuple[Any, ...] | None] = Slot("store.saved_tables", tuple, _none)
RESTORED: Slot[bool] = Slot("store.restored", bool, lambda: False)
TABLE_PROBLEMS: Slot[tuple[str, ...] | None] = Slot("store.table_problems", tuple, _none)
SNAPSHOTS: Slot[RecordSnapshots] = Slot("store.snapshots", RecordSnapshots, RecordSnapshots)
DELETED: Slot[frozenset[str]] = Slot("store.deleted", frozenset, frozenset)  # deleted here, maybe not yet stored

# ----------------------------------------------------------------------------- access (livechat.ui.access)
ANALYST: Slot[Analyst | None] = Slot("access.analyst", Analyst, _none)  # set by the gate on every run
AUDITED: Slot[str | None] = Slot("access.audited", str, _none)  # the sign-in (or refusal) this session recorded
# A visitor's own Gemini key (key_policy = "visitor"): this session's server memory only.
VISITOR_KEY: Slot[VisitorKey | None] = Slot("access.visitor_key", "livechat.access.visitor:VisitorKey", _none)
VISITOR_KEY_PROBLEM: Slot[str | None] = Slot("access.visitor_key_problem", str, _none)

# ----------------------------------------------------------------------------- ICE / TURN, replicas, webrtc
TURN_ID: Slot[str | None] = Slot("ice.turn_id", str, _none)
TURN_CREDENTIALS: Slot[TurnCredentials | None] = Slot("ice.turn_credentials", "livechat.config:TurnCredentials", _none)
RELAY_ONLY: Slot[bool] = Slot("ice.relay_only", bool, lambda: False)
SIGNALLING_SINCE: Slot[float | None] = Slot("ice.signalling_since", (int, float), _none)
RELAY_REPORTED: Slot[bool] = Slot("ice.relay_reported", bool, lambda: False)
MOVED_FROM: Slot[str | None] = Slot("replica.moved_from", str, _none)
PAGE_RUN_COUNT: Slot[int] = Slot("webrtc.page_run_count", int, int)
SHELL_DRAWN: Slot[bool] = Slot("shell.drawn", bool, lambda: False)  # a run of this session drew the shell
# streamlit-webrtc's own keys: its context under the component key, the frontend's value
# under the key ``generate_frontend_component_key`` makes. Read only, never written here.
WEBRTC_CONTEXT: SlotFamily[Any] = SlotFamily("", object, _none, widget=True, foreign=True)

# ----------------------------------------------------------------------------- widgets
UPLOAD_WIDGET: Slot[Any] = Slot("widget.upload", object, _none, widget=True)  # round 0; see state.upload_widget_key
UPLOAD_WIDGETS: SlotFamily[Any] = SlotFamily("widget.upload.", object, _none, widget=True)  # rounds 1, 2, ...
BUDGET_WIDGET: Slot[Any] = Slot("widget.budget", object, _none, widget=True)
SHEET_WIDGETS: SlotFamily[Any] = SlotFamily("widget.sheet.", object, _none, widget=True)
ENCODING_WIDGETS: SlotFamily[Any] = SlotFamily("widget.encoding.", object, _none, widget=True)
HEADER_WIDGETS: SlotFamily[Any] = SlotFamily("widget.header_row.", object, _none, widget=True)
FIGURE_MARKS_WIDGET: Slot[bool] = Slot("widget.figure_marks", bool, lambda: True, widget=True)
TICK_WIDGETS: SlotFamily[bool] = SlotFamily("widget.table_tick.", bool, lambda: False, widget=True)
VIEW_WIDGETS: SlotFamily[Any] = SlotFamily("widget.table_view.", object, _none, widget=True)
TALK_QUESTION_WIDGET: Slot[Any] = Slot("widget.talk.question", object, _none, widget=True)
PROCESSING_WIDGET: Slot[Any] = Slot("widget.talk.audio_processing", object, _none, widget=True)
AUTOPLAY_WIDGET: Slot[bool] = Slot("widget.talk.autoplay", bool, lambda: False, widget=True)
PREPARE_REPORT_WIDGET: Slot[Any] = Slot("widget.talk.prepare_report", object, _none, widget=True)
DOWNLOAD_ZIP_WIDGET: Slot[Any] = Slot("widget.talk.download_zip", object, _none, widget=True)
DOWNLOAD_HTML_WIDGET: Slot[Any] = Slot("widget.talk.download_html", object, _none, widget=True)
NEW_CONVERSATION_WIDGET: Slot[Any] = Slot("widget.conversation.new", object, _none, widget=True)
DELETE_CONVERSATION_WIDGET: Slot[Any] = Slot("widget.conversation.delete", object, _none, widget=True)
OPEN_CONVERSATION_WIDGETS: SlotFamily[Any] = SlotFamily("widget.conversation.open.", object, _none, widget=True)
FIRST_QUESTION_WIDGETS: SlotFamily[Any] = SlotFamily("widget.first_question.", object, _none, widget=True)
TRUSTED_QUESTION_WIDGETS: SlotFamily[Any] = SlotFamily("widget.save_trusted.question.", object, _none, widget=True)
TRUSTED_FORMS: SlotFamily[Any] = SlotFamily("widget.save_trusted_form.", object, _none, widget=True)
TERMS_WIDGETS: SlotFamily[Any] = SlotFamily("widget.definitions.terms.", object, _none, widget=True)
SAVE_TERMS_WIDGET: Slot[Any] = Slot("widget.definitions.save_terms", object, _none, widget=True)
REMOVE_TRUSTED_WIDGETS: SlotFamily[Any] = SlotFamily("widget.definitions.remove.", object, _none, widget=True)
USAGE_TRAIL_WIDGET: Slot[Any] = Slot("widget.settings.usage_trail", object, _none, widget=True)
DOWNLOAD_DEFINITIONS_WIDGET: Slot[Any] = Slot("widget.definitions.download", object, _none, widget=True)
SIGN_IN_WIDGET: Slot[Any] = Slot("widget.access.sign_in", object, _none, widget=True)
SIGN_OUT_WIDGET: Slot[Any] = Slot("widget.access.sign_out", object, _none, widget=True)
VISITOR_KEY_FORM: Slot[Any] = Slot("widget.access.visitor_key_form", object, _none, widget=True)
VISITOR_KEY_WIDGET: Slot[Any] = Slot("widget.access.visitor_key", object, _none, widget=True)
FORGET_KEY_WIDGET: Slot[Any] = Slot("widget.access.forget_key", object, _none, widget=True)
CHART_WIDGETS: SlotFamily[Any] = SlotFamily("widget.chart.", object, _none, widget=True)  # per table, per chart
# streamlit-webrtc components and tracks, keyed by us, valued by the library (the DOM
# contract names "voice": shared/E2E.md).
VOICE_COMPONENT: Slot[Any] = Slot("voice", object, _none, widget=True, foreign=True)
UPLINK_TRACK: Slot[Any] = Slot("voice-uplink", object, _none, widget=True, foreign=True)
