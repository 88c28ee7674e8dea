"""Helpers for LiveSession tests: a config for an emulator, an event recorder, leak checks.

Everything talks to the emulator through the real google-genai SDK.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from livechat.config import ServiceConfig
from livechat.live.events import (
    ErrorEvent,
    Event,
    Notice,
    SessionState,
    StateChanged,
    TranscriptUpdate,
)
from livechat.live.session import LiveSession
from livechat.live.tokens import LiveSettings
from tests.conftest import LIVE_MODEL, TEST_API_KEY

warnings.filterwarnings("ignore", message=".*ephemeral token support.*")
warnings.filterwarnings("ignore", message=".*token creation implementation.*")

INSTRUCTION = "You answer questions about the lighthouse keepers table.\nSecond line of rules."


def service_config(server, *, api_key: str = TEST_API_KEY, **fields) -> ServiceConfig:
    """A ServiceConfig pointing at ``server`` (trusting only its CA)."""
    return ServiceConfig(api_key=api_key, base_url=server.base_url, ca_file=server.ca_file,
                         model=LIVE_MODEL, **fields)


def live_settings(instruction: str = INSTRUCTION, **fields) -> LiveSettings:
    return LiveSettings(model=LIVE_MODEL, system_instruction=instruction, **fields)


@dataclass
class Recorder:
    """Drains a LiveSession's events and waits for conditions on everything seen so far."""

    session: LiveSession
    events: list[Event] = field(default_factory=list)

    def drain(self, timeout: float = 0.0) -> list[Event]:
        new = self.session.poll_events(timeout)
        self.events.extend(new)
        return new

    def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 15.0,
                 what: str = "condition") -> list[Event]:
        """Wait until ``predicate(events)`` holds, woken by each new event; fail with context."""
        deadline = time.monotonic() + timeout
        self.drain()
        while not predicate(self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{what} not reached within {timeout} s; state={self.session.state}, "
                    f"events={self.events[-30:]!r}")
            self.drain(min(remaining, 0.5))
        return self.events

    def wait_state(self, *states: SessionState, timeout: float = 15.0) -> None:
        self.wait_for(lambda _: self.session.state in states, timeout, f"state in {states}")

    # -- views

    def finals(self, role: str) -> list[str]:
        return [e.text for e in self.events
                if isinstance(e, TranscriptUpdate) and e.final and e.role == role]

    def errors(self) -> list[ErrorEvent]:
        return [e for e in self.events if isinstance(e, ErrorEvent)]

    def notices(self) -> list[str]:
        return [e.message for e in self.events if isinstance(e, Notice)]

    def states(self) -> list[SessionState]:
        return [e.state for e in self.events if isinstance(e, StateChanged)]

    def answered(self, question: str) -> Callable[[list[Event]], bool]:
        """Predicate: a final model turn quoting ``question`` has arrived."""
        needle = f'You said: "{question}"'
        return lambda events: any(isinstance(e, TranscriptUpdate) and e.final and e.role == "model"
                                  and needle in e.text for e in events)

    def ask(self, question: str, timeout: float = 15.0) -> str:
        """Type ``question`` and wait for the model's final answer to it; return the answer."""
        self.session.send_text(question)
        self.wait_for(self.answered(question), timeout, f"answer to {question!r}")
        needle = f'You said: "{question}"'
        return next(t for t in reversed(self.finals("model")) if needle in t)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def session_threads(name: str) -> list[threading.Thread]:
    """Threads a LiveSession called ``name`` started (its loop thread and tool workers)."""
    return [t for t in threading.enumerate() if t.name == name or t.name.startswith(f"{name}-")]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for a condition that has no event to wake on (threads ending, fds closing).

    Re-checks at short intervals; fails with ``what`` if it is not met within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    gate = threading.Event()
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{what} not reached within {timeout} s")
        gate.wait(min(0.05, remaining))


def assert_ended_cleanly(session: LiveSession, *, timeout: float = 5.0) -> None:
    """The session's thread and tool workers are gone (stop() joined them)."""
    assert session.stop(timeout=timeout), "LiveSession.stop() did not end the thread"
    assert not session.running
    wait_until(lambda: not session_threads(session.name), timeout,
               f"threads of {session.name} gone")
