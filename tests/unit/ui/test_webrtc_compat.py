"""Unit tests for livechat.ui.webrtc_compat: the library check, the patches, the counter.

The counter's effect on streamlit-webrtc's own reset check is exercised in
tests/app/test_app_webrtc_compat.py (it needs a script run).
"""

from __future__ import annotations

import types

import pytest
import streamlit_webrtc.component as webrtc_component
import streamlit_webrtc.session_info as webrtc_session_info
import streamlit_webrtc.shutdown as webrtc_shutdown

from livechat.ui import webrtc_compat
from livechat.ui.webrtc_compat import RUN_COUNT_STEP, WebrtcCompatError


def test_the_installed_library_has_what_the_shim_replaces() -> None:
    webrtc_compat.check_library()  # raises on an upgrade that moved or stopped using them


def _module(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def test_an_upgrade_that_drops_a_name_fails_loudly() -> None:
    component = _module("fake.component", _get_or_create_context=webrtc_component._get_or_create_context,
                        get_this_session_info=lambda: None)  # no get_script_run_count
    with pytest.raises(WebrtcCompatError, match="get_script_run_count is missing"):
        webrtc_compat.check_library(component=component)


def test_an_upgrade_that_stops_calling_the_counter_fails_loudly() -> None:
    def _get_or_create_context(key):  # a future version that no longer uses the counter
        return get_this_session_info()  # noqa: F821

    component = _module("fake.component", _get_or_create_context=_get_or_create_context,
                        get_script_run_count=lambda info: 0, get_this_session_info=lambda: None)
    with pytest.raises(WebrtcCompatError, match="no longer calls get_script_run_count"):
        webrtc_compat.check_library(component=component)


def test_install_is_idempotent_and_patches_the_call_sites() -> None:
    webrtc_compat.install()
    first = webrtc_component.get_script_run_count
    webrtc_compat.install()
    assert webrtc_compat.installed()
    assert webrtc_component.get_script_run_count is first
    assert webrtc_shutdown.get_this_session_info is webrtc_component.get_this_session_info
    # The library's own module keeps the originals: they are what the patches fall back to.
    assert webrtc_session_info.get_script_run_count is not first


def test_the_counter_moves_only_for_runs_without_the_component() -> None:
    state: dict = {}
    assert webrtc_compat.page_run_count(state) == 0
    for _ in range(3):
        webrtc_compat.note_page_run(True, state)  # Talk-page runs, reruns included
    assert webrtc_compat.page_run_count(state) == 0
    webrtc_compat.note_page_run(False, state)  # one run of another page
    assert webrtc_compat.page_run_count(state) == RUN_COUNT_STEP
    webrtc_compat.note_page_run(False, state)
    assert webrtc_compat.page_run_count(state) == 2 * RUN_COUNT_STEP
    # The library resets when the count moved by more than one since the last render:
    assert RUN_COUNT_STEP > 1


def test_outside_a_script_run_the_library_counter_is_used() -> None:
    webrtc_compat.install()
    info = types.SimpleNamespace(script_run_count=41)
    assert webrtc_component.get_script_run_count(info) == 41


def test_a_mocked_runtime_counts_as_no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    webrtc_compat.install()

    def mocked_runtime_lookup():
        raise AttributeError("Mock object has no attribute '_session_mgr'")

    monkeypatch.setattr(webrtc_session_info, "get_this_session_info", mocked_runtime_lookup)
    assert webrtc_component.get_this_session_info() is None
    sentinel = object()
    monkeypatch.setattr(webrtc_session_info, "get_this_session_info", lambda: sentinel)
    assert webrtc_shutdown.get_this_session_info() is sentinel
