"""The app shell: the Talk page joins the navigation only when pages/talk.py exists, and
every page carries the shared sidebar whether app.py ran it or Streamlit ran it directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.apptest_support import APP, REPO, new_app

TALK_STUB = '''import streamlit as st

from livechat.ui import shell

shell.ensure_shell()
st.title("Talk stub")
'''


def _copy_of_app(tmp_path: Path, *, with_talk: bool) -> Path:
    shutil.copy(APP, tmp_path / "app.py")
    (tmp_path / "pages").mkdir()
    for name in ("data.py", "settings.py"):
        shutil.copy(REPO / "pages" / name, tmp_path / "pages" / name)
    if with_talk:
        (tmp_path / "pages" / "talk.py").write_text(TALK_STUB)
    return tmp_path / "app.py"


def _registered_page_files(at: AppTest) -> set[str]:
    # AppTest keeps st.navigation's registry privately; switch_page() reads the same map.
    return {Path(str(info["script_path"])).name for info in at._registered_pages.values()}


def test_the_talk_page_is_in_the_navigation_when_its_file_exists(tmp_path: Path) -> None:
    at = new_app(_copy_of_app(tmp_path, with_talk=True)).run()
    assert not at.exception
    assert _registered_page_files(at) == {"data.py", "talk.py", "settings.py"}
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    assert at.title[0].value == "Talk stub"
    assert "**Offline emulator**" in [m.value for m in at.sidebar.markdown]


def test_without_pages_talk_the_app_runs_with_data_and_settings_only(tmp_path: Path) -> None:
    at = new_app(_copy_of_app(tmp_path, with_talk=False)).run()
    assert not at.exception
    assert _registered_page_files(at) == {"data.py", "settings.py"}
    assert at.title[0].value == "Data"


def test_every_rerun_keeps_the_sidebar() -> None:
    # AppTest reruns a pages/ file without app.py (see livechat/ui/shell.py); the page
    # draws the shell itself then, exactly once.
    at = new_app().run()
    first = [m.value for m in at.sidebar.markdown]
    for _ in range(2):
        at.run()
        assert not at.exception
        assert [m.value for m in at.sidebar.markdown] == first
    assert len(at.sidebar.subheader) == 2  # "Dataset" and "Voice endpoint", not doubled
