"""Fault injection and lifecycle timers, as plain decisions the conversation acts on.

Kept free of I/O so the rules are unit-testable: which timers a new connection
gets (goAway, forced close, spurious interruption, session duration cap), and
what to do after the N-th server message (send a malformed frame, close).
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import EmulatorOptions

# Reported on the service when a client ignores goAway until the deadline
# (pollen-robotics/reachy_mini_conversation_app#357; LIVE_PROTOCOL 8.3); cut to a close frame's 123 bytes.
GO_AWAY_CLOSE_REASON = ("Connection aborted because the client failed to close the connection after "
                        "receiving a GoAway signal once the session duration expired")
GO_AWAY_CLOSE_CODE = 1008
# The service's text (LIVE_PROTOCOL 8.3); its close code is not reported, 1011 is the emulator's choice.
SESSION_LIMIT_REASON = ("The session duration limit was reached. Connection closed. You may reconnect and resume "
                        "this session using your resumption handle.")
SESSION_LIMIT_CODE = 1011
# After goAway {"timeLeft": "50s"}, a connection still busy at the deadline is closed with this
# (LIVE_PROTOCOL 8.3; the GO_AWAY_CLOSE_REASON above is what a merely lingering client gets).
DEADLINE_EXPIRED_REASON = "Deadline expired before operation could complete."
DEADLINE_EXPIRED_CODE = 1011
INJECTED_CLOSE_REASON = "Internal error encountered."
# The service sends goAway about 60 s before a connection's end.
GO_AWAY_LEAD_S = 60.0


@dataclass(frozen=True)
class Timer:
    """Do ``action`` ``delay_s`` seconds after the connection's setupComplete."""

    delay_s: float
    action: str  # "go_away" | "close" | "go_away_deadline" (1011 if busy, else 1008) | "spurious_interrupt"
    time_left_s: float = 0.0
    code: int = 0
    reason: str = ""


def connection_timers(options: EmulatorOptions, *, compression: bool, session_age_s: float,
                      go_away_close: str = "lingering",
                      model_close: tuple[float, int, str] | None = None) -> list[Timer]:
    """The timers of a new connection.

    ``session_age_s`` is how long the conversation has already run (resumed
    sessions keep counting towards ``session_duration_limit_s``, which does not
    apply when the effective setup enables context-window compression).
    ``go_away_close`` is how a goAway deadline closes (``Behaviours.go_away_close``);
    ``model_close`` a close the model is reported to send (``Behaviours.model_close``).
    """
    timers: list[Timer] = []
    if options.go_away_after_s is not None:
        left = options.go_away_time_left_s
        timers.append(Timer(options.go_away_after_s, "go_away", time_left_s=left))
        timers.append(_deadline(options.go_away_after_s + left, go_away_close))
    if options.connection_lifetime_s is not None:
        lifetime = options.connection_lifetime_s
        notice = max(0.0, lifetime - GO_AWAY_LEAD_S)
        timers.append(Timer(notice, "go_away", time_left_s=lifetime - notice))
        timers.append(_deadline(lifetime, go_away_close))
    if options.close_every_s is not None:
        # Mid-call closes the service sends with no goAway: 2.5's 1007 CONTENT_TYPE_AUDIO
        # (hkjarral/AVA-AI-Voice-Agent-for-Asterisk #496, #541, #598), 3.1's 1008 "The operation
        # was aborted" every ~170-185 s (autonomous-ai/autonomous-os #238).
        timers.append(Timer(options.close_every_s, "close", code=options.close_code,
                            reason=options.close_reason or INJECTED_CLOSE_REASON))
    if model_close is not None:
        timers.append(Timer(model_close[0], "close", code=model_close[1], reason=model_close[2]))
    if options.session_duration_limit_s is not None and not compression:
        remaining = max(0.0, options.session_duration_limit_s - session_age_s)
        timers.append(Timer(remaining, "close", code=SESSION_LIMIT_CODE, reason=SESSION_LIMIT_REASON))
    if options.spurious_interrupt_after_s is not None:
        timers.append(Timer(options.spurious_interrupt_after_s, "spurious_interrupt"))
    return sorted(timers, key=lambda timer: timer.delay_s)


def _deadline(delay_s: float, go_away_close: str) -> Timer:
    if go_away_close == "deadline":
        return Timer(delay_s, "close", code=DEADLINE_EXPIRED_CODE, reason=DEADLINE_EXPIRED_REASON)
    if go_away_close == "service":
        return Timer(delay_s, "go_away_deadline")
    return Timer(delay_s, "close", code=GO_AWAY_CLOSE_CODE, reason=GO_AWAY_CLOSE_REASON)


def after_server_message(options: EmulatorOptions, sent: int) -> list[str]:
    """Faults due right after the ``sent``-th server message: "malformed" and/or "close"."""
    actions: list[str] = []
    if options.malformed_after_messages is not None and sent == options.malformed_after_messages:
        actions.append("malformed")
    if options.close_after_messages is not None and sent == options.close_after_messages:
        actions.append("close")
    return actions


def duration_string(seconds: float) -> str:
    """A proto ``Duration`` in JSON form, e.g. ``1s`` or ``0.250s``."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.3f}s"
