"""Decisions about budgets, as pure functions of the limits, the figures and the time.

``refusal`` answers "may this call (or this reconnection) get a token?" and, when not,
names the limit and when it resets (daily limits at the next UTC midnight). ``time_left``
answers "how long may this call go on?" and names the limit that would end it. Times are
UTC epoch seconds; a day is a UTC calendar day (``day_of``).

Pure; any thread.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from livechat.usage.limits import Limits

__all__ = ["Figures", "Refusal", "Standing", "day_of", "format_left", "next_reset", "refusal", "time_left"]

_UTC = dt.timezone.utc


def day_of(at: float) -> str:
    """The UTC day ``at`` falls on, ``YYYY-MM-DD`` (the key daily counts are kept under)."""
    return dt.datetime.fromtimestamp(at, _UTC).strftime("%Y-%m-%d")


def next_reset(at: float) -> float:
    """The next UTC midnight after ``at``: when daily limits start again."""
    day = dt.datetime.fromtimestamp(at, _UTC).date()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), _UTC).timestamp()


def format_left(seconds: float) -> str:
    """"3 h 12 min", "12 min", "40 s": how long until something, for a sentence."""
    seconds = max(0, int(math.ceil(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min" if not secs else f"{minutes} min {secs} s"
    return f"{secs} s"


def _minutes(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Figures:
    """What one analyst used on one UTC day."""

    seconds: float = 0.0  # voice: wall time of connected calls
    tokens: int = 0
    tool_calls: int = 0
    calls: int = 0  # voice calls started


@dataclass(frozen=True)
class Standing:
    """What a decision looks at: the analyst's day, the deployment's voice time today, and
    the analyst's other open voice calls (on any replica)."""

    analyst: Figures = Figures()
    deployment_seconds: float = 0.0
    open_calls: int = 0


@dataclass(frozen=True)
class Refusal:
    """A limit that stops a call: which one, its value, and when it allows again.

    ``resets_at`` is the next UTC midnight for daily limits, None for the per-call and
    concurrency limits (those free up when a call ends)."""

    limit: str
    value: float | int
    resets_at: float | None
    at: float  # when the decision was made (for "in 3 h")

    @property
    def message(self) -> str:
        """One sentence for the analyst: what ran out, the setting, when it resets."""
        what = {
            "voice_minutes_per_day": f"Your voice minutes for today are used up ({_minutes(self.value)} min a day)",
            "tokens_per_day": f"Your tokens for today are used up ({self.value:,} a day)",
            "tool_calls_per_day": f"Your tool calls for today are used up ({self.value:,} a day)",
            "voice_minutes_per_day_total": ("This deployment's voice minutes for today are used up "
                                            f"({_minutes(self.value)} min a day for everyone)"),
            "max_call_minutes": f"This call reached the longest a call may last ({_minutes(self.value)} min)",
            "max_concurrent_calls": f"You already have the most calls open at once ({self.value})",
        }[self.limit]
        if self.resets_at is not None:
            when = dt.datetime.fromtimestamp(self.resets_at, _UTC).strftime("%H:%M UTC")
            return f"{what}, limit {self.limit}. It resets at {when} (in {format_left(self.resets_at - self.at)})."
        if self.limit == "max_call_minutes":
            return f"{what}, limit {self.limit}. Start a new call to go on."
        return f"{what}, limit {self.limit}. End another call to start this one."

    def warning(self, seconds_left: float) -> str:
        """The notice before the end: when the call ends, and which limit ends it."""
        unit = " min" if self.limit in ("voice_minutes_per_day", "max_call_minutes",
                                        "voice_minutes_per_day_total") else ""
        value = _minutes(self.value) if unit else f"{self.value:,}"
        when = "now" if seconds_left <= 0 else f"in {format_left(seconds_left)}"
        return f"This call ends {when}: limit {self.limit} ({value}{unit}) is reached."

    @property
    def ending(self) -> str:
        """The notice at the end."""
        return f"The call was ended. {self.message}"


def refusal(limits: Limits, standing: Standing, *, now: float, voice: bool,
            call_seconds: float = 0.0) -> Refusal | None:
    """The first limit that forbids a token now, or None.

    ``voice``: the call carries voice (minutes, the call length and concurrency apply; a
    typed-only session is held to tokens and tool calls). ``call_seconds``: how long this
    call has been connected (a reconnection's mint checks the call length)."""
    reset = next_reset(now)
    mine = standing.analyst
    checks: list[tuple[str, float | int | None, float, float | None]] = [
        ("tokens_per_day", limits.tokens_per_day, mine.tokens, reset),
        ("tool_calls_per_day", limits.tool_calls_per_day, mine.tool_calls, reset),
    ]
    if voice:
        checks = [
            ("max_concurrent_calls", limits.max_concurrent_calls, standing.open_calls, None),
            ("max_call_minutes", _seconds(limits.max_call_minutes), call_seconds, None),
            ("voice_minutes_per_day", _seconds(limits.voice_minutes_per_day), mine.seconds, reset),
            ("voice_minutes_per_day_total", _seconds(limits.voice_minutes_per_day_total),
             standing.deployment_seconds, reset),
            *checks,
        ]
    for name, cap, used, resets in checks:
        if cap is not None and used >= cap:
            return Refusal(name, getattr(limits, name), resets, now)
    return None


def time_left(limits: Limits, standing: Standing, *, now: float, voice: bool,
              call_seconds: float) -> tuple[float, Refusal] | None:
    """Seconds until the nearest limit ends this call, and that limit; None when none can.

    Minutes run down with the call; tokens and tool calls cannot be foreseen, so once
    used up they leave 0 seconds (the call ends at once)."""
    reset = next_reset(now)
    mine = standing.analyst
    found: list[tuple[float, str, float | None]] = []
    if limits.tokens_per_day is not None and mine.tokens >= limits.tokens_per_day:
        found.append((0.0, "tokens_per_day", reset))
    if limits.tool_calls_per_day is not None and mine.tool_calls >= limits.tool_calls_per_day:
        found.append((0.0, "tool_calls_per_day", reset))
    if voice:
        for name, cap, used, resets in (
            ("max_call_minutes", _seconds(limits.max_call_minutes), call_seconds, None),
            ("voice_minutes_per_day", _seconds(limits.voice_minutes_per_day), mine.seconds, reset),
            ("voice_minutes_per_day_total", _seconds(limits.voice_minutes_per_day_total),
             standing.deployment_seconds, reset),
        ):
            if cap is not None:
                found.append((max(0.0, cap - used), name, resets))
    if not found:
        return None
    seconds, name, resets = min(found, key=lambda item: item[0])
    return seconds, Refusal(name, getattr(limits, name), resets, now)


def _seconds(minutes: float | None) -> float | None:
    return None if minutes is None else minutes * 60.0
