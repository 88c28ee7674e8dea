"""What the admin's Usage section shows: per analyst today and over 30 days, and the
deployment's voice minutes today against its cap. Read from the daily counters
(``ledger``), so it costs one small query whatever the history's length.
"""

from __future__ import annotations

from dataclasses import dataclass

from livechat.store.repository import ConversationStore
from livechat.usage.decide import Figures, day_of
from livechat.usage.ledger import daily_rows, days_ago
from livechat.usage.limits import Limits

__all__ = ["REPORT_DAYS", "AnalystUsage", "UsageReport", "usage_report"]

REPORT_DAYS = 30


@dataclass(frozen=True)
class AnalystUsage:
    """One analyst's figures today and over the report's days (today included)."""

    analyst: str
    today: Figures
    period: Figures


@dataclass(frozen=True)
class UsageReport:
    """The Usage section: analysts (most minutes in the period first) and the deployment."""

    day: str
    days: int
    analysts: list[AnalystUsage]
    deployment_minutes_today: float
    cap_minutes: float | None  # voice_minutes_per_day_total, None when unset


def _sum(a: Figures, b: Figures) -> Figures:
    return Figures(a.seconds + b.seconds, a.tokens + b.tokens, a.tool_calls + b.tool_calls, a.calls + b.calls)


def usage_report(store: ConversationStore, limits: Limits, *, now: float, days: int = REPORT_DAYS) -> UsageReport:
    """The report for the ``days`` UTC days up to and including today. Raises StoreError."""
    today = day_of(now)
    by_analyst: dict[str, tuple[Figures, Figures]] = {}
    deployment = 0.0
    for row in daily_rows(store, since=days_ago(now, days - 1), now=now):
        current, period = by_analyst.get(row.analyst, (Figures(), Figures()))
        if row.day == today:
            current = row.figures
            deployment += row.figures.seconds
        by_analyst[row.analyst] = (current, _sum(period, row.figures))
    analysts = [AnalystUsage(name, current, period) for name, (current, period) in by_analyst.items()]
    analysts.sort(key=lambda a: (-a.period.seconds, -a.period.tokens, a.analyst))
    return UsageReport(day=today, days=days, analysts=analysts, deployment_minutes_today=deployment / 60.0,
                       cap_minutes=limits.voice_minutes_per_day_total)
