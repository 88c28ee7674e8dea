"""The server's imports leave every full garbage collection (livechat/ui/gc_tuning.py).

Streamlit's collection after every script run is off in ``.streamlit/config.toml`` (a
~100 ms pause of the media loop per run; issue 32), and what is loaded when the app first
runs is frozen once, so Python's own full collections walk only newer objects.
"""

from __future__ import annotations

import gc
import tomllib
from pathlib import Path

import pytest

from livechat.ui import gc_tuning

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def clean_gc() -> None:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects are not the app's
    gc_tuning._frozen.discard("unit-test")


def test_config_turns_streamlits_collection_after_each_run_off() -> None:
    with open(REPO / ".streamlit" / "config.toml", "rb") as handle:
        assert tomllib.load(handle)["runner"]["postScriptGC"] is False


def test_freeze_loaded_freezes_what_is_tracked_once_per_stage(clean_gc: None) -> None:
    assert gc.get_freeze_count() == 0
    assert gc_tuning.freeze_loaded("unit-test") is True
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # this process's modules, classes and functions
    assert gc_tuning.freeze_loaded("unit-test") is False  # once per stage: nothing more frozen
    assert gc.get_freeze_count() <= frozen  # (frozen objects may still be freed by refcount)


def test_nothing_is_frozen_outside_a_streamlit_server(clean_gc: None) -> None:
    # A plain process (and AppTest, whose Runtime is a stand-in) is not a server.
    assert gc_tuning.freeze_loaded_in_server("unit-test") is False
    assert gc.get_freeze_count() == 0
