"""The session's budgets hook (livechat.live.guard): what events mean for a guard, and the
watch that warns first, then ends the call."""

from __future__ import annotations

import asyncio
from typing import Any

from livechat.live.events import (Notice, SessionState, StateChanged, ToolCallFinished, ToolCallStarted,
                                   TranscriptUpdate, Usage)
from livechat.live.guard import WARN_BEFORE_S, GuardFeed, Verdict, watch_limits


class _Guard:
    """A recording guard whose verdict is a scripted sequence of seconds left."""

    def __init__(self, left: list[float | None] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._left = list(left or [])

    def before_mint(self) -> None:
        self.calls.append(("mint", None))

    def connected(self, on: bool) -> None:
        self.calls.append(("connected", on))

    def tokens(self, count: int) -> None:
        self.calls.append(("tokens", count))

    def tool_call(self, name: str, args: dict[str, Any], result: dict[str, Any] | None) -> None:
        self.calls.append(("tool", (name, args, result)))

    def verdict(self) -> Verdict | None:
        left = self._left.pop(0) if len(self._left) > 1 else self._left[0]
        if left is None:
            return None
        return Verdict(left, f"warn {left:g}", "ended")

    def ended(self, reason: str) -> None:
        self.calls.append(("ended", reason))


def test_the_feed_reports_connection_tokens_and_answered_tool_calls_with_their_sql():
    guard = _Guard()
    feed = GuardFeed(guard)
    for event in (StateChanged(SessionState.CONNECTING), StateChanged(SessionState.READY),
                  TranscriptUpdate(1, "user", "hi", True), Usage(10, 20, 30),
                  ToolCallStarted("c1", "run_sql", {"query": "SELECT 1"}),
                  ToolCallStarted("c2", "run_sql", {"query": "SELECT 2"}),
                  ToolCallFinished("c1", "run_sql", {"row_count": 1}),
                  ToolCallFinished("c2", "run_sql", None, cancelled=True),
                  StateChanged(SessionState.RECONNECTING)):
        feed(event)
    assert guard.calls == [("connected", False), ("connected", True), ("tokens", 30),
                           ("tool", ("run_sql", {"query": "SELECT 1"}, {"row_count": 1})),
                           ("connected", False)]


def test_the_watch_warns_once_then_returns_the_ending_when_nothing_is_left():
    emitted: list[Any] = []
    guard = _Guard([None, WARN_BEFORE_S + 30, WARN_BEFORE_S - 1, 0.5, 0.0])
    ending = asyncio.run(watch_limits(guard, emitted.append, tick_s=0.01))
    assert ending == "ended"
    assert emitted == [Notice(f"warn {WARN_BEFORE_S - 1:g}"), Notice("ended")]


def test_under_a_minute_left_from_the_start_warns_at_once():
    emitted: list[Any] = []
    asyncio.run(watch_limits(_Guard([3.0, 0.0]), emitted.append, tick_s=0.01))
    assert emitted == [Notice("warn 3"), Notice("ended")]


def test_a_failing_guard_never_ends_the_call():
    class Broken(_Guard):
        def verdict(self) -> Verdict | None:
            raise RuntimeError("bug")

    async def run() -> bool:
        task = asyncio.create_task(watch_limits(Broken(), lambda e: None, tick_s=0.01))
        await asyncio.sleep(0.1)
        running = not task.done()
        task.cancel()
        return running

    assert asyncio.run(run())
