"""Figure marks on the Talk page in AppTest (issue 30): a reply's figures get badges and a
caption, and the Settings page's switch hides them on screen.

The emulator's echo reply ends "(<N> characters)": a figure no data supports, so the
reply gets one warning badge. A typed ``call run_sql`` makes the model quote the tool's
JSON: its cells are found in the data (checks).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from livechat.ui import figures_view, state, talk
from livechat.voice.bridge import VoiceBridge
from tests.app.apptest_support import new_app

REPLY_TIMEOUT_S = 90.0


@pytest.fixture
def bridges() -> Iterator[list[VoiceBridge]]:
    seen: list[VoiceBridge] = []
    yield seen
    for bridge in seen:
        bridge.close()


def _badges(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if "found in the data" in c.value]


def _rerun_until(at: AppTest, bridge: VoiceBridge, done, what: str) -> None:
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while True:
        at.run()
        assert not at.exception
        if done(at):
            return
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{what}: not seen; markdown={[m.value for m in at.markdown]}"
        bridge.wait_for_events(min(remaining, 5.0))


def test_marks_show_under_a_reply_and_the_setting_hides_them(bridges: list[VoiceBridge]) -> None:
    at = new_app().run()
    at.switch_page("pages/talk.py").run()
    bridge = at.session_state[talk.BRIDGE_STATE_KEY]
    bridges.append(bridge)
    # Not "SELECT 3075": numbers the question itself contains are not checked.
    query = {"query": "SELECT count(*) AS logs, sum(ships_sighted) AS ships FROM data"}
    at.chat_input(key=talk.CHAT_KEY).set_value(f"call run_sql {json.dumps(query)}").run()
    _rerun_until(at, bridge, lambda a: any("3075" in b for b in _badges(a)), "a checked reply")
    badges = _badges(at)
    assert any("check" in b and "3075" in b for b in badges), badges
    assert any("check" in b and "13951" in b for b in badges), badges
    [caption] = _captions(at)
    assert caption.startswith(f"{sum('check' in b for b in badges)} of {len(badges)} figures found in the data")

    at.switch_page("pages/settings.py").run()
    assert not at.exception
    at.toggle(key=state.FIGURE_MARKS_WIDGET_KEY).set_value(False).run()
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    assert _badges(at) == [] and _captions(at) == []
    assert any("run_sql tool returned" in " ".join(t.value for t in m.text) for m in at.chat_message)
    assert figures_view.MARKS_KEY_PREFIX == "figures-"
