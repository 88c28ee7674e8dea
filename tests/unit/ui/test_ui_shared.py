"""WeakShared: values shared while held, made once under the registry's make lock."""

from __future__ import annotations

import gc
import threading

import pytest

from livechat.ui.shared import WeakShared


class _Value:
    pass


def test_get_or_make_makes_once_and_shares_while_held_then_forgets():
    shared: WeakShared[_Value] = WeakShared()
    made: list[_Value] = []

    def make() -> _Value:
        made.append(_Value())
        return made[-1]

    first = shared.get_or_make("k", make)
    assert shared.get_or_make("k", make) is first and len(made) == 1
    del first, made[:]
    gc.collect()
    assert shared.keys() == []  # nobody holds it: made anew next time
    assert shared.get_or_make("k", make) is made[0]


def test_two_threads_asking_for_a_new_key_get_one_value():
    shared: WeakShared[_Value] = WeakShared()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow_make() -> _Value:
        calls.append(1)
        started.set()
        release.wait(5)
        return _Value()

    results: list[_Value] = []
    threads = [threading.Thread(target=lambda: results.append(shared.get_or_make("k", slow_make)))
               for _ in range(2)]
    threads[0].start()
    assert started.wait(5)
    threads[1].start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1 and len(results) == 2 and results[0] is results[1]


def test_a_failed_make_shares_nothing():
    shared: WeakShared[_Value] = WeakShared()

    def fail() -> _Value:
        raise ValueError("no")

    with pytest.raises(ValueError):
        shared.get_or_make("k", fail)
    assert shared.keys() == []
