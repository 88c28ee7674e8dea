"""Issue 9 security list: every attack is refused or stopped, and nothing is harmed.

One ToolBox (one SQL worker) serves the whole module, exactly as the Live session uses
it; attacks that kill the worker prove the next call gets a fresh one. For every case:
a clear error, server memory (this process plus the worker) grows by at most 2 GB,
nothing appears on disk, the caller's DataFrame is unchanged, the API key never shows
up, and a legitimate query works afterwards. The 15 s per case is the issue's bound
(the sandbox's own deadline is 5 s + 2 s grace); it is a hang guard, not a benchmark.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from livechat.data.load import LoadedTable
from livechat.data.table_file import map_table, mapped_file
from livechat.procstat import PeakRss
from livechat.tools.sql_sandbox import WORKER_NICE
from livechat.tools.toolbox import ToolBox

KEY_SENTINEL = "sentinel-gemini-key-not-a-real-key"
MAX_GROWTH_BYTES = 2 * 1024**3
ROWS = 20_000

REFUSED = r"Only one SELECT or WITH statement is allowed"
WRITE_INSIDE = r"Only reading is allowed: the query contains a"
NO_FILES = r"Reading files, the network, extensions or settings is not allowed"
NO_TABLE = r"not found\. (The only table is `data`|The tables are `sales`, `regions`)"
NO_FILE_OR_TABLE = f"{NO_FILES}|{NO_TABLE}"  # DuckDB says which depending on whether the file exists
NO_FUNCTION = r"Scalar Function with name getenv does not exist"
NESTED_PARSE = r"Expected a single SELECT statement"
STOPPED = (r"Query exceeded 5 s and was stopped|more than the \d+ MB of working memory"
           r"|stopped the SQL engine")

# {tmp} is the worker's working directory for this module (see the fixture).
ATTACKS = [
    pytest.param("COPY data TO '{tmp}/out.csv'", REFUSED, id="copy-to"),
    pytest.param("COPY (SELECT * FROM data) TO '{tmp}/out.parquet' (FORMAT parquet)", REFUSED,
                 id="copy-query-to"),
    pytest.param("WITH t AS (COPY data TO '{tmp}/cte.csv') SELECT 1", WRITE_INSIDE, id="copy-in-cte"),
    pytest.param("EXPORT DATABASE '{tmp}/export'", REFUSED, id="export-database"),
    pytest.param("ATTACH '{tmp}/other.db' AS other", REFUSED, id="attach"),
    pytest.param("INSTALL httpfs", REFUSED, id="install"),
    pytest.param("LOAD httpfs", REFUSED, id="load"),
    pytest.param("SELECT * FROM read_csv('/etc/passwd')", NO_FILES, id="read_csv"),
    pytest.param("SELECT * FROM read_csv_auto('{tmp}/secret.csv')", NO_FILES, id="read_csv-existing"),
    pytest.param("SELECT * FROM '/etc/passwd'", NO_FILE_OR_TABLE, id="bare-path"),
    pytest.param("SELECT * FROM '{tmp}/secret.csv'", NO_FILE_OR_TABLE, id="bare-path-existing-csv"),
    pytest.param("SELECT * FROM read_text('/etc/passwd')", NO_FILES, id="read_text"),
    pytest.param("SELECT * FROM read_blob('{tmp}/secret.csv')", NO_FILES, id="read_blob"),
    pytest.param("SELECT * FROM glob('/etc/*')", NO_FILES, id="glob"),
    pytest.param("SELECT * FROM glob('{tmp}/*')", NO_FILES, id="glob-cwd"),
    pytest.param("SELECT getenv('GEMINI_API_KEY')", NO_FUNCTION, id="getenv"),
    pytest.param("SELECT * FROM duckdb_secrets()", NO_FILES, id="secrets"),
    pytest.param("PRAGMA database_list", REFUSED, id="pragma"),
    pytest.param("CALL pragma_version()", REFUSED, id="call"),
    pytest.param("SET threads = 64", REFUSED, id="set"),
    pytest.param("SET lock_configuration = false", REFUSED, id="set-unlock"),
    pytest.param("RESET memory_limit", REFUSED, id="reset"),
    pytest.param("CREATE TABLE t AS SELECT * FROM data", REFUSED, id="create"),
    pytest.param("CREATE MACRO evil(x) AS x", REFUSED, id="create-macro"),
    pytest.param("DROP TABLE data", REFUSED, id="drop"),
    pytest.param("UPDATE data SET amount = 0", REFUSED, id="update"),
    pytest.param("DELETE FROM data", REFUSED, id="delete"),
    pytest.param("INSERT INTO data SELECT * FROM data", REFUSED, id="insert"),
    pytest.param("WITH t AS (DELETE FROM data RETURNING *) SELECT count(*) FROM t", WRITE_INSIDE,
                 id="delete-in-cte"),
    pytest.param("SELECT (WITH t AS (UPDATE data SET amount = 0 RETURNING 1) SELECT count(*) FROM t)",
                 WRITE_INSIDE, id="update-in-subquery"),
    pytest.param("SELECT * FROM query('DROP TABLE data')", NESTED_PARSE, id="query-function"),
    pytest.param("SELECT 1; DROP TABLE data", REFUSED, id="two-statements"),
    pytest.param("SELECT 1 /* harmless */ ; DELETE FROM data", REFUSED, id="comment-then-second"),
    pytest.param("SELECT 1 -- trailing comment\n; DELETE FROM data", REFUSED, id="line-comment-hides"),
    pytest.param("BEGIN TRANSACTION", REFUSED, id="transaction"),
    pytest.param("EXPLAIN ANALYZE SELECT * FROM data", REFUSED, id="explain-analyze"),
    pytest.param("SELECT count(*) FROM data a, data b, data c, data d", STOPPED, id="cross-join-4"),
    pytest.param("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) "
                 "SELECT count(*) FROM t", STOPPED, id="unbounded-recursive-cte"),
    pytest.param("SELECT length(repeat('x', 4000000000))", STOPPED, id="repeat-4gb"),
    pytest.param("SELECT length(lpad('x', 2000000000, 'y'))", STOPPED, id="lpad-2gb"),
    pytest.param("SELECT list_sum(range(3000000000))", STOPPED, id="range-list-3g"),
    # A table set: the view `data` and the other tables are read-only too.
    pytest.param("DROP VIEW data", REFUSED, id="drop-view"),
    pytest.param("CREATE OR REPLACE VIEW data AS SELECT 1 AS x", REFUSED, id="replace-view"),
    pytest.param("DELETE FROM regions", REFUSED, id="delete-other-table"),
    pytest.param("ALTER TABLE regions RENAME TO gone", REFUSED, id="alter-other-table"),
    pytest.param("WITH t AS (UPDATE regions SET region = 'x' RETURNING 1) SELECT count(*) FROM t",
                 WRITE_INSIDE, id="update-other-in-cte"),
    pytest.param("SELECT count(*) FROM data a, data b, data c, data d, regions r",
                 f"{STOPPED}|Table regions not found", id="cross-join-with-other-table"),
]


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "region": pd.Series(rng.choice(["north", "south", "east", "west"], ROWS), dtype="str"),
        "amount": rng.random(ROWS) * 100,
        "units": pd.array(rng.integers(0, 50, ROWS), dtype="Int64"),
        "when": pd.date_range("2024-01-01", periods=ROWS, freq="min", tz="UTC"),
    })


def _peak_memory(toolbox: ToolBox) -> PeakRss:
    """Samples this process + the SQL worker's RSS on a thread until the block ends."""
    return PeakRss(lambda: (os.getpid(), toolbox.sql_worker_pid))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty working directory for the worker, holding one CSV an attacker would want."""
    path = tmp_path_factory.mktemp("sql-workdir")
    (path / "secret.csv").write_text("token\nsecret-value\n", encoding="utf-8")
    before = Path.cwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


def _regions() -> pd.DataFrame:
    return pd.DataFrame({"region": pd.Series(["north", "south", "east", "west"], dtype="str"),
                         "manager": pd.Series(["Ada", "Bo", "Cy", "Di"], dtype="str")})


def _mapped(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` rebuilt over a shared Arrow file, as the app loads every table."""
    return map_table(LoadedTable(df=frame, name="sales", sheets=(), sheet=None, warnings=()), "security").df


