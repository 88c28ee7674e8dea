"""One voice turn for the hosting tests, restarted (bounded) when the machine starved the stream.

The bridge ends a session whose uplink delivers no frame for 1 s (a closed tab must not
hold a Live session for long). On a 2-core machine shared by several test runs (load
average 10-12 measured while these tests were written), Chromium or aiortc is sometimes
descheduled that long, and the app rightly logs "no uplink audio for 1.x s" and ends the
session. That is not what the relay, replica or restart tests examine: their apps run with
``LIVECHAT_UPLINK_STALL_S=3``, and should a stall still happen, the turn is
started again (at most MAX_RESTARTS times); each restart is printed, never silent. Any
other failure, or one stall too many, fails the test.

Threads: the test's main thread.
"""

from __future__ import annotations

from typing import Callable

from tests.e2e.browser import TalkPage
from tests.e2e.errors import HarnessError

STALL_LOG = "no uplink audio for"  # the bridge's log line (livechat.voice.bridge)
MAX_RESTARTS = 2


def voice_turn(tab: TalkPage, emulator, log_text: Callable[[], str], *,
               wanted: Callable[[list[dict]], list[dict]], timeout: float = 60.0) -> dict:
    """START (already on the Talk page), wait until ``wanted(sessions)`` is non-empty; return its first.

    ``wanted`` must pick sessions that completed the turn; sessions seen before the call
    are the caller's business (filter them in ``wanted``).
    """
    before = {s["id"] for s in emulator.sessions()}
    stalls_before = log_text().count(STALL_LOG)
    for attempt in range(MAX_RESTARTS + 1):
        tab.start_voice()

        def done_or_dead(sessions: list[dict]) -> bool:
            if wanted(sessions):
                return True
            # The stall can come before the Live session even connected (no record then).
            mine = [s for s in sessions if s["id"] not in before]
            return all(s["ended"] for s in mine) and log_text().count(STALL_LOG) > stalls_before

        emulator.wait_for(done_or_dead, timeout=timeout)
        found = wanted(emulator.sessions())
        if found:
            return found[0]
        if attempt == MAX_RESTARTS:
            break
        print("voice_turn: the app ended the session on a stalled uplink (machine load); starting again")
        tab.stop_voice()
        # Leave the Talk page and come back (the dataset stays): a fresh bridge and stream.
        # A STOP and START in quick succession can reach a loaded server as one run that
        # never sees the stream stopped, and a stalled stream restarts only after that.
        tab.navigate("Data", "/")
        tab.navigate_to_talk()
        before = {s["id"] for s in emulator.sessions()}
        stalls_before = log_text().count(STALL_LOG)
    raise HarnessError(f"the voice turn did not complete: the uplink stalled {MAX_RESTARTS + 1} times")
