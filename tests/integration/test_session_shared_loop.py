"""Live sessions share one loop thread; each one's end leaves the others and the loop clean."""

from __future__ import annotations

import asyncio
import threading

import pytest

from livechat.live.events import SessionState
from livechat.live.loop import THREAD_NAME, live_loop
from livechat.live.session import LiveSession, SessionOptions
from tests.integration.session_support import (
    Recorder,
    assert_ended_cleanly,
    live_settings,
    service_config,
    wait_until,
)

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")]


def _loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def _task_names() -> set[str]:
    """Names of the tasks on the shared loop right now (holds the loop while it looks)."""
    loop = live_loop.acquire()
    try:
        async def names() -> set[str]:
            me = asyncio.current_task()
            return {t.get_name() for t in asyncio.all_tasks() if t is not me}
        return asyncio.run_coroutine_threadsafe(names(), loop).result(5)
    finally:
        live_loop.release(loop)


def test_sessions_share_one_loop_thread_and_end_independently(emulator) -> None:
    assert _loop_threads() == [], "a loop thread was left by an earlier test"
    first = LiveSession(config=service_config(emulator), settings=live_settings(), options=SessionOptions(name="shared-a"))
    second = LiveSession(config=service_config(emulator), settings=live_settings(), options=SessionOptions(name="shared-b"))
    try:
        first.start()
        second.start()
        a, b = Recorder(first), Recorder(second)
        a.wait_state(SessionState.READY)
        b.wait_state(SessionState.READY)
        assert len(_loop_threads()) == 1
        assert not [t for t in threading.enumerate() if t.name.startswith("shared-")]
        a.ask("Which keeper logged the most storm nights?")
        names = _task_names()
        assert any(n.startswith("shared-a-") for n in names)
        assert any(n.startswith("shared-b-") for n in names)

        assert first.stop(timeout=5.0)
        assert first.state is SessionState.CLOSED and not first.running
        # The other session goes on, on the same loop thread.
        assert second.running and len(_loop_threads()) == 1
        b.ask("And the fewest?")
        assert not any(n.startswith("shared-a-") for n in _task_names())
        assert any(n.startswith("shared-b-") for n in _task_names())
    finally:
        first.stop(timeout=5.0)
        assert_ended_cleanly(second)
    # The last session's stop() returns once the loop's thread has ended.
    assert _loop_threads() == []
    assert [r["ended"] is not None for r in emulator.sessions()] == [True, True]


def test_a_session_started_after_the_loop_wound_down_gets_a_new_one(emulator) -> None:
    first = LiveSession(config=service_config(emulator), settings=live_settings(), options=SessionOptions(name="again-a"))
    first.start()
    Recorder(first).wait_state(SessionState.READY)
    assert_ended_cleanly(first)
    assert _loop_threads() == []

    second = LiveSession(config=service_config(emulator), settings=live_settings(), options=SessionOptions(name="again-b"))
    try:
        second.start()
        recorder = Recorder(second)
        recorder.wait_state(SessionState.READY)
        assert len(_loop_threads()) == 1
        recorder.ask("Still there?")
    finally:
        assert_ended_cleanly(second)
    wait_until(lambda: not _loop_threads(), 5, "the loop thread gone")