@pytest.fixture(scope="module", params=["one-table", "table-set", "mapped-table", "mapped-set"])
def toolbox(request: pytest.FixtureRequest, workdir: Path, frame: pd.DataFrame) -> Iterator[ToolBox]:
    """The single-table worker, and the multi-table one (sales is also `data`, plus regions);
    each also with sales memory-mapped from its file by the worker (the app's own path)."""
    old_key = os.environ.get("GEMINI_API_KEY")
    os.environ["GEMINI_API_KEY"] = KEY_SENTINEL  # set before the worker starts
    sales = _mapped(frame) if request.param.startswith("mapped") else frame
    if request.param.startswith("mapped"):
        assert mapped_file(sales) is not None
    box = ToolBox(sales) if request.param.endswith("table") else ToolBox({"sales": sales, "regions": _regions()})
    try:
        yield box
    finally:
        box.close()
        if old_key is None:
            os.environ.pop("GEMINI_API_KEY", None)
        else:
            os.environ["GEMINI_API_KEY"] = old_key


def _listing(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_size for p in path.rglob("*")}


@pytest.mark.timeout(15)
@pytest.mark.parametrize(("template", "expected"), ATTACKS)
def test_attack_is_refused_or_stopped_and_harms_nothing(
        toolbox: ToolBox, frame: pd.DataFrame, workdir: Path, template: str, expected: str) -> None:
    query = template.format(tmp=workdir)
    original = frame.copy(deep=True)
    files_before = _listing(workdir)

    with _peak_memory(toolbox) as memory:
        result = toolbox.execute("run_sql", {"query": query})

    assert set(result) == {"error"}, result
    assert re.search(expected, result["error"]), result["error"]
    assert KEY_SENTINEL not in json.dumps(result)
    assert memory.peak - memory.baseline <= MAX_GROWTH_BYTES, (
        f"memory grew by {(memory.peak - memory.baseline) / 2**20:.0f} MB")
    assert _listing(workdir) == files_before
    pd.testing.assert_frame_equal(frame, original)
    # The server keeps serving, and the table is intact.
    after = toolbox.execute("run_sql", {"query": "SELECT count(*) AS n, round(sum(amount), 6) AS s FROM data"})
    assert after.get("rows") == [[ROWS, round(float(original["amount"].sum()), 6)]], after
    if "regions" in toolbox.table_names:
        joined = toolbox.execute("run_sql", {"query": "SELECT count(*) FROM sales JOIN regions USING (region)"})
        assert joined.get("rows") == [[ROWS]], joined


