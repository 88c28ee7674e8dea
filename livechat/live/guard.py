"""A session's guard: budgets checked before every token mint and watched during the call.

The live stage knows nothing of budgets, stores or analysts; it tells a ``SessionGuard``
what the session does, in plain calls, and asks it two questions:

- before each mint (the first connection and every reconnection): ``before_mint()``,
  which may refuse with ``LimitReached`` (the session then ends with that message);
- while the session runs, about once a second: ``verdict()``, the seconds until a limit
  ends the call and the words for it. ``watch_limits`` turns that into a transcript
  notice ``WARN_BEFORE_S`` before (or at once when less is left), then a clean end.

What the session reports: ``connected(True/False)`` as its connection comes and goes,
``tokens(n)`` once per completed turn (the turn's ``usageMetadata`` total), and
``tool_call(name, args, result)`` for each answered tool call; ``ended(reason)`` once.

Threads: ``before_mint`` runs in a worker thread (it may read the store); everything
else on the session's loop thread, and must be quick and never block.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from livechat.live.events import (Event, Notice, SessionState, StateChanged, ToolCallFinished, ToolCallStarted,
                                   Usage)

__all__ = ["WARN_BEFORE_S", "GuardFeed", "LimitReached", "SessionGuard", "Verdict", "watch_limits"]

logger = logging.getLogger(__name__)

WARN_BEFORE_S = 60.0  # the notice comes this long before a limit ends the call
_TICK_S = 1.0
_CONNECTED = frozenset({SessionState.READY, SessionState.LISTENING, SessionState.RESPONDING})


class LimitReached(Exception):
    """A budget refuses the token; ``message`` names the limit and when it resets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Verdict:
    """How long the call may go on, and what the analyst is told before and at the end."""

    seconds_left: float
    warning: str  # shown once, WARN_BEFORE_S before the end (or at once)
    ending: str  # shown when the call ends for it


class SessionGuard(Protocol):
    """What a session asks of its budgets (see the module docstring for threads)."""

    def before_mint(self) -> None: ...

    def connected(self, on: bool) -> None: ...

    def tokens(self, count: int) -> None: ...

    def tool_call(self, name: str, args: dict[str, Any], result: dict[str, Any] | None) -> None: ...

    def verdict(self) -> Verdict | None: ...

    def ended(self, reason: str) -> None: ...


class GuardFeed:
    """Tells a guard what each event the session emits means for budgets (loop thread).

    A tool call is reported when it ends, with the arguments it started with (its SQL)."""

    def __init__(self, guard: SessionGuard) -> None:
        self._guard = guard
        self._args: dict[str, dict[str, Any]] = {}

    def __call__(self, event: Event) -> None:
        try:
            if isinstance(event, StateChanged):
                self._guard.connected(event.state in _CONNECTED)
            elif isinstance(event, Usage):
                self._guard.tokens(event.total or (event.prompt + event.response))
            elif isinstance(event, ToolCallStarted):
                self._args[event.call_id] = event.args
            elif isinstance(event, ToolCallFinished):
                args = self._args.pop(event.call_id, {})
                if not event.cancelled:
                    self._guard.tool_call(event.name, args, event.result)
        except Exception:  # a counting bug must never cost the call
            logger.exception("session guard: counting failed")


async def watch_limits(guard: SessionGuard, emit: Callable[[Event], None], *,
                       tick_s: float = _TICK_S) -> str:
    """Warn, then return the ending sentence once a limit is reached (loop thread).

    The caller ends the session cleanly when this returns; it runs until then."""
    warned = False
    while True:
        try:
            verdict = guard.verdict()
        except Exception:  # a budgets bug must never end the call
            logger.exception("session guard: verdict failed")
            verdict = None
        if verdict is not None:
            if not warned and verdict.seconds_left <= WARN_BEFORE_S:
                warned = True
                emit(Notice(verdict.warning))
            if verdict.seconds_left <= 0:
                emit(Notice(verdict.ending))
                return verdict.ending
            ahead = verdict.seconds_left - (0.0 if warned else WARN_BEFORE_S)
            await asyncio.sleep(max(0.02, min(tick_s, ahead)))
        else:
            await asyncio.sleep(tick_s)
