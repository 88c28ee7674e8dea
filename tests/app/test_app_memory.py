"""Fits the host (issue 29) in AppTest: a file the memory limit cannot hold is refused in
plain words while the app keeps serving; a loaded file leaves the uploader; Settings shows
the process tree's memory against the limit."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from livechat.procstat import tree_memory_bytes
from livechat.ui import state
from tests.app.apptest_support import new_app

MB = 2**20
SALES_CSV = b"region,units\nNorth,12\nSouth,7\nEast,3\n"


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception  # never a traceback
    return at


def test_a_file_over_the_memory_limit_is_refused_and_the_app_keeps_serving(
        monkeypatch: pytest.MonkeyPatch) -> None:
    at = new_app().run()
    sample = at.main.header[0].value
    # 150 MB free; the 60 MB CSV needs about 180 MB to load (and its bytes take 60 MB more).
    limit_mb = (tree_memory_bytes() + 150 * MB) // MB
    monkeypatch.setenv("LIVECHAT_MEMORY_LIMIT_MB", str(limit_mb))
    big = b"a,b\n" + b"1,2\n" * 15_000_000

    at = _upload(at, "extract.csv", big)
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("Not loaded: extract.csv needs about ")
    assert "this server has" in message and "try a smaller extract" in message
    assert f"Still showing {sample}" in message
    assert at.main.header[0].value == sample

    at = _upload(at, "sales.csv", SALES_CSV)  # still serving, under the same limit
    assert not at.error
    assert at.main.header[0].value == "sales.csv"
    assert at.dataframe[0].value["units"].tolist() == [12, 7, 3]


def test_a_loaded_file_leaves_the_uploader_and_the_table_stays() -> None:
    at = _upload(new_app().run(), "sales.csv", SALES_CSV)
    uploader = at.file_uploader[0]
    assert uploader.key != state.UPLOAD_WIDGET_KEY  # a new, empty uploader
    assert not uploader.value
    at.run()  # a rerun draws from the table, not from the upload's bytes
    assert at.main.header[0].value == "sales.csv"
    assert at.dataframe[0].value["units"].tolist() == [12, 7, 3]
    at = _upload(at, "more.csv", b"x,y\n1,2\n")  # the new uploader loads the next file
    assert at.main.header[0].value == "more.csv"


def test_settings_shows_the_tree_memory_against_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVECHAT_MEMORY_LIMIT_MB", "100000")
    at = new_app().run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    line = next(m.value for m in at.markdown if m.value.startswith("**Memory:**"))
    assert " of 104.9 GB used by the app" in line and "free for new tables" in line
