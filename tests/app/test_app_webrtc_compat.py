"""streamlit-webrtc's stale-context reset under the compat shim, in real script runs.

``_get_or_create_context`` (the library's own code) runs inside AppTest script runs. A
fake session info stands in for Streamlit's, whose ``script_run_count`` the test moves
the way the race does: the count is bumped on the event-loop thread when a run's
``script_finished`` is sent, so a fast rerun can read it late and see a jump of two.
"""

from __future__ import annotations

import types

import pytest
import streamlit_webrtc.component as webrtc_component
import streamlit_webrtc.session_info as webrtc_session_info
from streamlit.testing.v1 import AppTest

from livechat.ui import webrtc_compat


def _script() -> None:
    import streamlit as st
    from streamlit_webrtc import component

    from livechat.ui import webrtc_compat

    page = st.session_state.get("page", "talk")
    webrtc_compat.note_page_run(page == "talk")  # what app.py does
    if page == "talk":
        context = component._get_or_create_context("voice")
        # A marker on the context: a reset by the library clears it.
        st.session_state.setdefault("survived", []).append(context._sdp_answer_json == "marker")
        context._sdp_answer_json = "marker"


@pytest.fixture
def runtime_count(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Streamlit's per-session run count as the library would read it (set by the test)."""
    info = types.SimpleNamespace(script_run_count=0)
    monkeypatch.setattr(webrtc_session_info, "get_this_session_info", lambda: info)
    webrtc_compat.install()
    return info


def _run(at: AppTest, info: types.SimpleNamespace, count: int, page: str = "talk") -> None:
    info.script_run_count = count
    at.session_state["page"] = page
    at.run()
    assert not at.exception


def test_without_the_shim_a_stale_count_resets_a_live_context(
        runtime_count: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webrtc_component, "get_script_run_count", webrtc_session_info.get_script_run_count)
    at = AppTest.from_function(_script)
    _run(at, runtime_count, 0)
    _run(at, runtime_count, 2)  # two Talk runs in a row, the second read a jumped count
    assert at.session_state["survived"] == [False, False]  # the worker would be stopped here


def test_with_the_shim_talk_page_reruns_never_reset_it(runtime_count: types.SimpleNamespace) -> None:
    at = AppTest.from_function(_script)
    for count in (0, 2, 3, 6, 7):  # whatever the runtime's count does meanwhile
        _run(at, runtime_count, count)
    assert at.session_state["survived"] == [False, True, True, True, True]


def test_with_the_shim_leaving_the_page_and_coming_back_still_resets(
        runtime_count: types.SimpleNamespace) -> None:
    at = AppTest.from_function(_script)
    _run(at, runtime_count, 0)
    _run(at, runtime_count, 1)
    _run(at, runtime_count, 2, page="data")  # the component is not rendered in this run
    _run(at, runtime_count, 3)
    _run(at, runtime_count, 4)
    assert at.session_state["survived"] == [False, True, False, True]
