"""Fault injection and lifecycle timers, as plain decisions the conversation acts on.

Kept free of I/O so the rules are unit-testable: which timers a new connection
gets (goAway, forced close, spurious interruption, session duration cap), and
what to do after the N-th server message (send a malformed frame, close).
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import EmulatorOptions

# Reported on the service when a client ignores goAway until the deadline
# (pollen-robotics/reachy_mini_conversation_app#357); cut to a close frame's 123 bytes.
GO_AWAY_CLOSE_REASON = ("Connection aborted because the client failed to close the connection after "
                        "receiving a GoAway signal once the session duration expired")
GO_AWAY_CLOSE_CODE = 1008
SESSION_LIMIT_REASON = "Session duration limit reached. Enable context window compression for longer sessions."
SESSION_LIMIT_CODE = 1011
INJECTED_CLOSE_REASON = "Internal error encountered."
# The service sends goAway about 60 s before a connection's end.
GO_AWAY_LEAD_S = 60.0


@dataclass(frozen=True)
class Timer:
    """Do ``action`` ``delay_s`` seconds after the connection's setupComplete."""

    delay_s: float
    action: str  # "go_away" | "close" | "spurious_interrupt"
    time_left_s: float = 0.0
    code: int = 0
    reason: str = ""


def connection_timers(options: EmulatorOptions, *, compression: bool, session_age_s: float) -> list[Timer]:
    """The timers of a new connection.

    ``session_age_s`` is how long the conversation has already run (resumed
    sessions keep counting towards ``session_duration_limit_s``, which does not
    apply when the effective setup enables context-window compression).
    """
    timers: list[Timer] = []
    if options.go_away_after_s is not None:
        left = options.go_away_time_left_s
        timers.append(Timer(options.go_away_after_s, "go_away", time_left_s=left))
        timers.append(Timer(options.go_away_after_s + left, "close",
                            code=GO_AWAY_CLOSE_CODE, reason=GO_AWAY_CLOSE_REASON))
    if options.connection_lifetime_s is not None:
        lifetime = options.connection_lifetime_s
        notice = max(0.0, lifetime - GO_AWAY_LEAD_S)
        timers.append(Timer(notice, "go_away", time_left_s=lifetime - notice))
        timers.append(Timer(lifetime, "close", code=GO_AWAY_CLOSE_CODE, reason=GO_AWAY_CLOSE_REASON))
    if options.session_duration_limit_s is not None and not compression:
        remaining = max(0.0, options.session_duration_limit_s - session_age_s)
        timers.append(Timer(remaining, "close", code=SESSION_LIMIT_CODE, reason=SESSION_LIMIT_REASON))
    if options.spurious_interrupt_after_s is not None:
        timers.append(Timer(options.spurious_interrupt_after_s, "spurious_interrupt"))
    return sorted(timers, key=lambda timer: timer.delay_s)


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
