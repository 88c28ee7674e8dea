"""The connection loop of a Live session: one websocket at a time, from token to close.

Per connection: take the settings to lock from the ``ReconnectPolicy``, mint a token
with them (or ask the ``token_source``), connect with a bare setup, then run three tasks
until one ends the connection: the receiver (server messages, applied by
``MessageHandler``), the sender (``InputSender.pump``) and the token refresher (recycles
the connection, like a goAway, a little before its token expires). A failure goes to the
policy, which says whether to resume, start a seeded new session or give up.

A ``goAway`` (or the token refresher) moves the session at the next turn boundary, after
a short grace for the resumption handle that follows ``turnComplete``.

Loop thread only, except ``effective_instruction`` (any thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from datetime import timedelta

from google import genai
from google.genai import errors, types

from livechat.config import ServiceConfig, make_client
from livechat.live.errors import LinkFailure, classify_close, classify_error
from livechat.live.events import Notice, SessionState
from livechat.live.guard import LimitReached
from livechat.live.link import Link, Outcome
from livechat.live.metrics import Counter
from livechat.live.options import SessionOptions
from livechat.live.parts import SessionParts
from livechat.live.tokens import LiveSettings, amint_live_token

logger = logging.getLogger(__name__)

TokenSource = Callable[[LiveSettings], str]

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


class ConnectionLoop:
    """Connects, pumps and reconnects one session until stopped, closed or out of attempts."""

    def __init__(
        self,
        *,
        config: ServiceConfig,
        settings: LiveSettings,
        options: SessionOptions,
        token_source: TokenSource | None,
        parts: SessionParts,
    ) -> None:
        self._config = config
        self._name = options.name
        self._setup_timeout = options.setup_timeout
        self._token_source = token_source
        self._token_lifetime = options.token_lifetime
        # The service may close a session once its token expires (1008, never retried), so
        # each connection is recycled, like on goAway, a little before its token expires.
        lifetime_s = options.token_lifetime.total_seconds()
        self._refresh_after_s = lifetime_s - min(120.0, lifetime_s / 4)
        self._outbox = parts.outbox
        self._counters = parts.counters
        self._policy = parts.policy
        self._sender = parts.sender
        self._messages = parts.messages
        self._tools = parts.tools
        self._transcript = parts.transcript
        self._spawn = parts.spawn
        self._guard = parts.guard
        self._lock = threading.Lock()
        self._effective_instruction = settings.system_instruction
        self._link: Link | None = None
        self._ssl_ctx: ssl.SSLContext | None = None

    @property
    def effective_instruction(self) -> str:
        """The system instruction locked into the current token (any thread)."""
        with self._lock:
            return self._effective_instruction

    def where(self) -> str:
        """The endpoint, for messages."""
        return self._config.base_url or "the Gemini API"

    async def run(self, key_client: genai.Client | None, ssl_ctx: ssl.SSLContext | None) -> None:
        """Connect, pump, and reconnect until stopped, closed or out of attempts."""
        self._ssl_ctx = ssl_ctx
        while True:
            settings = self._policy.next_settings(self.effective_instruction)
            first = self._policy.first
            try:
                outcome = await self._run_connection(key_client, settings, first=first)
            except Exception as exc:
                decision = self._policy.after_failure(classify_error(exc, where=self.where()))
                if decision.action == "give_up":
                    raise decision.failure from exc
                if decision.action == "new_session":
                    self._outbox.set_state(SessionState.RECONNECTING, decision.failure.message)
                    continue
                self._outbox.retrying(decision.failure)
                if decision.delay:
                    await asyncio.sleep(decision.delay)
                continue
            self._policy.after_outcome(outcome)
            if outcome is Outcome.CLOSED:
                self._outbox.set_state(SessionState.CLOSED, "The Live service ended the session")
                return
            # goAway: move to a new connection now, resuming where we were.
            self._outbox.set_state(SessionState.RECONNECTING, "The service asked to reconnect")

    async def close_current(self) -> None:
        """Close the open websocket normally (1000) before its tasks are cancelled.

        Cancelling first would unwind the SDK's ``async with`` around the websocket with an
        exception, and websockets closes a connection left by an exception with 1011
        (internal error): the service would record every deliberate stop as a failure.
        """
        link = self._link
        if link is None or link.closed:
            return
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await link.session.close()
        except Exception as exc:  # the link is going away anyway; cancellation follows
            logger.debug("live session %s: closing the websocket failed: %r", self._name, exc)

    async def _mint(self, key_client: genai.Client | None, settings: LiveSettings) -> str:
        if self._guard is not None:
            # Budgets first, off the loop (the guard may read the store): a refusal ends
            # the session with the guard's sentence and is never retried.
            try:
                await asyncio.to_thread(self._guard.before_mint)
            except LimitReached as refused:
                raise LinkFailure(refused.message, None, False) from refused
        if self._token_source is not None:
            return self._token_source(settings)
        assert key_client is not None
        return await amint_live_token(
            key_client, settings, expire_after=self._token_lifetime,
            new_session_within=min(timedelta(minutes=1), self._token_lifetime),
            key_name=self._config.key_name,
        )

    async def _run_connection(
        self, key_client: genai.Client | None, settings: LiveSettings, *, first: bool,
    ) -> Outcome:
        """Mint, connect (bare setup), pump until the connection ends; returns why it ended."""
        if first:
            self._outbox.set_state(SessionState.CONNECTING, "Connecting to the Live service")
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
                self._counters.add(Counter.CONNECTIONS)
                if not first:
                    self._counters.add(Counter.RECONNECTS)
                    self._counters.add(Counter.RESUMED if resumed else Counter.NEW_SESSION_FALLBACKS)
                link = Link(session=session)
                self._link = link
                self._policy.connected()
                self._outbox.set_state(SessionState.READY, "Connected")
                if not first:
                    has_history = bool(self._transcript.history)
                    self._outbox.emit(Notice(RECONNECTED_NOTICE if resumed or not has_history
                                             else NEW_SESSION_NOTICE))
                logger.info("live session %s: connected (resumed=%s)", self._name, resumed)
                try:
                    return await self._pump(link)
                finally:
                    self._end_connection(link)
        finally:
            self._link = None
            await close_client(client)

    async def _pump(self, link: Link) -> Outcome:
        """Run the receiver and the sender for one connection until one of them ends it."""
        receiver = self._spawn(self._receive_loop(link), "recv")
        sender = self._spawn(self._sender.pump(link), "send")
        refresher = self._spawn(self._refresh_before_expiry(link), "refresh")
        tasks = (receiver, sender, refresher)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        task = next(t for t in tasks if t in done)
        return task.result()

    async def _refresh_before_expiry(self, link: Link) -> Outcome:
        """Treat the token's approaching expiry like a goAway."""
        await asyncio.sleep(self._refresh_after_s)
        if not link.go_away:
            logger.info("live session %s: token expires soon; recycling the connection",
                        self._name)
            link.go_away = True
        # The receiver acts at the next turn boundary; when idle, nothing arrives to wake
        # it, so act here once no turn is under way (after the grace for a late handle).
        while self._messages.busy(link):
            await asyncio.sleep(_HANDLE_GRACE_S)
        if link.handle_stale:
            await asyncio.sleep(_HANDLE_GRACE_S)
        return Outcome.GOAWAY

    def _end_connection(self, link: Link) -> None:
        """Forget a finished connection: close open turns, cancel its tool calls."""
        link.closed = True
        self._transcript.finish_all()
        self._tools.cancel_all(link)

    async def _receive_loop(self, link: Link) -> Outcome:
        """Read server messages until the connection closes or must be recycled."""
        loop = asyncio.get_running_loop()
        handle_deadline: float | None = None
        while True:
            stream = link.session.receive()
            try:
                while True:
                    timeout: float | None = None
                    if link.go_away and not self._messages.busy(link):
                        # Turn boundary after goAway: move now, unless the handle for the
                        # turn that just ended is still on its way (it follows turnComplete).
                        if not link.handle_stale:
                            return Outcome.GOAWAY
                        if handle_deadline is None:
                            handle_deadline = loop.time() + _HANDLE_GRACE_S
                        timeout = handle_deadline - loop.time()
                        if timeout <= 0:
                            return Outcome.GOAWAY
                    try:
                        if timeout is None:
                            message = await anext(stream)
                        else:
                            message = await asyncio.wait_for(anext(stream), timeout)
                    except StopAsyncIteration:
                        break  # receive() stops after each turnComplete; enter it again
                    except TimeoutError:
                        return Outcome.GOAWAY
                    except errors.APIError as exc:
                        if link.go_away:
                            # The server ends a connection it announced with goAway (the
                            # service uses 1008 when a client lingers): just move on.
                            return Outcome.GOAWAY
                        failure = classify_close(exc.code, exc.details)
                        if failure is None:
                            return Outcome.CLOSED
                        raise failure from exc
                    try:
                        self._messages.handle(link, message)
                    except Exception as exc:
                        logger.exception("live session %s: failed to apply a message", self._name)
                        raise LinkFailure(
                            f"The app failed while handling the Live service's reply "
                            f"({type(exc).__name__}: {exc}).", None, False) from exc
            finally:
                await stream.aclose()


def _bare_connect_config() -> types.LiveConnectConfig:
    """The client's own setup: empty.

    The token's locked setup is the whole session setup, resumption handle included;
    the service ignores whatever the connection's own setup says, so it says nothing.
    """
    return types.LiveConnectConfig()


async def close_client(client: genai.Client) -> None:
    """Release a client's HTTP connections (loop thread); never raises."""
    try:
        await client.aio.aclose()
    except Exception:
        logger.debug("closing the async genai client failed", exc_info=True)
    try:
        client.close()
    except Exception:
        logger.debug("closing the genai client failed", exc_info=True)
