"""``EmulatorOptions``: the emulator's behaviour knobs and fault-injection switches.

A frozen dataclass, so a running server swaps the whole object atomically
(``EmulatorServer.set_options``) and readers on the server thread never see a
half-applied change. Every field is also a CLI flag (``__main__`` derives the
flags from ``fields()``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import EmulatorOptionsError
from .scripted import ScriptedReply, load_replies

# Close codes a server may put in a close frame (RFC 6455 7.4), plus 1006,
# which the emulator turns into an abrupt TCP drop (no close frame at all).
_SENDABLE_CLOSE_CODES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
ABRUPT_DROP = 1006
_KNOWN_VERSIONS = ("v1alpha", "v1beta", "v1")
USAGE_PLACEMENTS = ("turn_complete", "service")
GO_AWAY_CLOSES = ("lingering", "deadline", "service")


@dataclass(frozen=True)
class EmulatorOptions:
    """Behaviour and faults of an ``EmulatorServer`` (all fields optional).

    Durations are seconds unless the name says ``_ms``. ``None`` disables a
    timer or fault. See the package README section "The emulator".
    """

    require_api_key: bool = True
    # LIVE_PROTOCOL 1.6: whether nested mask paths such as systemInstruction.parts
    # are valid. generationConfig.<field> is always valid (the documented safe form).
    accept_nested_mask_paths: bool = True
    token_versions: tuple[str, ...] = ("v1alpha",)
    vad_silence_ms: int = 600
    vad_threshold_dbfs: float = -45.0
    vad_min_speech_ms: int = 200
    speak_chunk_ms: int = 40
    # How fast the model speaks (espeak-ng words per minute; 80-450). Tests whose subject
    # is not a reply's length speak faster: every reply is heard in real time.
    speech_wpm: int = 190
    realtime: bool = True
    # With realtime pacing, reply audio is sent this far ahead of real time so a client's
    # playback never starves (a larger lead makes a client's flush on barge-in observable).
    pacing_lead_s: float = 0.2
    session_duration_limit_s: float | None = None
    connection_lifetime_s: float | None = None
    # faults
    refuse_auth: bool = False
    close_after_messages: int | None = None
    close_code: int = 1011
    setup_delay_s: float = 0.0
    go_away_after_s: float | None = None
    go_away_time_left_s: float = 1.0
    malformed_after_messages: int | None = None
    pong_delay_s: float = 0.0
    refuse_resumption: bool = False
    spurious_interrupt_after_s: float | None = None
    # The service's rough edges (shared/LIVE_PROTOCOL.md section 8; each one's source is cited
    # where it is acted on, mostly conversation.py and faults.py). Defaults keep the emulator's
    # earlier behaviour.
    close_reason: str | None = None  # reason of close_after_messages / close_every_s closes
    close_every_s: float | None = None  # every connection closed T s after it opens, mid-reply or not
    refuse_input_during_tool_call: bool = False
    stall_after_tool_response: bool = False
    late_input_transcription_s: float | None = None
    incremental_input_transcription: bool = False
    no_interrupted_event: bool = False
    usage_placement: str = "turn_complete"  # or "service"
    empty_frames: bool = False
    unresumable_during_tool_calls: bool = False
    multipart_messages: bool = False
    separate_parallel_calls: bool = False  # parallel calls as one toolCall message each
    go_away_close: str = "lingering"  # after goAway: "lingering" 1008, "deadline" 1011, "service" either
    like_service: bool = False  # every behaviour the reports describe for the session's model
    # A JSON Lines file of scripted replies (scripted.py): which question gets which tool call and words.
    replies: str | None = None

    def __post_init__(self) -> None:
        # Accept a list from callers and CLI parsing; store a tuple (hashable, frozen).
        object.__setattr__(self, "token_versions", tuple(self.token_versions))
        if self.replies is not None and not isinstance(self.replies, str):
            raise EmulatorOptionsError(f"replies must be None or a file path, got {self.replies!r}")
        # Read once, here: a bad file fails at start-up, not in the middle of a session.
        object.__setattr__(self, "_scripted", load_replies(self.replies) if self.replies else ())
        for version in self.token_versions:
            if version not in _KNOWN_VERSIONS:
                raise EmulatorOptionsError(
                    f"token_versions must only contain {', '.join(_KNOWN_VERSIONS)}, got {version!r}")
        _positive_int("vad_silence_ms", self.vad_silence_ms)
        _positive_int("vad_min_speech_ms", self.vad_min_speech_ms)
        _positive_int("speak_chunk_ms", self.speak_chunk_ms)
        if not isinstance(self.speech_wpm, int) or isinstance(self.speech_wpm, bool) or not 80 <= self.speech_wpm <= 450:
            raise EmulatorOptionsError(f"speech_wpm must be an integer from 80 to 450, got {self.speech_wpm!r}")
        if not -120.0 <= float(self.vad_threshold_dbfs) <= 0.0:
            raise EmulatorOptionsError(
                f"vad_threshold_dbfs must be between -120 and 0 dBFS, got {self.vad_threshold_dbfs!r}")
        for name in ("session_duration_limit_s", "connection_lifetime_s", "go_away_after_s",
                     "spurious_interrupt_after_s", "close_every_s", "late_input_transcription_s"):
            _optional_non_negative(name, getattr(self, name))
        for name in ("setup_delay_s", "go_away_time_left_s", "pong_delay_s", "pacing_lead_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise EmulatorOptionsError(f"{name} must be a number >= 0, got {value!r}")
        for name in ("close_after_messages", "malformed_after_messages"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise EmulatorOptionsError(f"{name} must be None or an integer >= 1, got {value!r}")
        if self.usage_placement not in USAGE_PLACEMENTS:
            raise EmulatorOptionsError(
                f"usage_placement must be one of {', '.join(USAGE_PLACEMENTS)}, got {self.usage_placement!r}")
        if self.go_away_close not in GO_AWAY_CLOSES:
            raise EmulatorOptionsError(
                f"go_away_close must be one of {', '.join(GO_AWAY_CLOSES)}, got {self.go_away_close!r}")
        if self.close_reason is not None and not isinstance(self.close_reason, str):
            raise EmulatorOptionsError(f"close_reason must be None or a string, got {self.close_reason!r}")
        if self.close_code not in _SENDABLE_CLOSE_CODES | {ABRUPT_DROP} and not 3000 <= self.close_code <= 4999:
            raise EmulatorOptionsError(
                "close_code must be a close code a server may send (1000-1003, 1007-1014, 3000-4999) "
                f"or 1006 for an abrupt drop, got {self.close_code!r}")

    @property
    def scripted_replies(self) -> tuple[ScriptedReply, ...]:
        """The rules of the ``replies`` file, in order (empty without one)."""
        return self._scripted  # type: ignore[attr-defined, no-any-return]

    def replace(self, **changes: Any) -> "EmulatorOptions":
        """Return a copy with ``changes`` applied; unknown names are an error."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise EmulatorOptionsError(
                f"EmulatorOptions has no field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **changes)


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise EmulatorOptionsError(f"{name} must be an integer >= 1, got {value!r}")


def _optional_non_negative(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
        raise EmulatorOptionsError(f"{name} must be None or a number >= 0, got {value!r}")
