"""Figure marks on the Talk page in AppTest (issue 30): a reply's figures get badges and a
caption, and the Settings page's switch hides them on screen.

A typed ``call run_sql`` makes the emulated model quote the tool's JSON: its cells are
found in the data (checks); the query's elapsed milliseconds are not data (a warning, or
a check where some statistic happens to match).
"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from livechat.ui import figures_view, state, talk
from livechat.voice.bridge import VoiceBridge
from tests.app.apptest_support import new_app
from tests.app.test_app_talk import _bridge, _rerun_until


def _badges(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if "found in the data" in c.value]


def test_marks_show_under_a_reply_and_the_setting_hides_them(bridges: list[VoiceBridge]) -> None:
    at = new_app().run()
    at.switch_page("pages/talk.py").run()
    bridges.append(_bridge(at))
    # Not "SELECT 3075": numbers the question itself contains are not checked.
    query = {"query": "SELECT count(*) AS logs, sum(ships_sighted) AS ships FROM data"}
    at.chat_input(key=talk.CHAT_KEY).set_value(f"call run_sql {json.dumps(query)}").run()
    _rerun_until(at, lambda a: any("3075" in b for b in _badges(a)), "a checked reply")
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
