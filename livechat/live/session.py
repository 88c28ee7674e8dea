"""The background Live session: tasks on the shared Live loop, one websocket at a time.

``LiveSession`` owns the link to the Gemini Live service for one conversation. Per
connection it mints a fresh single-use token with everything locked in (``livechat.live.tokens``),
connects with that token and a bare setup, streams microphone audio and typed questions
up, and hands reply audio to a playback sink and everything else (transcripts, state,
tool calls, usage, errors) to a bounded event queue the UI polls.

This module is the session's face and lifecycle; the work is done by one module per job:

- ``connection``: the connection loop (mint, connect, receive, recycle) — one websocket at a time;
- ``inputs``: the input queue (audio, typed questions) and its hold rules;
- ``reconnect``: the reconnect policy (what is retried, how often, with what token);
- ``messages``: applying the service's messages; ``reply_audio``: reply audio to the sink;
- ``tool_calls``: running tool calls off the loop; ``outbox``/``metrics``: events, state, counters.

Threads:

- the caller's threads (Streamlit script, WebRTC media worker) call ``start``, ``stop``,
  ``send_audio``, ``send_text``, ``poll_events``, ``read_audio``, ``state`` and ``stats``;
  none of them blocks on the network. Hand-off is through lock-guarded bounded deques plus
  ``loop.call_soon_threadsafe`` to wake the loop.
- the shared Live loop thread (``livechat.live.loop``; one for all sessions of the process,
  see there why) runs the session's tasks: minting, connecting, sending, receiving,
  reconnecting. Every task the session starts is its own to cancel and await; it ends
  with the session, whatever else runs on the loop.
- a small thread pool, created on the first tool call, runs tools off the loop.

Reconnection (issues 10, 16): a ``goAway`` reconnects at the next turn boundary; an
unexpected close (1006, 1011, ...) reconnects at once, then with backoff, for at most
``max_reconnects`` consecutive failures. Each reconnection mints a new token carrying the
latest resumption handle; if there is none, or the service refuses it, a new session is
started with the same instruction plus the transcript so far. A 1007/1008 is retried only
when ``errors.CLOSE_RULES`` says it is not about credentials, the model or the setup and
the connection had completed its setup. Audio captured meanwhile is kept (up to
``audio_buffer_seconds``) and sent afterwards.

The model's row in ``livechat.live.models`` decides the rules around tool calls: which
calls block (nothing but their response is sent meanwhile), and whether a realtime input
must follow each response.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from google import genai

from livechat.audio.playback import PlaybackBuffer
from livechat.config import ServiceConfig, make_client, make_ssl_context
from livechat.live.connection import (
    NEW_SESSION_NOTICE,
    RECONNECTED_NOTICE,
    ConnectionLoop,
    TokenSource,
    close_client,
)
from livechat.live.errors import LinkFailure, classify_error
from livechat.live.events import Event, SessionState
from livechat.live.guard import SessionGuard, watch_limits
from livechat.live.inputs import INPUT_RATE
from livechat.live.loop import SharedLoop, live_loop
from livechat.live.metrics import Counter
from livechat.live.options import SessionError, SessionOptions
from livechat.live.parts import compose_parts
from livechat.live.reply_audio import REPLY_RATE, ReplyAudioSink
from livechat.live.tokens import LiveSettings
from livechat.live.tool_calls import ToolExecutor, ToolScheduling

__all__ = [
    "INPUT_RATE",
    "MAX_TEXT_CHARS",
    "NEW_SESSION_NOTICE",
    "RECONNECTED_NOTICE",
    "REPLY_RATE",
    "LiveSession",
    "ReplyAudioSink",
    "SessionError",
    "SessionOptions",
    "TokenSource",
    "ToolExecutor",
    "ToolScheduling",
]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_TEXT_CHARS = 4_000


class LiveSession:
    """One voice conversation with a Gemini Live model, run as tasks on the shared Live loop.

    Construct it (no I/O), ``start()`` it, feed it with ``send_audio``/``send_text``, drain
    ``poll_events()`` and read reply audio with ``read_audio`` (or give an ``audio_sink``),
    and ``stop()`` it. A session runs once: create a new one to start again.

    Threads: ``audio_sink`` is written on the session's loop thread; ``tool_executor(name,
    args)`` runs on the session's tool pool (never on the loop) and should not raise (an
    exception becomes an ``{"error": ...}`` result); ``tool_scheduling(name, result)`` picks
    the ``scheduling`` of a non-blocking call's response (default ``WHEN_IDLE``), on the loop
    thread. ``token_source`` replaces minting: it is
    called on the shared loop thread with the settings to lock and must return a token name
    quickly; by default each connection mints its own single-use token with
    ``config.api_key``.
    """

    def __init__(
        self,
        *,
        config: ServiceConfig,
        settings: LiveSettings,
        options: SessionOptions | None = None,
        audio_sink: ReplyAudioSink | None = None,
        tool_executor: ToolExecutor | None = None,
        tool_scheduling: ToolScheduling | None = None,
        token_source: TokenSource | None = None,
        loop_host: SharedLoop | None = None,
        guard: SessionGuard | None = None,
    ) -> None:
        options = SessionOptions() if options is None else options
        self._config = config
        self._name = options.name
        self._token_source = token_source
        self._default_playback: PlaybackBuffer | None = None
        if audio_sink is None:
            self._default_playback = PlaybackBuffer(sample_rate=REPLY_RATE)
            audio_sink = self._default_playback

        # Guards the lifecycle fields shared between threads (_loop, _stop_requested).
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._lifecycle = threading.Lock()
        self._host = live_loop if loop_host is None else loop_host
        # The run on the shared loop (start()) and its end (set after the last teardown step).
        self._future: Future[None] | None = None
        self._done = threading.Event()
        # Loop thread only (created in _main).
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop_evt: asyncio.Event | None = None
        self._end_reason: str | None = None  # a budget ended the call: why (loop thread)

        # The parts, one job each, wired in one place (livechat.live.parts).
        parts = compose_parts(settings=settings, options=options, audio_sink=audio_sink,
                              tool_executor=tool_executor, tool_scheduling=tool_scheduling,
                              spawn=self._spawn, guard=guard)
        self._guard = guard
        self._counters = parts.counters
        self._outbox = parts.outbox
        self._inputs = parts.inputs
        self._transcript = parts.transcript
        self._tools = parts.tools
        self._policy = parts.policy
        self._link = ConnectionLoop(config=config, settings=settings, options=options,
                                    token_source=token_source, parts=parts)

    # ------------------------------------------------------------------ public, any thread

    @property
    def name(self) -> str:
        """The session's name (its tasks' and tool threads' names start with it)."""
        return self._name

    @property
    def state(self) -> SessionState:
        """Current state (any thread)."""
        return self._outbox.state

    @property
    def last_error(self) -> str | None:
        """The message of the last error that ended or interrupted the session (any thread)."""
        return self._outbox.last_error

    @property
    def effective_instruction(self) -> str:
        """The system instruction locked into the current token: what the model sees."""
        return self._link.effective_instruction

    @property
    def guard(self) -> SessionGuard | None:
        """The session's budgets guard, or None (any thread)."""
        return self._guard

    @property
    def running(self) -> bool:
        """True from ``start`` until the session has ended and torn down (any thread)."""
        return self._future is not None and not self._done.is_set()

    def start(self) -> None:
        """Start the session on the shared Live loop; idempotent while running (any thread).

        Raises ``SessionError`` if the session was already stopped: sessions run once.
        """
        with self._lifecycle:
            if self._future is not None:
                return
            if self._stop_requested:
                raise SessionError(f"LiveSession {self._name!r} was stopped; create a new one")
            loop = self._host.acquire()
            try:
                self._future = asyncio.run_coroutine_threadsafe(self._run(loop), loop)
            except BaseException:
                self._host.release(loop)
                raise

    def stop(self, timeout: float = 2.0) -> bool:
        """Close the websocket, cancel the session's tasks and wait up to ``timeout`` s.

        Idempotent; any thread. Returns True when the session has ended (or never started)
        and, if it was the last session, the shared loop's thread too. Called on the loop's
        thread it only requests the stop (it cannot wait for itself).
        """
        deadline = time.monotonic() + timeout
        with self._lifecycle:
            with self._lock:
                self._stop_requested = True
                loop = self._loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self._request_stop_in_loop)
            if self._future is None:
                self._outbox.set_state(SessionState.CLOSED, "Stopped")
                return True
            if self._host.is_loop_thread():
                return False
            if not self._done.wait(timeout):
                logger.warning("live session %s: still running %.1f s after stop()",
                               self._name, timeout)
                return False
            return self._host.join_retired(max(0.0, deadline - time.monotonic()))

    def send_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue mono PCM16 microphone audio at ``sample_rate`` Hz (any thread; never blocks).

        Resampled to 16 kHz on the loop thread. At most ``audio_buffer_seconds`` of audio
        wait (before setup completes, during a reconnection or a tool call); beyond that the
        oldest chunks are dropped and counted in ``stats()["audio_chunks_dropped"]``.
        """
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise SessionError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
        if len(pcm) % 2:
            raise SessionError(f"pcm must hold whole PCM16 samples (even length), got {len(pcm)} bytes")
        if not pcm:
            return
        self._counters.add(Counter.AUDIO_CHUNKS_IN)
        if not self._accepting():
            self._counters.add(Counter.AUDIO_CHUNKS_DROPPED)
            return
        self._inputs.put_audio(bytes(pcm), sample_rate)

    def send_text(self, text: str) -> None:
        """Queue a typed question (any thread; never blocks). Sent once the session is ready."""
        cleaned = text.strip() if isinstance(text, str) else ""
        if not cleaned:
            raise SessionError("text must be a non-empty string")
        if len(cleaned) > MAX_TEXT_CHARS:
            raise SessionError(
                f"text must be at most {MAX_TEXT_CHARS} characters, got {len(cleaned)}"
            )
        if not self._accepting():
            raise SessionError(f"the session has ended ({self.state}); start a new one")
        self._inputs.put_text(cleaned)

    def poll_events(self, timeout: float = 0.0) -> list[Event]:
        """All events since the last call, oldest first (any thread; drains the queue).

        With ``timeout`` > 0, waits up to that long for at least one event first.
        """
        return self._outbox.poll(timeout)

    def read_audio(self, n_bytes: int) -> bytes:
        """Exactly ``n_bytes`` of reply audio (24 kHz mono PCM16), silence-padded (any thread).

        Only for the default playback buffer; with a custom ``audio_sink`` read from it instead.
        """
        if self._default_playback is None:
            raise SessionError("read_audio needs the default playback buffer; this session "
                               "was given an audio_sink, read from that")
        return self._default_playback.read(n_bytes)

    def stats(self) -> dict[str, Any]:
        """Counters for diagnostics (any thread): audio in/sent/dropped, reconnects, ..."""
        out: dict[str, Any] = dict(self._counters.snapshot())
        out["audio_buffered_seconds"] = self._inputs.buffered_seconds
        out["state"] = str(self.state)
        if self._default_playback is not None:
            playback = self._default_playback.stats()
            out["playback"] = {
                "written_bytes": playback.written_bytes,
                "read_bytes": playback.read_bytes,
                "dropped_bytes": playback.dropped_bytes,
                "cleared_bytes": playback.cleared_bytes,
                "underruns": playback.underruns,
                "buffered_bytes": playback.buffered_bytes,
            }
        return out

    # ------------------------------------------------------------------ internals

    def _accepting(self) -> bool:
        """True while input may still be queued (not stopped, not ended)."""
        with self._lock:
            stopped = self._stop_requested
        return not stopped and not self._outbox.state.is_final

    def _request_stop_in_loop(self) -> None:
        if self._stop_evt is not None:
            self._stop_evt.set()

    def _spawn(self, coro: Coroutine[Any, Any, _T], suffix: str) -> asyncio.Task[_T]:
        """Start a task of this session, named after it and tracked until done (loop thread)."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name}-{suffix}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        """The session's whole run on the shared loop, then its teardown (loop thread)."""
        try:
            await self._main(loop)
        except Exception as exc:  # never a silent death
            logger.exception("live session %s: crashed", self._name)
            self._outbox.fail(
                LinkFailure(f"The Live session stopped unexpectedly ({type(exc).__name__})."))
        finally:
            try:
                # _main awaits what it starts; this catches a task a failure path left
                # behind, so nothing of this session outlives it on the shared loop.
                leftovers = [t for t in self._tasks if not t.done()]
                for task in leftovers:
                    task.cancel()
                if leftovers:
                    await asyncio.gather(*leftovers, return_exceptions=True)
            finally:
                with self._lock:
                    self._loop = None
                self._inputs.detach()
                self._tools.shutdown()
                failed = self._outbox.state is SessionState.ERROR
                self._outbox.set_state(SessionState.CLOSED, self._end_reason or "Session ended")
                if self._guard is not None:
                    try:
                        self._guard.ended(self._end_reason or (self._outbox.last_error if failed else None)
                                          or "stopped")
                    except Exception:
                        logger.exception("live session %s: the budgets guard failed at the end", self._name)
                self._done.set()
                self._host.release(loop)

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stop_evt = asyncio.Event()
        self._inputs.attach(loop)
        with self._lock:
            self._loop = loop
            stop_now = self._stop_requested
        if stop_now:
            return
        key_client: genai.Client | None = None
        try:
            # Certificate loading is blocking file and CPU work: keep it off the shared loop.
            ssl_ctx = await asyncio.to_thread(make_ssl_context, self._config)
            if self._token_source is None:
                if not self._config.api_key:
                    raise LinkFailure("No Gemini API key is configured (GEMINI_API_KEY).")
                key_client = make_client(self._config, api_key=self._config.api_key,
                                         ssl_context=ssl_ctx)
            work = self._spawn(self._link.run(key_client, ssl_ctx), "link")
            stopper = self._spawn(self._stop_evt.wait(), "stop")
            watched = {work, stopper}
            limit = None
            if self._guard is not None:  # a budget may end the call: it ends like a stop
                limit = self._spawn(watch_limits(self._guard, self._outbox.emit), "limits")
                watched.add(limit)
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            if limit is not None and limit in done and not limit.cancelled() and limit.exception() is None:
                self._end_reason = limit.result()
            if stopper in done or self._end_reason is not None:
                await self._link.close_current()
            for task in watched:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*watched, return_exceptions=True)
            if work in done and not work.cancelled() and work.exception() is not None:
                raise work.exception()  # type: ignore[misc]
        except LinkFailure as failure:
            self._outbox.fail(failure)
        except Exception as exc:
            logger.exception("live session %s: unexpected failure", self._name)
            self._outbox.fail(classify_error(exc, where=self._link.where()))
        finally:
            self._transcript.finish_all()
            if key_client is not None:
                await close_client(key_client)