def test_the_worker_never_sees_the_api_key(toolbox: ToolBox) -> None:
    pid = toolbox.sql_worker_pid
    assert pid is not None
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert os.environ["GEMINI_API_KEY"].encode() not in environ
    assert b"GEMINI" not in environ


def test_the_worker_runs_below_the_server_s_cpu_priority(toolbox: ToolBox) -> None:
    pid = toolbox.sql_worker_pid
    assert pid is not None
    # Every thread, DuckDB's included (Linux keeps a nice value per thread).
    threads = os.listdir(f"/proc/{pid}/task")
    assert len(threads) > 1
    expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICE)  # nice is relative, capped at 19
    for tid in threads:
        assert os.getpriority(os.PRIO_PROCESS, int(tid)) == expected


def _wait_until_dead(pid: int) -> None:
    """Wait (bounded) until the killed child ``pid`` can be reaped, without reaping it.

    A multi-threaded process shows "Z" in /proc before all its threads are gone, so ask
    waitid (WNOWAIT leaves the reaping to the sandbox's Popen).
    """
    pause = threading.Event()
    for _ in range(500):
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return
        pause.wait(0.01)
    raise AssertionError(f"process {pid} still not reapable 5 s after SIGKILL")


def test_a_killed_worker_is_replaced_on_the_next_query(frame: pd.DataFrame, workdir: Path) -> None:
    with ToolBox(frame) as box:
        first = box.sql_worker_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        _wait_until_dead(first)
        assert box.execute("run_sql", {"query": "SELECT count(*) FROM data"})["rows"] == [[ROWS]]
        assert box.sql_worker_pid not in (None, first)
