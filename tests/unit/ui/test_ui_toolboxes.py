"""One ToolBox factory for a single table and a table set, both stopped by the drain;
a ToolBox lives while a session holds it.

Issue 27: a table set's ToolBox came from a copy of the factory that did not register
with the SIGTERM drain, so its SQL worker outlived a restart. These run the real SQL
worker (a child process) and the real drain, outside a script run.
"""

from __future__ import annotations

import gc
import logging
import re
import weakref
from pathlib import Path

import pandas as pd
import pytest

from livechat.data.load import LoadedTable
from livechat.data.tableset import NamedTable
from livechat.ui import model_tables, shutdown, toolboxes
from livechat.ui.shutdown import Drain
from livechat.ui.state import CurrentDataset
from livechat.ui.tables import CurrentTableSet, SetEntry

_READY = re.compile(r"SQL worker (\d+) ready")


def _entry(name: str, df: pd.DataFrame) -> SetEntry:
    table = LoadedTable(df=df, name=f"{name}.csv", sheets=(), sheet=None, warnings=())
    return SetEntry(NamedTable(name, table, f"{name}.csv", None), digest=name * 8)


def _seen(table_set: CurrentTableSet) -> model_tables.ModelTables:
    return model_tables.ModelTables(table_set)


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()  # a reaped worker has left /proc


@pytest.fixture
def drain(monkeypatch: pytest.MonkeyPatch) -> Drain:
    fresh = Drain(notice_grace_s=0.0, delivery_s=0.0)
    monkeypatch.setattr(shutdown, "_drain", fresh)  # the process-wide one stays untouched
    return fresh


def test_a_table_sets_sql_worker_is_stopped_by_the_drain(drain: Drain, caplog: pytest.LogCaptureFixture) -> None:
    entries = (_entry("orders", pd.DataFrame({"id": [1, 2], "amount": [3.5, 4.0]})),
               _entry("customers", pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})))
    table_set = CurrentTableSet(entries, frozenset({"orders", "customers"}))
    caplog.set_level(logging.INFO, logger="livechat.tools.sql_sandbox")
    toolbox = _seen(table_set).toolbox()
    try:
        assert _seen(table_set).toolbox() is toolbox  # shared: one worker per selection
        result = toolbox.execute("run_sql", {"query": "SELECT COUNT(*) AS n FROM orders JOIN customers USING (id)"})
        assert result["rows"] == [[2]], result
        (pid,) = [int(p) for p in _READY.findall(caplog.text)]
        assert _alive(pid)

        summary = drain.run()

        assert summary["toolboxes"] == 1
        assert not _alive(pid), "the table set's SQL worker outlived the drain"
    finally:
        toolbox.close()


def test_a_single_upload_is_a_set_of_one_with_the_same_factory_and_drain(drain: Drain) -> None:
    df = pd.DataFrame({"x": [1]})
    table = LoadedTable(df=df, name="one.csv", sheets=(), sheet=None, warnings=())
    one = _seen(CurrentTableSet.of_one(CurrentDataset(table, "one" * 8, "one.csv")))
    assert one.names == ("one.csv",) and one.source is df  # one table: `data`, named by its file
    single = one.toolbox()
    table_set = CurrentTableSet((_entry("things", df),), frozenset({"things"}))
    of_set = _seen(table_set).toolbox()
    try:
        assert single is not of_set
        assert single.execute("run_sql", {"query": "SELECT x FROM data"})["rows"] == [[1]]
        assert of_set.execute("run_sql", {"query": "SELECT x FROM things"})["rows"] == [[1]]
        assert drain.run()["toolboxes"] == 2
    finally:
        single.close()
        of_set.close()


def _gone(pid: int) -> bool:
    gc.collect()  # the ToolBox's last reference may sit in a collected cycle
    return not _alive(pid)


def test_a_toolbox_lives_while_a_session_holds_it_and_goes_with_the_last(drain: Drain) -> None:
    # Issue 29: the previous tables go when no session uses them (a cache of 8 kept up to
    # 8 tables and their SQL workers alive after everyone had moved on).
    first, second = {}, {}  # two browser sessions' state
    old = toolboxes.toolbox("old-tables", pd.DataFrame({"x": [1, 2]}), state=first)
    assert toolboxes.toolbox("old-tables", pd.DataFrame({"x": [1, 2]}), state=second) is old  # one worker
    pid = old.sql_worker_pid
    assert pid is not None and _alive(pid)
    ref = weakref.ref(old)
    del old

    new = toolboxes.toolbox("new-tables", pd.DataFrame({"y": [3]}), state=first)  # one session moves on
    assert ref() is not None and not _gone(pid), "the other session still uses the old tables"
    assert ref().execute("run_sql", {"query": "SELECT sum(x) AS s FROM data"})["rows"] == [[3]]

    assert toolboxes.toolbox("new-tables", pd.DataFrame({"y": [3]}), state=second) is new  # the last moves on
    assert _gone(pid), "the old tables' SQL worker outlived the last session using it"
    assert ref() is None
    assert "old-tables" not in toolboxes._TOOLBOXES.keys()
    new.close()


def test_a_running_call_keeps_its_toolbox_after_the_session_moves_on(drain: Drain) -> None:
    session: dict = {}
    execute = toolboxes.toolbox("tables-a", pd.DataFrame({"x": [5]}), state=session).execute  # the call's executor
    other = toolboxes.toolbox("tables-b", pd.DataFrame({"y": [1]}), state=session)
    gc.collect()
    assert execute("run_sql", {"query": "SELECT x FROM data"})["rows"] == [[5]]
    execute.__self__.close()
    other.close()
