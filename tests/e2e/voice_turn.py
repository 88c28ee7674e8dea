"""One voice turn for the hosting tests (relay, replicas, the default model).

START (already on the Talk page) and wait until the turn the caller wants is done. The
apps run with the default watchdog settings: a late frame on a loaded machine only pauses
the uplink (issue 33), so nothing here starts a turn again. Should the app still end the
session early, the failure names the reason it logged (a browser-gone signal or the stall
bound) instead of waiting for the timeout.

Threads: the test's main thread.
"""

from __future__ import annotations

from typing import Callable

from livechat.voice.stream import GONE_LOG, STALL_LOG, TRACK_ENDED_LOG
from tests.e2e.browser import TalkPage
from tests.e2e.errors import HarnessError


def voice_turn(tab: TalkPage, emulator, log_text: Callable[[], str], *,
               wanted: Callable[[list[dict]], list[dict]], timeout: float = 60.0) -> dict:
    """START (already on the Talk page), wait until ``wanted(sessions)`` is non-empty; return its first.

    ``wanted`` must pick sessions that completed the turn; sessions seen before the call
    are the caller's business (filter them in ``wanted``).
    """
    before = {s["id"] for s in emulator.sessions()}
    log_before = len(log_text())
    tab.start_voice()

    def done_or_ended(sessions: list[dict]) -> bool:
        mine = [s for s in sessions if s["id"] not in before]
        return bool(wanted(sessions)) or (bool(mine) and all(s["ended"] for s in mine))

    emulator.wait_for(done_or_ended, timeout=timeout)
    found = wanted(emulator.sessions())
    if found:
        return found[0]
    reasons = [line for line in log_text()[log_before:].splitlines()
               if any(word in line for word in (GONE_LOG, STALL_LOG, TRACK_ENDED_LOG))]
    raise HarnessError(f"the voice session ended before the turn completed; the app logged: {reasons[-3:]}")
