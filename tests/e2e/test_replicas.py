"""Two replicas behind HAProxy (issue 17.2), started by the operator's own ``deploy/serve``.

Two analysts land on different replicas (the Settings page names the replica, and so
does HAProxy's affinity cookie); each uploads a different dataset and completes a voice
turn grounded in it. Then one replica is killed: its analyst sees a clear message on the
page HAProxy moved them to and, after reloading, works again (upload, voice turn) on the
other replica, while the other analyst's call goes on untouched: the same Live session,
never ended, still receiving their speech.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e import harness
from tests.e2e.fleet import Fleet, fleet_unavailable_reason, replica_env
from tests.e2e.harness import instruction_text, voice_sessions
from tests.e2e.voice_turn import voice_turn
from tests.requirements_gate import unavailable

pytestmark = pytest.mark.e2e

MOVED_TEXT = "stopped, so this page moved to replica"
_REPLICA_LINE = re.compile(r"Replica:\s*(\S+)")


@pytest.fixture(scope="module")
def fleet_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, object]]:
    reason = fleet_unavailable_reason()
    if reason is not None:
        unavailable(f"the replica tests cannot run: {reason}")
    key = harness.random_api_key()
    emulator = harness.start_emulator(key)
    env = replica_env(emulator, key, LIVECHAT_AUDIO_PROCESSING="off")
    fleet = Fleet(tmp_path_factory.mktemp("fleet"), env, replicas=2)
    try:
        fleet.start()
        yield fleet, emulator
    finally:
        fleet.stop()
        emulator.stop()


@pytest.fixture(scope="module")
def turn_wav(e2e_assets: Path) -> Path:
    """The question every ~9 s (1 s silence, the question, 6 s silence): the reply plays out in
    the silence, and a capture that starts mid-file (Chromium keeps the file's position
    across the tab's captures) hears the question again within seconds."""
    return harness.make_speech_wav(e2e_assets, harness.SPEECH_TEXT, name="speech-fleet.wav",
                                   pad_before=1.0, pad_after=6.0)


def _dataset(folder: Path, name: str, seed: int) -> Path:
    rows = ["ship,port,cargo_tons"] + [f"{name}-ship-{i},port-{(i * seed) % 7},{(i * 37 + seed) % 500}"
                                       for i in range(60)]
    path = folder / f"{name}.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _replica_on_settings(tab: harness.TalkPage) -> str:
    tab.navigate("Settings", "/settings")
    line = tab.page.locator('[data-testid="stMarkdownContainer"]', has_text="Replica:").first
    line.wait_for(timeout=30_000)
    match = _REPLICA_LINE.search(line.inner_text())
    assert match, f"no replica id on Settings: {line.inner_text()!r}"
    return match.group(1).strip("`")


def _cookie_replica(tab: harness.TalkPage) -> str | None:
    cookies = {c["name"]: c["value"] for c in tab.page.context.cookies()}
    return cookies.get("LIVECHAT_REPLICA")


def _voice_turn(tab: harness.TalkPage, emulator, fleet: Fleet, dataset: str, known: set[str]) -> str:
    """Upload already done: go to Talk, speak, wait for a turn grounded in ``dataset``; its session id."""
    tab.navigate_to_talk()

    def grounded(sessions: list[dict]) -> list[dict]:
        return [s for s in voice_sessions(sessions) if s["id"] not in known
                and f'dataset "{dataset}' in instruction_text(s.get("effective_setup"))
                and s["audio_in_seconds"] > 0.5 and s["audio_out_seconds"] > 0]

    return voice_turn(tab, emulator, fleet.log_text, wanted=grounded)["id"]


def _session(emulator, session_id: str) -> dict:
    return next(s for s in emulator.sessions() if s["id"] == session_id)


def test_two_analysts_on_two_replicas_and_one_replica_dies(fleet_stack, browser_factory, turn_wav, tmp_path):
    fleet, emulator = fleet_stack
    alpha, beta = _dataset(tmp_path, "alpha_fleet", 3), _dataset(tmp_path, "beta_fleet", 5)

    with harness.app_failure_context(_FleetLog(fleet), emulator):
        # Analyst A arrives first and keeps the page open (one WebSocket on its replica),
        # so HAProxy's leastconn sends analyst B to the other one.
        browser_a = browser_factory(turn_wav)
        a = browser_a.new_page()
        a.goto(fleet.url, "/")
        a.upload(alpha)
        replica_a = _replica_on_settings(a)
        b = browser_factory(turn_wav).new_page()
        b.goto(fleet.url, "/")
        b.upload(beta)
        replica_b = _replica_on_settings(b)
        assert {replica_a, replica_b} == {"r1", "r2"}, (replica_a, replica_b)
        assert _cookie_replica(a) == replica_a and _cookie_replica(b) == replica_b

        a.navigate("Data", "/")
        b.navigate("Data", "/")
        session_a = _voice_turn(a, emulator, fleet, alpha.name, set())
        # One call at a time on this 2-core machine: A hangs up (their page stays open on
        # their replica), B keeps talking through what follows.
        a.stop_voice()
        emulator.wait_for(lambda ss: _session(emulator, session_a)["ended"] is not None, timeout=15)
        a.navigate("Data", "/")
        session_b = _voice_turn(b, emulator, fleet, beta.name, {session_a})

        # The replica serving A dies.
        heard_b = _session(emulator, session_b)["audio_in_seconds"]
        before_kill = {s["id"] for s in emulator.sessions()}
        fleet.kill(replica_a)

        # Streamlit's page reconnects by itself but shows its last screen until something
        # runs: the analyst's next click (here: the Settings link; the Talk page's own
        # refresh does it at once).
        moved = _next_click_shows_moved(a)
        assert f"replica {replica_a}" in moved and f"replica {replica_b}" in moved, moved

        # B's call never noticed: the same session, still open, still hearing B.
        emulator.wait_for(lambda ss: _session(emulator, session_b)["audio_in_seconds"] > heard_b + 2.0
                          or _session(emulator, session_b)["ended"] is not None, timeout=30)
        b_now = _session(emulator, session_b)
        assert b_now["ended"] is None, f"B's session ended: {b_now['ended']}"
        assert b_now["audio_in_seconds"] > heard_b + 2.0, "B's speech stopped reaching the model"
        assert not [s for s in emulator.sessions() if s["id"] not in before_kill], "a conversation was restarted"
        assert b.state_text() in {"Session: listening", "Session: responding"}, b.state_text()

        # After a reload, A works again, on B's replica. (The reload is a fresh tab of the
        # same browser, cookies kept: the old tab's capture of the fake microphone, whose
        # connection died with the replica, is then surely released.)
        a.close()
        a = browser_a.new_page()
        a.goto(fleet.url, "/")
        a.upload(alpha)
        assert _cookie_replica(a) == replica_b
        known = {s["id"] for s in emulator.sessions()}
        _voice_turn(a, emulator, fleet, alpha.name, known)
        assert a.page.get_by_text(MOVED_TEXT).count() == 0, "the moved message outlived the reload"


def _next_click_shows_moved(tab: harness.TalkPage, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    message = tab.page.get_by_text(MOVED_TEXT).first
    target = ("Settings", "/settings")
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the link may not answer while the page reconnects
            tab.navigate(*target)
        with contextlib.suppress(Exception):
            message.wait_for(timeout=5_000)
            return harness.squash(message.inner_text())
        target = ("Data", "/") if target[0] == "Settings" else ("Settings", "/settings")
    raise AssertionError(f"no message about the move within {timeout_s:.0f} s")


class _FleetLog:
    """Adapter so ``app_failure_context`` prints every replica's and HAProxy's log tail."""

    def __init__(self, fleet: Fleet) -> None:
        self.log_path = fleet.run_dir
        self._fleet = fleet

    def log_tail(self, lines: int = 60) -> str:
        return self._fleet.log_tail(lines)
