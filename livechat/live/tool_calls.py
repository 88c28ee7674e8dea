"""The model's tool calls: run off the loop, answered on the connection that asked.

Each ``toolCall`` function call runs in a small thread pool (created on the first call)
so a slow query never stalls the shared loop; its result goes back as a ``toolResponse``
on the same connection, unless the service cancelled the call or the connection ended
meanwhile. Every call is reported as ``ToolCallStarted`` / ``ToolCallFinished``.

Threads: ``start``, ``cancel``, ``cancel_all`` and ``shutdown`` on the session's loop
thread; the executor on the pool's threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import websockets
from google.genai import types

from livechat.live.events import Event, ToolCallFinished, ToolCallStarted
from livechat.live.link import Link
from livechat.live.metrics import SessionCounters

logger = logging.getLogger(__name__)

ToolExecutor = Callable[[str, dict[str, Any]], dict[str, Any]]
Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class ToolRunner:
    """Runs one session's tool calls and sends their responses (loop thread)."""

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
    ) -> None:
        self._executor = executor
        self._workers = workers
        self._name = name
        self._emit = emit
        self._counters = counters
        self._spawn = spawn
        self._wake_sender = wake_sender
        self._pool: ThreadPoolExecutor | None = None

    def start(self, link: Link, tool_call: types.LiveServerToolCall) -> None:
        """Run every function call of ``tool_call`` in the pool."""
        loop = asyncio.get_running_loop()
        for call in tool_call.function_calls or []:
            call_id = call.id or ""
            name = call.name or ""
            args = dict(call.args or {})
            self._counters.add("tool_calls")
            self._emit(ToolCallStarted(call_id, name, args))
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix=f"{self._name}-tool"
                )
            future = loop.run_in_executor(self._pool, self._execute, name, args)
            task = self._spawn(self._finish(link, call_id, name, future), f"tool-{call_id}")
            link.tools[call_id] = (name, future, task)

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

    async def _finish(self, link: Link, call_id: str, name: str,
                      future: asyncio.Future[Any]) -> None:
        result = await future
        if link.tools.pop(call_id, None) is None or link.closed:
            return  # cancelled meanwhile
        try:
            await link.session.send_tool_response(function_responses=[
                types.FunctionResponse(id=call_id, name=name, response=result)
            ])
        except websockets.ConnectionClosed:
            self._emit(ToolCallFinished(call_id, name, result, cancelled=True))
            return
        self._emit(ToolCallFinished(call_id, name, result, cancelled=False))
        self._wake_sender()  # microphone audio was held while the tool ran

    def cancel(self, link: Link, ids: list[str]) -> None:
        """The service cancelled these calls (barge-in): stop waiting for them."""
        for call_id in ids:
            entry = link.tools.pop(call_id, None)
            if entry is None:
                continue
            name, future, task = entry
            future.cancel()
            task.cancel()
            self._emit(ToolCallFinished(call_id, name, None, cancelled=True))
        if not link.tools:
            self._wake_sender()

    def cancel_all(self, link: Link) -> None:
        """The connection ended: its calls can no longer be answered."""
        for call_id, (name, future, task) in list(link.tools.items()):
            future.cancel()
            task.cancel()
            self._emit(ToolCallFinished(call_id, name, None, cancelled=True))
        link.tools.clear()

    def shutdown(self) -> None:
        """Drop the pool. Running tools are time-capped by the toolbox; do not wait on them."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
