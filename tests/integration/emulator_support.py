"""Helpers for the emulator integration tests: mint, run a turn, capture how a session ended.

Everything goes through the real google-genai SDK (never mocked).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import warnings
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from google.genai import errors, types

from tests.conftest import LIVE_MODEL, TEST_API_KEY, make_genai_client

warnings.filterwarnings("ignore", message=".*ephemeral token support.*")
warnings.filterwarnings("ignore", message=".*token creation implementation.*")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def mint(server, **config: Any) -> str:
    """Mint a token with the server's key; ``config`` is a CreateAuthTokenConfig dict."""
    config.setdefault("expire_time", utc_now() + dt.timedelta(minutes=30))
    config.setdefault("new_session_expire_time", utc_now() + dt.timedelta(minutes=1))
    # Keep the client referenced: a garbage-collected Client closes its HTTP client mid-call.
    client = make_genai_client(server, TEST_API_KEY)
    return client.auth_tokens.create(config=config).name


def constraints(**config: Any) -> dict:
    """``live_connect_constraints`` for the default model."""
    return {"model": LIVE_MODEL, "config": config}


@dataclass
class Turn:
    """What the SDK received during one ``receive()`` loop."""

    messages: list = field(default_factory=list)

    @property
    def input_text(self) -> str:
        return "".join(m.server_content.input_transcription.text for m in self.messages
                       if m.server_content and m.server_content.input_transcription)

    @property
    def output_text(self) -> str:
        return "".join(m.server_content.output_transcription.text for m in self.messages
                       if m.server_content and m.server_content.output_transcription)

    @property
    def audio(self) -> bytes:
        return b"".join(m.data for m in self.messages if m.data)

    @property
    def interrupted(self) -> bool:
        return any(m.server_content and m.server_content.interrupted for m in self.messages)

    @property
    def generation_complete(self) -> bool:
        return any(m.server_content and m.server_content.generation_complete for m in self.messages)

    @property
    def turn_complete(self) -> bool:
        return bool(self.messages) and bool(self.messages[-1].server_content
                                            and self.messages[-1].server_content.turn_complete)

    def first(self, attribute: str):
        return next((getattr(m, attribute) for m in self.messages if getattr(m, attribute)), None)


async def receive_turn(session, on_message: Callable[[Any], Awaitable[None]] | None = None) -> Turn:
    """Collect one ``session.receive()`` loop (up to and including turnComplete)."""
    turn = Turn()
    async for message in session.receive():
        turn.messages.append(message)
        if on_message is not None:
            await on_message(message)
    return turn


async def receive_until(session, predicate: Callable[[Any], bool], limit: int = 2000) -> list:
    """Receive across turns until ``predicate(message)``; return every message seen."""
    seen = []
    while len(seen) < limit:
        async for message in session.receive():
            seen.append(message)
            if predicate(message):
                return seen
    raise AssertionError(f"predicate not met in {limit} messages")


def text_turn(server, api_key: str, text: str, config: dict | None = None) -> Turn:
    """Connect, send ``text`` as realtime input, return the reply turn."""

    async def run() -> Turn:
        client = make_genai_client(server, api_key)
        async with client.aio.live.connect(model=LIVE_MODEL, config=config or {}) as session:
            await session.send_realtime_input(text=text)
            return await receive_turn(session)

    return asyncio.run(asyncio.wait_for(run(), 20))


def live_error(server, api_key: str, config: dict | None = None, model: str = LIVE_MODEL,
               after: Callable[[Any], Awaitable[None]] | None = None) -> errors.APIError:
    """Connect (and run ``after(session)``), expecting the SDK to raise ``APIError``; return it."""

    async def run() -> None:
        client = make_genai_client(server, api_key)
        async with client.aio.live.connect(model=model, config=config or {}) as session:
            if after is not None:
                await after(session)
            else:
                await session.send_realtime_input(text="hello")
                while True:
                    await receive_turn(session)

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
    except errors.APIError as exc:
        return exc
    raise AssertionError("the session ended without an APIError")


def ssl_context(server) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=server.ca_file)


def live_uri(server, method: str = "BidiGenerateContent", version: str = "v1alpha", query: str = "") -> str:
    base = server.base_url.replace("https://", "wss://")
    return f"{base}/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}{query}"


def only_session(server) -> dict:
    """Wait until exactly one session exists and has ended; return it."""
    return server.wait_for(lambda s: len(s) == 1 and s[0]["ended"] is not None)[0]


__all__ = ["LIVE_MODEL", "TEST_API_KEY", "Turn", "constraints", "live_error", "live_uri", "mint",
           "only_session", "receive_turn", "receive_until", "ssl_context", "text_turn", "types", "utc_now"]
