"""The background Live session: tasks on the shared Live loop, one websocket at a time.

``LiveSession`` owns the link to the Gemini Live service for one conversation. Per
connection it mints a fresh single-use token with everything locked in (``livechat.live.tokens``),
connects with that token and a bare setup, streams microphone audio and typed questions
up, and hands reply audio to a playback sink and everything else (transcripts, state,
tool calls, usage, errors) to a bounded event queue the UI polls.

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

Reconnection (issue 10): a ``goAway`` reconnects at the next turn boundary; an unexpected
close (1006, 1011, ...) reconnects at once, then with backoff, for at most
``max_reconnects`` consecutive failures. Each reconnection mints a new token carrying the
latest resumption handle; if there is none, or the service refuses it, a new session is
started with the same instruction plus the transcript so far. 1007/1008 are never retried.
Audio captured meanwhile is kept (up to ``audio_buffer_seconds``) and sent afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum
from typing import Any, Protocol, TypeVar

import websockets
from google import genai
from google.genai import errors, live, types

from livechat.audio.pcm import PcmStreamResampler, resample_pcm16
from livechat.config import ServiceConfig, make_client, make_ssl_context
from livechat.live.events import (
    ErrorEvent,
    Event,
    Interrupted,
    Notice,
    SessionState,
    StateChanged,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from livechat.live.loop import SharedLoop, live_loop
from livechat.audio.playback import PlaybackBuffer
from livechat.live.errors import LinkFailure, classify_close, classify_error
from livechat.live.seeding import TranscriptTracker, seed_instruction
from livechat.live.tokens import LiveSettings, amint_live_token

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

INPUT_RATE = 16_000  # what the Live API expects from the microphone
REPLY_RATE = 24_000  # what native-audio models send back
_INPUT_MIME = f"audio/pcm;rate={INPUT_RATE}"
# Queued microphone chunks are sent in messages of up to 100 ms (the recommended size),
# so a backlog after a reconnection goes out in a few messages, not hundreds.
_MAX_MESSAGE_US = 100_000
MAX_TEXT_CHARS = 4_000
# After goAway at a turn boundary, how long to wait for the handle that follows turnComplete.
_HANDLE_GRACE_S = 1.0
# stop(): how long the websocket's normal close handshake may take before the tasks are
# cancelled anyway (stop() itself waits 2 s by default).
_CLOSE_TIMEOUT_S = 1.0

RECONNECTED_NOTICE = "Reconnected"
NEW_SESSION_NOTICE = (
    "Resumed as a new session: the service could not restore the conversation, so the "
    "transcript so far was given to the model as context."
)


class SessionError(RuntimeError):
    """A ``LiveSession`` was used against its rules (the message says which)."""


class ReplyAudioSink(Protocol):
    """Where reply audio goes (24 kHz mono PCM16). Called on the session's loop thread."""

    def write(self, pcm24k: bytes) -> None: ...

    def clear(self) -> None: ...

    def end_of_turn(self) -> None: ...


ToolExecutor = Callable[[str, dict[str, Any]], dict[str, Any]]
TokenSource = Callable[[LiveSettings], str]


class _Outcome(Enum):
    CLOSED = "closed"  # the service ended the session normally (1000)
    GOAWAY = "goaway"  # the service asked us to move; reconnect now


@dataclass(eq=False)
class _Connection:
    """State of one websocket connection (loop thread only)."""

    session: live.AsyncSession
    go_away: bool = False
    awaiting_reply: bool = False  # a typed question was sent; its answer has not ended
    # A turn completed after the last resumption handle: the handle misses that turn.
    handle_stale: bool = False
    # The typed question whose inputTranscription echo (if the service sends one) is
    # swallowed, and how much of that echo has arrived so far.
    typed_echo: str | None = None
    echo_seen: str = ""
    tools: dict[str, tuple[str, asyncio.Future[Any], asyncio.Task[None]]] = field(
        default_factory=dict
    )
    closed: bool = False


