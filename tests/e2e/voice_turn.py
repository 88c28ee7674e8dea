"""One voice turn for the hosting tests, with one restart when the machine starved the stream.

The bridge ends a session whose uplink delivers no frame for 1 s (a closed tab must not
hold a Live session for long). On a 2-core machine shared by several test runs (load
average 10-12 measured while these tests were written), Chromium or aiortc is sometimes
descheduled that long, and the app rightly logs "no uplink audio for 1.x s" and ends the
session. That is not what the relay, replica or restart tests examine, so such a turn is
started again once; the restart is printed (and counted), never silent. Any other failure,
or a second stall, fails the test.

Threads: the test's main thread.
"""

from __future__ import annotations

from typing import Callable

from tests.e2e.browser import TalkPage
from tests.e2e.errors import HarnessError

STALL_LOG = "no uplink audio for"


def voice_turn(tab: TalkPage, emulator, log_text: Callable[[], str], *,
               wanted: Callable[[list[dict]], list[dict]], timeout: float = 60.0) -> dict:
    """START (already on the Talk page), wait until ``wanted(sessions)`` is non-empty; return its first.

    ``wanted`` must pick sessions that completed the turn; sessions seen before the call
    are the caller's business (filter them in ``wanted``).
    """
    before = {s["id"] for s in emulator.sessions()}
    stalls_before = log_text().count(STALL_LOG)
    for attempt in range(2):
        tab.start_voice()

        def done_or_dead(sessions: list[dict]) -> bool:
            if wanted(sessions):
                return True
            mine = [s for s in sessions if s["id"] not in before]
            return bool(mine) and all(s["ended"] for s in mine) and log_text().count(STALL_LOG) > stalls_before

        emulator.wait_for(done_or_dead, timeout=timeout)
        found = wanted(emulator.sessions())
        if found:
            return found[0]
        if attempt:
            break
        print(f"voice_turn: the app ended the session on a stalled uplink (machine load); starting again once")
        tab.stop_voice()
        before = {s["id"] for s in emulator.sessions()}
        stalls_before = log_text().count(STALL_LOG)
    raise HarnessError("the voice turn did not complete: the uplink stalled twice")
