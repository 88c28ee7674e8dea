"""The model's tool calls: run off the loop, answered on the connection that asked.

Each ``toolCall`` function call runs in a small thread pool (created on the first call)
so a slow query never stalls the shared loop. When it finishes, its result waits in
``Link.ready`` and the sender (``InputQueue.pump``) sends it with ``send_ready`` before
any other input: the service wants a ``toolResponse`` before any other client message
while a call is pending (BerriAI/litellm PR #26590 review). A call is *blocking* when its
effective behaviour on the model is BLOCKING (``tokens.tool_behaviors``); a non-blocking
call's response carries ``scheduling`` (3.8 model page): the ``scheduling`` hook's
choice, else ``WHEN_IDLE``. Every call is reported as ``ToolCallStarted`` /
``ToolCallFinished``; parallel calls are each answered.

Threads: everything on the session's loop thread, except the executor (pool threads).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from google.genai import types

from livechat.live.events import Event, ToolCallFinished, ToolCallStarted
from livechat.live.link import Link, PendingCall
from livechat.live.metrics import Counter, SessionCounters

logger = logging.getLogger(__name__)

ToolExecutor = Callable[[str, dict[str, Any]], dict[str, Any]]
# (tool name, result) -> when the model should use a non-blocking call's result.
ToolScheduling = Callable[[str, dict[str, Any]], "types.FunctionResponseScheduling | str | None"]
Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class ToolRunner:
    """Runs one session's tool calls and answers them (loop thread)."""

    def __init__(
        self,
        *,
        executor: ToolExecutor | None,
        workers: int,
        name: str,
        emit: Callable[[Event], None],
        counters: SessionCounters,
        spawn: Spawn,
        wake_sender: Callable[[], None],
        behaviors: Mapping[str, str] | None = None,
        default_behavior: str = "BLOCKING",
        scheduling: ToolScheduling | None = None,
    ) -> None:
        self._executor = executor
        self._workers = workers
        self._name = name
        self._emit = emit
        self._counters = counters
        self._spawn = spawn
        self._wake_sender = wake_sender
        self._behaviors = dict(behaviors or {})
        self._default_behavior = default_behavior
        self._scheduling = scheduling
        self._pool: ThreadPoolExecutor | None = None

    def blocking(self, name: str) -> bool:
        """True when a call of ``name`` blocks the model until its response."""
        return self._behaviors.get(name, self._default_behavior) == "BLOCKING"

    def start(self, link: Link, tool_call: types.LiveServerToolCall) -> None:
        """Run every function call of ``tool_call`` in the pool."""
        loop = asyncio.get_running_loop()
        for call in tool_call.function_calls or []:
            call_id = call.id or ""
            name = call.name or ""
            args = dict(call.args or {})
            self._counters.add(Counter.TOOL_CALLS)
            self._emit(ToolCallStarted(call_id, name, args))
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix=f"{self._name}-tool"
                )
            future = loop.run_in_executor(self._pool, self._execute, name, args)
            pending = PendingCall(name=name, blocking=self.blocking(name), future=future)
            link.tools[call_id] = pending
            pending.task = self._spawn(self._finish(link, call_id, pending), f"tool-{call_id}")

    def _execute(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run one tool (pool thread). Never raises: failures become an error result."""
        if self._executor is None:
            return {"error": f"No tools are available in this session (asked for {name!r})."}
        try:
            result = self._executor(name, args)
            if not isinstance(result, dict):
                result = {"result": result}
            # The response must be JSON; coerce odd values (dates, numpy numbers) to text.
            return json.loads(json.dumps(result, default=str))
        except Exception as exc:
            logger.warning("live session %s: tool %s failed: %s", self._name, name, exc)
            return {"error": f"The tool {name!r} failed: {type(exc).__name__}: {exc}"}

    async def _finish(self, link: Link, call_id: str, pending: PendingCall) -> None:
        result = await pending.future
        if link.tools.get(call_id) is not pending or link.closed:
            return  # cancelled meanwhile
        pending.result = result
        link.ready.append(call_id)
        self._wake_sender()

    async def send_ready(self, link: Link) -> bool:
        """Send the responses of finished calls in one ``toolResponse``; True if any went out.

        Raises ``websockets.ConnectionClosed`` when the link is gone (the calls are then
        reported cancelled when the connection ends).
        """
        ids = [call_id for call_id in link.ready if call_id in link.tools]
        link.ready.clear()
        if not ids:
            return False
        responses = [self._response(call_id, link.tools[call_id]) for call_id in ids]
        await link.session.send_tool_response(function_responses=responses)
        for call_id in ids:
            pending = link.tools.pop(call_id)
            self._emit(ToolCallFinished(call_id, pending.name, pending.result, cancelled=False))
        return True

    def _response(self, call_id: str, pending: PendingCall) -> types.FunctionResponse:
        response = types.FunctionResponse(id=call_id, name=pending.name, response=pending.result)
        if not pending.blocking:
            # Only non-blocking calls take scheduling (3.8 model page); WHEN_IDLE lets the
            # model finish its sentence first.
            chosen = self._scheduling(pending.name, pending.result or {}) if self._scheduling else None
            response.scheduling = types.FunctionResponseScheduling(
                chosen or types.FunctionResponseScheduling.WHEN_IDLE)
        return response

    def cancel(self, link: Link, ids: list[str]) -> None:
        """The service cancelled these calls (barge-in): stop waiting for them."""
        for call_id in ids:
            pending = link.tools.pop(call_id, None)
            if pending is None:
                continue
            pending.future.cancel()
            if pending.task is not None:
                pending.task.cancel()
            self._emit(ToolCallFinished(call_id, pending.name, None, cancelled=True))
        if not link.tools:
            self._wake_sender()

    def cancel_all(self, link: Link) -> None:
        """The connection ended: its calls can no longer be answered."""
        for call_id, pending in list(link.tools.items()):
            pending.future.cancel()
            if pending.task is not None:
                pending.task.cancel()
            self._emit(ToolCallFinished(call_id, pending.name, pending.result, cancelled=True))
        link.tools.clear()
        link.ready.clear()

    def shutdown(self) -> None:
        """Drop the pool. Running tools are time-capped by the toolbox; do not wait on them."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
