"""The app shell: the navigation lists every page, and every page carries the shared
sidebar whether app.py ran it or Streamlit ran it directly.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.apptest_support import new_app

def _registered_page_files(at: AppTest) -> set[str]:
    # AppTest keeps st.navigation's registry privately; switch_page() reads the same map.
    return {Path(str(info["script_path"])).name for info in at._registered_pages.values()}


def test_the_navigation_has_data_talk_and_settings() -> None:
    at = new_app().run()
    assert not at.exception
    assert _registered_page_files(at) == {"data.py", "talk.py", "settings.py"}
    assert at.title[0].value == "Data"
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    assert at.title[0].value == "Talk"
    assert "**Offline emulator**" in [m.value for m in at.sidebar.markdown]


def test_every_rerun_keeps_the_sidebar() -> None:
    # AppTest reruns a pages/ file without app.py (see livechat/ui/shell.py); the page
    # draws the shell itself then, exactly once.
    at = new_app().run()
    first = [m.value for m in at.sidebar.markdown]
    for _ in range(2):
        at.run()
        assert not at.exception
        assert [m.value for m in at.sidebar.markdown] == first
    # "Dataset", "Voice endpoint" and "Conversations", not doubled
    assert [h.value for h in at.sidebar.subheader] == ["Dataset", "Voice endpoint", "Conversations"]


def test_a_test_run_of_the_app_freezes_nothing_of_the_test_process() -> None:
    # livechat/ui/gc_tuning.py freezes the imports in a real server only: here the objects
    # are the test run's, and a frozen cycle would never be collected.
    import gc

    from livechat.ui import gc_tuning

    gc.unfreeze()
    gc_tuning._frozen.clear()  # as in a fresh process: the first run is the one that would freeze
    at = new_app().run()
    assert not at.exception
    assert gc.get_freeze_count() == 0
