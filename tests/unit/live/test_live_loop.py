"""SharedLoop: one loop thread while anyone holds it, none once the last user is gone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from livechat.live.loop import SharedLoop

pytestmark = pytest.mark.timeout(30)


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def _on(loop: asyncio.AbstractEventLoop, coro):
    return asyncio.run_coroutine_threadsafe(coro, loop).result(5)


async def _thread_name() -> str:
    return threading.current_thread().name


def test_users_share_one_loop_on_one_thread_until_the_last_release() -> None:
    host = SharedLoop("test-shared-loop-a")
    first = host.acquire()
    second = host.acquire()
    assert first is second
    assert _on(first, _thread_name()) == "test-shared-loop-a"
    assert len(_threads("test-shared-loop-a")) == 1 and host.users == 2

    host.release(first)
    assert _on(first, _thread_name()) == "test-shared-loop-a"  # still served for the other user
    host.release(second)
    assert host.join_retired(5)
    assert _threads("test-shared-loop-a") == []
    assert first.is_closed() and host.users == 0


def test_a_loop_acquired_after_the_last_release_is_a_fresh_one() -> None:
    host = SharedLoop("test-shared-loop-b")
    old = host.acquire()
    host.release(old)
    new = host.acquire()
    try:
        assert new is not old
        assert _on(new, _thread_name()) == "test-shared-loop-b"
    finally:
        host.release(new)
    assert host.join_retired(5)
    assert old.is_closed() and new.is_closed()


def test_tasks_left_on_the_loop_are_cancelled_when_it_stops() -> None:
    host = SharedLoop("test-shared-loop-c")
    loop = host.acquire()
    cancelled = threading.Event()

    async def forgotten() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def start_and_forget() -> None:
        loop.create_task(forgotten())
        await asyncio.sleep(0)

    _on(loop, start_and_forget())
    host.release(loop)
    assert host.join_retired(5)
    assert cancelled.is_set()


def test_release_may_come_from_the_loop_thread_itself() -> None:
    host = SharedLoop("test-shared-loop-d")
    loop = host.acquire()

    async def release_here() -> bool:
        host.release(loop)
        return host.is_loop_thread()

    on_loop_thread = _on(loop, release_here())
    assert on_loop_thread
    assert host.join_retired(5)
    assert not host.is_loop_thread()
    assert _threads("test-shared-loop-d") == []


def test_releasing_a_loop_it_did_not_hand_out_is_an_error() -> None:
    host = SharedLoop("test-shared-loop-e")
    stranger = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError, match="did not hand out"):
            host.release(stranger)
        loop = host.acquire()
        host.release(loop)
        with pytest.raises(RuntimeError, match="did not hand out"):
            host.release(loop)  # one release too many
    finally:
        stranger.close()
    assert host.join_retired(5)