class LiveSession:
    """One voice conversation with a Gemini Live model, run as tasks on the shared Live loop.

    Construct it (no I/O), ``start()`` it, feed it with ``send_audio``/``send_text``, drain
    ``poll_events()`` and read reply audio with ``read_audio`` (or give an ``audio_sink``),
    and ``stop()`` it. A session runs once: create a new one to start again.

    Threads: ``audio_sink`` is written on the session's loop thread; ``tool_executor(name,
    args)`` runs on the session's tool pool (never on the loop) and should not raise (an
    exception becomes an ``{"error": ...}`` result). ``token_source`` replaces minting: it is
    called on the shared loop thread with the settings to lock and must return a token name
    quickly; by default each connection mints its own single-use token with
    ``config.api_key``.
    """

    def __init__(
        self,
        *,
        config: ServiceConfig,
        settings: LiveSettings,
        audio_sink: ReplyAudioSink | None = None,
        tool_executor: ToolExecutor | None = None,
        name: str = "live-session",
        setup_timeout: float = 15.0,
        max_reconnects: int = 5,
        token_source: TokenSource | None = None,
        audio_buffer_seconds: float = 2.0,
        max_events: int = 2_000,
        reconnect_backoff_s: float = 0.25,
        reconnect_backoff_max_s: float = 4.0,
        seed_max_turns: int = 20,
        seed_max_chars: int = 4_000,
        tool_workers: int = 2,
        token_lifetime: timedelta = timedelta(minutes=30),
        loop_host: SharedLoop | None = None,
    ) -> None:
        if setup_timeout <= 0:
            raise SessionError(f"setup_timeout must be positive, got {setup_timeout!r}")
        if max_reconnects < 0:
            raise SessionError(f"max_reconnects must be 0 or more, got {max_reconnects!r}")
        if token_lifetime <= timedelta(seconds=1):
            raise SessionError(f"token_lifetime must exceed 1 s, got {token_lifetime}")
        if audio_buffer_seconds <= 0 or max_events <= 0 or tool_workers <= 0:
            raise SessionError(
                "audio_buffer_seconds, max_events and tool_workers must be positive, got "
                f"{audio_buffer_seconds!r}, {max_events!r}, {tool_workers!r}"
            )
        self._config = config
        self._settings = settings
        self._default_playback: PlaybackBuffer | None = None
        if audio_sink is None:
            self._default_playback = PlaybackBuffer(sample_rate=REPLY_RATE)
            audio_sink = self._default_playback
        self._sink: ReplyAudioSink = audio_sink
        self._tool_executor = tool_executor
        self._name = name
        self._setup_timeout = setup_timeout
        self._max_reconnects = max_reconnects
        self._token_source = token_source
        # Whole microseconds, so 100 chunks of 20 ms add up to exactly 2 s (floats drift).
        self._audio_cap_us = round(audio_buffer_seconds * 1_000_000)
        self._backoff = reconnect_backoff_s
        self._backoff_max = reconnect_backoff_max_s
        self._seed_max_turns = seed_max_turns
        self._seed_max_chars = seed_max_chars
        self._tool_workers = tool_workers
        self._token_lifetime = token_lifetime
        # The service may close a session once its token expires (1008, never retried), so
        # each connection is recycled, like on goAway, a little before its token expires.
        lifetime_s = token_lifetime.total_seconds()
        self._refresh_after_s = lifetime_s - min(120.0, lifetime_s / 4)

        # Shared between threads; guarded by _lock.
        self._lock = threading.Lock()
        # Signalled (under _lock) whenever an event is queued: poll_events(timeout) waits on it.
        self._events_ready = threading.Condition(self._lock)
        self._state = SessionState.CONNECTING
        self._events: deque[Event] = deque()
        self._max_events = max_events
        self._audio: deque[tuple[bytes, int]] = deque()
        self._audio_us = 0
        self._texts: deque[str] = deque(maxlen=32)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_pending = False
        self._stop_requested = False
        self._effective_instruction = settings.system_instruction
        self._last_error: str | None = None
        self._counters: dict[str, float] = {
            "audio_chunks_in": 0,
            "audio_chunks_dropped": 0,
            "audio_messages_sent": 0,
            "audio_seconds_sent": 0.0,
            "texts_sent": 0,
            "texts_dropped": 0,
            "events_dropped": 0,
            "connections": 0,
            "reconnects": 0,
            "resumed": 0,
            "new_session_fallbacks": 0,
            "turns_completed": 0,
            "interruptions": 0,
            "tool_calls": 0,
        }

        self._lifecycle = threading.Lock()
        self._host = live_loop if loop_host is None else loop_host
        # The run on the shared loop (start()) and its end (set after the last teardown step).
        self._future: Future[None] | None = None
        self._done = threading.Event()

        # Loop thread only (created in _main).
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop_evt: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._handle: str | None = None
        self._conn: _Connection | None = None
        self._tool_pool: ThreadPoolExecutor | None = None
        self._resamplers: dict[int, PcmStreamResampler] = {}
        self._ssl_ctx: ssl.SSLContext | None = None
        self._transcript = TranscriptTracker(self._emit)
        self._healthy_since_failure = False
        self._attempt_connected = False

    # ------------------------------------------------------------------ public, any thread

    @property
    def name(self) -> str:
        """The session's name (its tasks' and tool threads' names start with it)."""
        return self._name

    @property
    def state(self) -> SessionState:
        """Current state (any thread)."""
        with self._lock:
            return self._state

    @property
    def last_error(self) -> str | None:
        """The message of the last error that ended or interrupted the session (any thread)."""
        with self._lock:
            return self._last_error

    @property
    def effective_instruction(self) -> str:
        """The system instruction locked into the current token: what the model sees."""
        with self._lock:
            return self._effective_instruction

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
                self._set_state(SessionState.CLOSED, "Stopped")
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
        chunk = bytes(pcm)
        with self._lock:
            self._counters["audio_chunks_in"] += 1
            if self._stop_requested or self._state.is_final:
                self._counters["audio_chunks_dropped"] += 1
                return
            self._audio.append((chunk, sample_rate))
            self._audio_us += _duration_us(chunk, sample_rate)
            while self._audio_us > self._audio_cap_us and len(self._audio) > 1:
                old, rate = self._audio.popleft()
                self._audio_us -= _duration_us(old, rate)
                self._counters["audio_chunks_dropped"] += 1
        self._wake_loop()

    def send_text(self, text: str) -> None:
        """Queue a typed question (any thread; never blocks). Sent once the session is ready."""
        cleaned = text.strip() if isinstance(text, str) else ""
        if not cleaned:
            raise SessionError("text must be a non-empty string")
        if len(cleaned) > MAX_TEXT_CHARS:
            raise SessionError(
                f"text must be at most {MAX_TEXT_CHARS} characters, got {len(cleaned)}"
            )
        with self._lock:
            if self._stop_requested or self._state.is_final:
                raise SessionError(f"the session has ended ({self._state}); start a new one")
            if len(self._texts) == self._texts.maxlen:
                self._counters["texts_dropped"] += 1
            self._texts.append(cleaned)
        self._wake_loop()

    def poll_events(self, timeout: float = 0.0) -> list[Event]:
        """All events since the last call, oldest first (any thread; drains the queue).

        With ``timeout`` > 0, waits up to that long for at least one event first.
        """
        with self._lock:
            if timeout > 0 and not self._events:
                self._events_ready.wait(timeout)
            events = list(self._events)
            self._events.clear()
        return events

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
        with self._lock:
            out: dict[str, Any] = dict(self._counters)
            out["audio_buffered_seconds"] = self._audio_us / 1_000_000
            out["state"] = str(self._state)
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

    # ------------------------------------------------------------------ cross-thread helpers

    def _emit(self, event: Event) -> None:
        """Queue an event for poll_events (any thread); drops the oldest when full."""
        with self._lock:
            if len(self._events) >= self._max_events:
                self._events.popleft()
                self._counters["events_dropped"] += 1
            self._events.append(event)
            self._events_ready.notify_all()

    def _set_state(self, state: SessionState, detail: str = "") -> None:
        """Move to ``state`` and report it (any thread); final states are never left."""
        with self._lock:
            if self._state == state or self._state.is_final:
                return
            self._state = state
        logger.debug("live session %s: %s %s", self._name, state, detail)
        self._emit(StateChanged(state, detail))

    def _fail(self, failure: LinkFailure) -> None:
        """End in ERROR with an ErrorEvent (loop thread)."""
        with self._lock:
            self._last_error = failure.message
            final = self._state.is_final
        if final:
            return
        logger.warning("live session %s: %s", self._name, failure.message)
        self._emit(ErrorEvent(failure.message, failure.code, recoverable=False))
        self._set_state(SessionState.ERROR, failure.message)

    def _wake_loop(self) -> None:
        """Ask the loop thread to look at the input queues (any thread; at most one pending)."""
        with self._lock:
            loop = self._loop
            if loop is None or self._wake_pending:
                return
            self._wake_pending = True
        try:
            loop.call_soon_threadsafe(self._on_wake)
        except RuntimeError:  # the loop closed between the check and the call
            with self._lock:
                self._wake_pending = False

    def _on_wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._wake is not None:
            self._wake.set()

    def _request_stop_in_loop(self) -> None:
        if self._stop_evt is not None:
            self._stop_evt.set()

    # ------------------------------------------------------------------ on the shared loop

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        """The session's whole run on the shared loop, then its teardown (loop thread)."""
        try:
            await self._main(loop)
        except Exception as exc:  # never a silent death
            logger.exception("live session %s: crashed", self._name)
            self._fail(LinkFailure(f"The Live session stopped unexpectedly ({type(exc).__name__})."))
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
                self._shutdown_tool_pool()
                self._set_state(SessionState.CLOSED, "Session ended")
                self._done.set()
                self._host.release(loop)

    def _spawn(self, coro: Coroutine[Any, Any, _T], suffix: str) -> asyncio.Task[_T]:
        """Start a task of this session, named after it and tracked until done (loop thread)."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name}-{suffix}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stop_evt = asyncio.Event()
        self._wake = asyncio.Event()
        with self._lock:
            self._loop = loop
            stop_now = self._stop_requested
        if stop_now:
            return
        key_client: genai.Client | None = None
        try:
            # Certificate loading is blocking file and CPU work: keep it off the shared loop.
            self._ssl_ctx = await asyncio.to_thread(make_ssl_context, self._config)
            if self._token_source is None:
                if not self._config.api_key:
                    raise LinkFailure("No Gemini API key is configured (GEMINI_API_KEY).")
                key_client = make_client(self._config, api_key=self._config.api_key,
                                         ssl_context=self._ssl_ctx)
            work = self._spawn(self._connection_loop(key_client), "link")
            stopper = self._spawn(self._stop_evt.wait(), "stop")
            done, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                await self._close_gracefully()
            for task in (work, stopper):
                if not task.done():
                    task.cancel()
            await asyncio.gather(work, stopper, return_exceptions=True)
            if work in done and not work.cancelled() and work.exception() is not None:
                raise work.exception()  # type: ignore[misc]
        except LinkFailure as failure:
            self._fail(failure)
        except Exception as exc:
            logger.exception("live session %s: unexpected failure", self._name)
            self._fail(classify_error(exc, where=self._where()))
        finally:
            self._transcript.finish_all()
            if key_client is not None:
                await _close_client(key_client)

    async def _close_gracefully(self) -> None:
        """Close the open websocket normally (1000) before its tasks are cancelled (loop thread).

        Cancelling first would unwind the SDK's ``async with`` around the websocket with an
        exception, and websockets closes a connection left by an exception with 1011
        (internal error): the service would record every deliberate stop as a failure.
        """
        conn = self._conn
        if conn is None or conn.closed:
            return
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await conn.session.close()
        except Exception as exc:  # the link is going away anyway; cancellation follows
            logger.debug("live session %s: closing the websocket failed: %r", self._name, exc)

    async def _connection_loop(self, key_client: genai.Client | None) -> None:
        """Connect, pump, and reconnect until stopped, closed or out of attempts."""
        failures = 0
        first = True
        fresh = False  # the next connection is a new session seeded with the transcript
        resume_setup_failures = 0
        while True:
            settings = self._settings_for_next(first=first, fresh=fresh)
            self._attempt_connected = False
            try:
                outcome = await self._run_connection(key_client, settings, first=first,
                                                     fresh=fresh)
            except Exception as exc:
                failure = classify_error(exc, where=self._where())
                if first and not self._attempt_connected:
                    # A session that never connected has nothing to resume: report it.
                    raise failure from exc
                resuming = settings.resumption_handle is not None
                if resuming and not self._attempt_connected:
                    resume_setup_failures += 1
                    # The server answered the resume with a close (1011 "currently
                    # unavailable" is how a refused resumption is reported): do not retry
                    # the handle. A network failure retries it once more.
                    if failure.code is not None or resume_setup_failures >= 2:
                        # The service will not resume this handle: start a new session
                        # seeded with the transcript. A 1007/1008 there ends the session.
                        logger.info("live session %s: resumption refused (%s); starting a "
                                    "new session", self._name, failure.code)
                        self._handle = None
                        fresh = True
                        resume_setup_failures = 0
                        self._set_state(SessionState.RECONNECTING, failure.message)
                        continue
                if self._healthy_since_failure:
                    failures = 0
                    self._healthy_since_failure = False
                failures += 1
                if not failure.retryable or failures > self._max_reconnects:
                    if failure.retryable:
                        failure = LinkFailure(
                            f"Lost the connection to the Live service and could not reconnect "
                            f"after {self._max_reconnects} attempts. Last error: {failure.message}",
                            failure.code,
                            False,
                        )
                    raise failure from exc
                with self._lock:
                    self._last_error = failure.message
                self._emit(ErrorEvent(failure.message, failure.code, recoverable=True))
                self._set_state(SessionState.RECONNECTING, failure.message)
                delay = 0.0 if failures == 1 else min(
                    self._backoff * 2 ** (failures - 2), self._backoff_max
                )
                if delay:
                    await asyncio.sleep(delay)
                if self._attempt_connected:
                    fresh = not self._handle
                    resume_setup_failures = 0
                else:
                    fresh = fresh or not self._handle
                first = False
                continue
            first = False
            resume_setup_failures = 0
            if outcome is _Outcome.CLOSED:
                self._set_state(SessionState.CLOSED, "The Live service ended the session")
                return
            # goAway: move to a new connection now, resuming where we were.
            self._set_state(SessionState.RECONNECTING, "The service asked to reconnect")
            fresh = not self._handle

    def _settings_for_next(self, *, first: bool, fresh: bool) -> LiveSettings:
        """The settings to lock into the next token (loop thread)."""
        if first:
            return replace(self._settings, resumption_handle=None)
        if fresh or not self._handle:
            seeded = seed_instruction(
                self._settings.system_instruction,
                self._transcript.history,
                max_turns=self._seed_max_turns,
                max_chars=self._seed_max_chars,
            )
            return replace(self._settings, system_instruction=seeded, resumption_handle=None)
        with self._lock:
            current = self._effective_instruction
        # Resuming keeps the instruction the session was started with (seeded or not).
        return replace(self._settings, system_instruction=current,
                       resumption_handle=self._handle)

    async def _mint(self, key_client: genai.Client | None, settings: LiveSettings) -> str:
        if self._token_source is not None:
            return self._token_source(settings)
        assert key_client is not None
        return await amint_live_token(
            key_client, settings, expire_after=self._token_lifetime,
            new_session_within=min(timedelta(minutes=1), self._token_lifetime),
        )

    async def _run_connection(
        self, key_client: genai.Client | None, settings: LiveSettings, *, first: bool,
        fresh: bool,
    ) -> _Outcome:
        """Mint, connect (bare setup), pump until the connection ends; returns why it ended."""
        if first:
            self._set_state(SessionState.CONNECTING, "Connecting to the Live service")
        token = await self._mint(key_client, settings)
        client = make_client(self._config, api_key=token, ssl_context=self._ssl_ctx)
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    async with asyncio.timeout(self._setup_timeout):
                        session = await stack.enter_async_context(
                            client.aio.live.connect(model=settings.model,
                                                    config=_bare_connect_config())
                        )
                except TimeoutError as exc:
                    raise LinkFailure(
                        f"The Live service did not finish the session setup within "
                        f"{self._setup_timeout:g} s.", None, True) from exc
                if session.setup_complete is None:
                    raise LinkFailure(
                        "The Live service did not confirm the session setup "
                        "(its first message was not setupComplete).", None, True)
                resumed = settings.resumption_handle is not None
                with self._lock:
                    self._effective_instruction = settings.system_instruction
                    self._counters["connections"] += 1
                    if not first:
                        self._counters["reconnects"] += 1
                        self._counters["resumed" if resumed else "new_session_fallbacks"] += 1
                conn = _Connection(session=session)
                self._conn = conn
                self._attempt_connected = True
                self._set_state(SessionState.READY, "Connected")
                if not first:
                    has_history = bool(self._transcript.history)
                    self._emit(Notice(RECONNECTED_NOTICE if resumed or not has_history
                                      else NEW_SESSION_NOTICE))
                logger.info("live session %s: connected (resumed=%s, fresh=%s)",
                            self._name, resumed, fresh)
                try:
                    return await self._pump(conn)
                finally:
                    self._end_connection(conn)
        finally:
            self._conn = None
            await _close_client(client)

    async def _pump(self, conn: _Connection) -> _Outcome:
        """Run the receiver and the sender for one connection until one of them ends it."""
        receiver = self._spawn(self._receive_loop(conn), "recv")
        sender = self._spawn(self._send_loop(conn), "send")
        refresher = self._spawn(self._refresh_before_expiry(conn), "refresh")
        tasks = (receiver, sender, refresher)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        task = next(t for t in tasks if t in done)
        return task.result()

    async def _refresh_before_expiry(self, conn: _Connection) -> _Outcome:
        """Treat the token's approaching expiry like a goAway (loop thread)."""
        await asyncio.sleep(self._refresh_after_s)
        if not conn.go_away:
            logger.info("live session %s: token expires soon; recycling the connection",
                        self._name)
            conn.go_away = True
        # The receiver acts at the next turn boundary; when idle, nothing arrives to wake
        # it, so act here once no turn is under way (after the grace for a late handle).
        while self._busy(conn):
            await asyncio.sleep(_HANDLE_GRACE_S)
        if conn.handle_stale:
            await asyncio.sleep(_HANDLE_GRACE_S)
        return _Outcome.GOAWAY

    def _end_connection(self, conn: _Connection) -> None:
        """Forget a finished connection: close open turns, cancel its tool calls (loop thread)."""
        conn.closed = True
        self._transcript.finish_all()
        for call_id, (name, future, task) in list(conn.tools.items()):
            future.cancel()
            task.cancel()
            self._emit(ToolCallFinished(call_id, name, None, cancelled=True))
        conn.tools.clear()

    # ------------------------------------------------------------------ receiving

    async def _receive_loop(self, conn: _Connection) -> _Outcome:
        """Read server messages until the connection closes or must be recycled."""
        loop = asyncio.get_running_loop()
        handle_deadline: float | None = None
        while True:
            stream = conn.session.receive()
            try:
                while True:
                    timeout: float | None = None
                    if conn.go_away and not self._busy(conn):
                        # Turn boundary after goAway: move now, unless the handle for the
                        # turn that just ended is still on its way (it follows turnComplete).
                        if not conn.handle_stale:
                            return _Outcome.GOAWAY
                        if handle_deadline is None:
                            handle_deadline = loop.time() + _HANDLE_GRACE_S
                        timeout = handle_deadline - loop.time()
                        if timeout <= 0:
                            return _Outcome.GOAWAY
                    try:
                        if timeout is None:
                            message = await anext(stream)
                        else:
                            message = await asyncio.wait_for(anext(stream), timeout)
                    except StopAsyncIteration:
                        break  # receive() stops after each turnComplete; enter it again
                    except TimeoutError:
                        return _Outcome.GOAWAY
                    except errors.APIError as exc:
                        if conn.go_away:
                            # The server ends a connection it announced with goAway (the
                            # service uses 1008 when a client lingers): just move on.
                            return _Outcome.GOAWAY
                        failure = classify_close(exc.code, exc.details)
                        if failure is None:
                            return _Outcome.CLOSED
                        raise failure from exc
                    try:
                        self._handle_message(conn, message)
                    except Exception as exc:
                        logger.exception("live session %s: failed to apply a message", self._name)
                        raise LinkFailure(
                            f"The app failed while handling the Live service's reply "
                            f"({type(exc).__name__}: {exc}).", None, False) from exc
            finally:
                await stream.aclose()

    def _handle_message(self, conn: _Connection, msg: types.LiveServerMessage) -> None:
        """Apply one server message (loop thread)."""
        update = msg.session_resumption_update
        if update is not None and update.resumable and update.new_handle:
            self._handle = update.new_handle
            conn.handle_stale = False
        if msg.usage_metadata is not None:
            usage = msg.usage_metadata
            self._emit(Usage(usage.prompt_token_count or 0, usage.response_token_count or 0,
                             usage.total_token_count or 0))
        if msg.tool_call is not None:
            self._start_tools(conn, msg.tool_call)
        if msg.tool_call_cancellation is not None:
            self._cancel_tools(conn, msg.tool_call_cancellation.ids or [])
        content = msg.server_content
        if content is not None:
            self._handle_content(conn, content)
        if msg.go_away is not None and not conn.go_away:
            conn.go_away = True
            logger.info("live session %s: goAway (time left %s)", self._name,
                        msg.go_away.time_left)

    def _handle_content(self, conn: _Connection, content: types.LiveServerContent) -> None:
        heard = content.input_transcription.text if content.input_transcription else None
        if heard and not self._swallow_echo(conn, heard):
            self._transcript.add("user", heard)
            self._set_state(SessionState.LISTENING, "Hearing you")
        if content.interrupted:
            # Barge-in: flush playback now. Later audio is written normally, so a spurious
            # interruption never mutes the next reply.
            self._sink.clear()
            with self._lock:
                self._counters["interruptions"] += 1
            self._emit(Interrupted())
            self._transcript.finish("model")
        if content.model_turn is not None:
            for part in content.model_turn.parts or []:
                blob = part.inline_data
                if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/"):
                    self._sink.write(_to_reply_rate(blob.data, blob.mime_type or ""))
                    self._set_state(SessionState.RESPONDING, "Answering")
        if content.output_transcription is not None and content.output_transcription.text:
            self._transcript.add("model", content.output_transcription.text)
            self._set_state(SessionState.RESPONDING, "Answering")
        if content.turn_complete:
            self._transcript.finish_all()
            self._sink.end_of_turn()
            conn.awaiting_reply = False
            if conn.echo_seen:
                # The echo arrived in this turn and is whole by now. One that has not
                # started yet is kept: a question typed during a reply is echoed after the
                # interrupted turn's turnComplete, at the start of its own turn.
                conn.typed_echo, conn.echo_seen = None, ""
            conn.handle_stale = True
            self._healthy_since_failure = True
            with self._lock:
                self._counters["turns_completed"] += 1
            self._set_state(SessionState.READY, "Your turn")

    @staticmethod
    def _swallow_echo(conn: _Connection, chunk: str) -> bool:
        """True when ``chunk`` is the service transcribing our own typed question back."""
        if conn.typed_echo is None:
            return False
        seen = conn.echo_seen + chunk
        expected = " ".join(conn.typed_echo.split())
        if expected.startswith(" ".join(seen.split())):
            conn.echo_seen = seen
            return True
        conn.typed_echo = None  # real speech: stop matching
        return False

    def _busy(self, conn: _Connection) -> bool:
        """True while a turn is under way on ``conn`` (goAway then waits for its end)."""
        return bool(conn.awaiting_reply or conn.tools or self._transcript.is_open("user")
                    or self._transcript.is_open("model"))

    # ------------------------------------------------------------------ tools

    def _start_tools(self, conn: _Connection, tool_call: types.LiveServerToolCall) -> None:
        loop = asyncio.get_running_loop()
        for call in tool_call.function_calls or []:
            call_id = call.id or ""
            name = call.name or ""
            args = dict(call.args or {})
            with self._lock:
                self._counters["tool_calls"] += 1
            self._emit(ToolCallStarted(call_id, name, args))
            if self._tool_pool is None:
                self._tool_pool = ThreadPoolExecutor(
                    max_workers=self._tool_workers, thread_name_prefix=f"{self._name}-tool"
                )
            future = loop.run_in_executor(self._tool_pool, self._execute_tool, name, args)
            task = self._spawn(self._finish_tool(conn, call_id, name, future), f"tool-{call_id}")
            conn.tools[call_id] = (name, future, task)

    def _execute_tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run one tool (tool pool thread). Never raises: failures become an error result."""
        if self._tool_executor is None:
            return {"error": f"No tools are available in this session (asked for {name!r})."}
        try:
            result = self._tool_executor(name, args)
            if not isinstance(result, dict):
                result = {"result": result}
            # The response must be JSON; coerce odd values (dates, numpy numbers) to text.
            return json.loads(json.dumps(result, default=str))
        except Exception as exc:
            logger.warning("live session %s: tool %s failed: %s", self._name, name, exc)
            return {"error": f"The tool {name!r} failed: {type(exc).__name__}: {exc}"}

    async def _finish_tool(self, conn: _Connection, call_id: str, name: str,
                           future: asyncio.Future[Any]) -> None:
        result = await future
        if conn.tools.pop(call_id, None) is None or conn.closed:
            return  # cancelled meanwhile
        try:
            await conn.session.send_tool_response(function_responses=[
                types.FunctionResponse(id=call_id, name=name, response=result)
            ])
        except websockets.ConnectionClosed:
            self._emit(ToolCallFinished(call_id, name, result, cancelled=True))
            return
        self._emit(ToolCallFinished(call_id, name, result, cancelled=False))
        if self._wake is not None:
            self._wake.set()  # microphone audio was held while the tool ran

    def _cancel_tools(self, conn: _Connection, ids: list[str]) -> None:
        for call_id in ids:
            entry = conn.tools.pop(call_id, None)
            if entry is None:
                continue
            name, future, task = entry
            future.cancel()
            task.cancel()
            self._emit(ToolCallFinished(call_id, name, None, cancelled=True))
        if not conn.tools and self._wake is not None:
            self._wake.set()

    def _shutdown_tool_pool(self) -> None:
        pool, self._tool_pool = self._tool_pool, None
        if pool is not None:
            # Running tools are time-capped by the toolbox; do not wait on them here.
            pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ sending

    async def _send_loop(self, conn: _Connection) -> _Outcome:
        """Send queued questions and microphone audio on ``conn`` (loop thread)."""
        assert self._wake is not None
        self._wake.set()  # flush whatever queued up before this connection
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._flush_inputs(conn)
        except websockets.ConnectionClosed:
            # The receiver sees the same close and classifies it; wait to be cancelled.
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    async def _flush_inputs(self, conn: _Connection) -> None:
        while not conn.go_away:  # after goAway, hold input for the next connection
            with self._lock:
                text = self._texts[0] if self._texts else None
            if text is not None:
                # realtimeInput.text, not clientContent: mixing clientContent with streamed
                # audio has been reported to end sessions (LIVE_PROTOCOL 2.4).
                await conn.session.send_realtime_input(text=text)
                with self._lock:
                    if self._texts and self._texts[0] is text:
                        self._texts.popleft()
                    self._counters["texts_sent"] += 1
                conn.awaiting_reply = True
                conn.typed_echo, conn.echo_seen = text, ""
                self._transcript.add_complete("user", text)
                continue
            if conn.tools:
                return  # hold microphone audio while a tool call is unresolved
            batch = self._take_audio()
            if batch is None:
                return
            pcm, seconds = batch
            await conn.session.send_realtime_input(
                audio=types.Blob(data=pcm, mime_type=_INPUT_MIME)
            )
            with self._lock:
                self._counters["audio_messages_sent"] += 1
                self._counters["audio_seconds_sent"] += seconds

    def _take_audio(self) -> tuple[bytes, float] | None:
        """Dequeue up to 100 ms of same-rate audio and resample it to 16 kHz (loop thread)."""
        parts: list[bytes] = []
        taken_us = 0
        rate = 0
        with self._lock:
            while self._audio:
                chunk, chunk_rate = self._audio[0]
                if parts and (chunk_rate != rate or taken_us >= _MAX_MESSAGE_US):
                    break
                self._audio.popleft()
                duration = _duration_us(chunk, chunk_rate)
                self._audio_us -= duration
                taken_us += duration
                rate = chunk_rate
                parts.append(chunk)
        if not parts:
            return None
        pcm = b"".join(parts)
        if rate != INPUT_RATE:
            resampler = self._resamplers.get(rate)
            if resampler is None:
                resampler = self._resamplers[rate] = PcmStreamResampler(rate, INPUT_RATE)
            pcm = resampler.convert(pcm)
        return pcm, taken_us / 1_000_000

    def _where(self) -> str:
        return self._config.base_url or "the Gemini API"


def _duration_us(pcm: bytes, rate: int) -> int:
    """Duration of mono PCM16 ``pcm`` at ``rate`` Hz in whole microseconds."""
    return len(pcm) * 500_000 // rate


def _bare_connect_config() -> types.LiveConnectConfig:
    """The client's own setup: empty.

    The token's locked setup is the whole session setup, resumption handle included;
    the service ignores whatever the connection's own setup says, so it says nothing.
    """
    return types.LiveConnectConfig()


def _to_reply_rate(data: bytes, mime_type: str) -> bytes:
    """Reply audio at 24 kHz: resample when the service declares another PCM rate."""
    rate = REPLY_RATE
    for param in mime_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key == "rate" and value.isdigit():
            rate = int(value)
    return data if rate == REPLY_RATE else resample_pcm16(data, rate, REPLY_RATE)


async def _close_client(client: genai.Client) -> None:
    """Release a client's HTTP connections (loop thread); never raises."""
    try:
        await client.aio.aclose()
    except Exception:
        logger.debug("closing the async genai client failed", exc_info=True)
    try:
        client.close()
    except Exception:
        logger.debug("closing the genai client failed", exc_info=True)
