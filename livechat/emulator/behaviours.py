"""The service behaviours in force on one connection: the options, plus ``--like-service``.

``EmulatorOptions`` switches each rough edge of the real service on by hand;
``like_service`` switches on every one the public reports describe for the
session's model (``ModelRules.service_behaviours``, sources in models.py and
``shared/LIVE_PROTOCOL.md`` section 8). An option set by hand wins over the
like-service value where both give a number or a close.

Pure: ``resolve`` is unit-tested; the conversation calls it whenever the options
object changes, so ``set_options`` applies to open connections too (timers
excepted: they are fixed when a connection opens).
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import MID_CALL_1007, PERIODIC_1008, ModelRules
from .options import EmulatorOptions

# 2.5 native audio: "1007 The audio content type (CONTENT_TYPE_AUDIO) is not supported for this model
# configuration." 20 s to minutes into healthy calls (hkjarral/AVA-AI-Voice-Agent-for-Asterisk #496, #541, #598).
CONTENT_TYPE_AUDIO_REASON = ("The audio content type (CONTENT_TYPE_AUDIO) is not supported for this model "
                             "configuration.")
LIKE_SERVICE_1007_AFTER_S = 60.0
# 3.1: "1008 The operation was aborted" every ~170-185 s without goAway (autonomous-ai/autonomous-os #238).
OPERATION_ABORTED_REASON = "The operation was aborted"
LIKE_SERVICE_1008_AFTER_S = 175.0
# 3.8 was measured delivering the user's line ~12 s after a 4 s sentence, i.e. after the reply
# (LIVE_PROTOCOL 8.5); set late_input_transcription_s by hand for a shorter delay in tests.
LIKE_SERVICE_LATE_TRANSCRIPTION_S = 12.0


@dataclass(frozen=True)
class Behaviours:
    """What one connection does, resolved from the options and the model's rules."""

    refuse_input_during_tool_call: bool = False
    stall_after_tool_response: bool = False
    late_input_transcription_s: float | None = None
    incremental_input_transcription: bool = False
    no_interrupted_event: bool = False
    usage_placement: str = "turn_complete"
    empty_frames: bool = False
    unresumable_during_tool_calls: bool = False
    multipart_messages: bool = False
    separate_parallel_calls: bool = False
    go_away_close: str = "lingering"
    # (seconds after the connection opens, code, reason) of a close the model is reported to send
    model_close: tuple[float, int, str] | None = None

    def active(self) -> list[str]:
        """Names of the behaviours that differ from the emulator's defaults (for the session record)."""
        default = Behaviours()
        return [name for name in self.__dataclass_fields__ if getattr(self, name) != getattr(default, name)]


def resolve(options: EmulatorOptions, rules: ModelRules) -> Behaviours:
    """The behaviours of a connection to ``rules.id`` under ``options``."""
    like = rules.service_behaviours if options.like_service else frozenset()
    late = options.late_input_transcription_s
    if late is None and "late_input_transcription_s" in like:
        late = LIKE_SERVICE_LATE_TRANSCRIPTION_S
    model_close = None
    if MID_CALL_1007 in like:
        model_close = (LIKE_SERVICE_1007_AFTER_S, 1007, CONTENT_TYPE_AUDIO_REASON)
    elif PERIODIC_1008 in like:
        model_close = (LIKE_SERVICE_1008_AFTER_S, 1008, OPERATION_ABORTED_REASON)
    if options.close_every_s is not None:
        model_close = None  # the close set by hand replaces the model's
    go_away_close = options.go_away_close
    if go_away_close == "lingering" and "go_away_close" in like:
        go_away_close = "service"
    return Behaviours(
        refuse_input_during_tool_call=options.refuse_input_during_tool_call or "refuse_input_during_tool_call" in like,
        stall_after_tool_response=options.stall_after_tool_response or "stall_after_tool_response" in like,
        late_input_transcription_s=late,
        incremental_input_transcription=(options.incremental_input_transcription
                                         or "incremental_input_transcription" in like),
        no_interrupted_event=options.no_interrupted_event or "no_interrupted_event" in like,
        usage_placement="service" if "usage_placement" in like else options.usage_placement,
        empty_frames=options.empty_frames or "empty_frames" in like,
        unresumable_during_tool_calls=(options.unresumable_during_tool_calls
                                       or "unresumable_during_tool_calls" in like),
        multipart_messages=options.multipart_messages or "multipart_messages" in like,
        separate_parallel_calls=options.separate_parallel_calls or "separate_parallel_calls" in like,
        go_away_close=go_away_close,
        model_close=model_close,
    )
