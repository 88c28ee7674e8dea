"""Benchmark: run_sql through the ToolBox (worker process, limits, isolation) vs bare DuckDB.

A deterministic 1,000,000-row x 20-column mixed frame. The ToolBox is built once, as
the app builds it once per dataset; each typical aggregate (group-by sum, filtered
count, top-k) then goes through ``ToolBox.execute("run_sql", ...)`` exactly as the Live
session calls it, and the same SQL runs on bare DuckDB over the same frame (a default
connection with the DataFrame registered as ``data``) in the same run, interleaved.
Prints medians and the difference; the acceptance is <= 50 ms through the tool and
<= 20 ms above bare DuckDB. A second section prints how long the heavy attacks from the
security list take to be stopped and how much server memory (this process plus the
worker) they add.

    .venv/bin/python bench/bench_tools.py            # 25 timed runs per query
    .venv/bin/python bench/bench_tools.py --quick    # 200,000 rows, 7 runs, fewer attacks
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livechat.data.load import LoadedTable  # noqa: E402
from livechat.data.table_file import map_table  # noqa: E402
from livechat.procstat import PeakRss, pss_bytes, rss_bytes  # noqa: E402
from livechat.tools.toolbox import ToolBox  # noqa: E402

MAX_MS = 50.0
MAX_OVER_BARE_MS = 20.0

QUERIES = {
    "group-by sum": 'SELECT region, sum(amount) AS total FROM data GROUP BY region ORDER BY total DESC',
    "filtered count": "SELECT count(*) FROM data WHERE channel = 'online' AND quantity > 5 "
                      "AND ordered_at >= TIMESTAMP '2023-06-01'",
    "top-k": 'SELECT customer, sum(amount) AS spend FROM data GROUP BY customer ORDER BY spend DESC LIMIT 10',
}

ATTACKS = {
    "repeat 4 GB": "SELECT length(repeat('x', 4000000000))",
    "4-way cross join": "SELECT count(*) FROM data a, data b, data c, data d",
    "unbounded recursive CTE": "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) "
                               "SELECT count(*) FROM t",
    "lpad 2 GB": "SELECT length(lpad('x', 2000000000, 'y'))",
}


def make_frame(rows: int) -> pd.DataFrame:
    """20 columns: ints, floats, text, categorical, dates (naive and tz-aware), booleans, nullables."""
    rng = np.random.default_rng(2024)
    regions = np.array(["North", "South", "East", "West", "Central"])
    frame = {
        "order_id": np.arange(rows, dtype="int64"),
        "region": pd.Series(regions[rng.integers(0, 5, rows)], dtype="str"),
        "channel": pd.Categorical(rng.choice(["online", "store", "phone"], rows)),
        "customer": pd.Series(np.char.add("C", rng.integers(0, 50_000, rows).astype(str)), dtype="str"),
        "amount": np.round(rng.gamma(2.0, 50.0, rows), 2),
        "quantity": rng.integers(1, 20, rows),
        "discount": pd.array(np.where(rng.random(rows) < 0.1, np.nan, rng.random(rows) * 0.3),
                             dtype="Float64"),
        "ordered_at": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730 * 86_400, rows), unit="s"),
        "shipped_at": pd.Timestamp("2023-01-02", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 730 * 86_400, rows), unit="s"),
        "returned": pd.array(rng.random(rows) < 0.05, dtype="boolean"),
        "rating": pd.array(np.where(rng.random(rows) < 0.3, None, rng.integers(1, 6, rows)), dtype="Int64"),
        "weight_kg": rng.random(rows) * 30,
        "priority": rng.random(rows) < 0.2,
        "store_id": rng.integers(0, 400, rows).astype("int32"),
        "cost": np.round(rng.gamma(2.0, 30.0, rows), 2),
        "tax": np.round(rng.random(rows) * 20, 2),
        "sku": pd.Series(np.char.add("SKU-", rng.integers(0, 5_000, rows).astype(str)), dtype="str"),
        "country": pd.Categorical(rng.choice(["DE", "FR", "IT", "ES", "NL", "PL"], rows)),
        "margin": rng.normal(0.2, 0.05, rows),
        "visits": rng.poisson(3, rows),
    }
    return pd.DataFrame(frame)


def bench_queries(box: ToolBox, bare: duckdb.DuckDBPyConnection, runs: int) -> bool:
    ok = True
    print(f"{'query':<16} {'tool median':>12} {'bare median':>12} {'difference':>11}  verdict")
    for name, sql in QUERIES.items():
        tool_ms: list[float] = []
        bare_ms: list[float] = []
        for i in range(runs + 3):  # 3 warm-up rounds, interleaved so both see the same load
            start = time.perf_counter()
            result = box.execute("run_sql", {"query": sql})
            tool = (time.perf_counter() - start) * 1000
            if "error" in result:
                raise SystemExit(f"{name}: the tool failed: {result['error']}")
            start = time.perf_counter()
            bare.execute(sql).fetchall()
            plain = (time.perf_counter() - start) * 1000
            if i >= 3:
                tool_ms.append(tool)
                bare_ms.append(plain)
        tool_median, bare_median = statistics.median(tool_ms), statistics.median(bare_ms)
        passed = tool_median <= MAX_MS and tool_median - bare_median <= MAX_OVER_BARE_MS
        ok &= passed
        print(f"{name:<16} {tool_median:>9.1f} ms {bare_median:>9.1f} ms {tool_median - bare_median:>+8.1f} ms"
              f"  {'PASS' if passed else 'FAIL'} (limits {MAX_MS:.0f} ms, +{MAX_OVER_BARE_MS:.0f} ms)")
    return ok


def bench_mapped(mapped: ToolBox, streamed: ToolBox, runs: int) -> None:
    """The app's path (the worker maps the table's shared Arrow file, issue 29) against the
    path before (the table streamed and copied into DuckDB), interleaved in the same run."""
    print(f"\n{'query':<16} {'mapped file':>12} {'copied in':>12} {'ratio':>6}  (issue 29: within 20%)")
    for name, sql in QUERIES.items():
        times: dict[str, list[float]] = {"mapped": [], "copied": []}
        for i in range(runs + 3):
            for label, box in (("mapped", mapped), ("copied", streamed)):
                start = time.perf_counter()
                result = box.execute("run_sql", {"query": sql})
                if "error" in result:
                    raise SystemExit(f"{name} ({label}): the tool failed: {result['error']}")
                if i >= 3:
                    times[label].append((time.perf_counter() - start) * 1000)
        a, b = statistics.median(times["mapped"]), statistics.median(times["copied"])
        print(f"{name:<16} {a:>9.1f} ms {b:>9.1f} ms {a / b:>6.2f}")


def bench_attacks(box: ToolBox, names: list[str]) -> None:
    print(f"\n{'attack':<24} {'stopped after':>13} {'memory added':>13}  error")
    for name in names:
        with PeakRss(lambda: (os.getpid(), box.sql_worker_pid)) as memory:
            start = time.perf_counter()
            result = box.execute("run_sql", {"query": ATTACKS[name]})
            elapsed = time.perf_counter() - start
        print(f"{name:<24} {elapsed:>11.2f} s {memory.added / 2**20:>9.0f} MB  "
              f"{result.get('error', 'NO ERROR: ' + str(result))[:70]}")
        box.execute("run_sql", {"query": "SELECT 1"})  # restart a killed worker outside the timing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k rows, 7 runs, two attacks")
    args = parser.parse_args()
    rows, runs = (200_000, 7) if args.quick else (1_000_000, 25)
    os.environ["LIVECHAT_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-tools-data-")  # removed at the end

    start = time.perf_counter()
    frame = make_frame(rows)
    print(f"frame: {rows:,} rows x {frame.shape[1]} columns, built in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    box = ToolBox(frame)
    ready = time.perf_counter() - start
    print(f"ToolBox ready in {ready:.2f} s (Arrow conversion, worker start, copy into DuckDB); "
          f"worker RSS {rss_bytes(box.sql_worker_pid) / 2**20:.0f} MB")
    # The app's path since issue 29: the table written once to a shared Arrow file, mapped.
    start = time.perf_counter()
    loaded = LoadedTable(df=frame, name="bench", sheets=(), sheet=None, warnings=())
    mapped_frame = map_table(loaded, f"bench-tools-{rows}").df
    mapped = ToolBox(mapped_frame)
    print(f"mapped ToolBox ready in {time.perf_counter() - start:.2f} s (file written, worker maps it); "
          f"worker PSS {pss_bytes(mapped.sql_worker_pid) / 2**20:.0f} MB")
    bare = duckdb.connect()
    bare.register("data", frame)
    try:
        print(f"duckdb {duckdb.__version__}, {os.cpu_count()} cores; medians of {runs} runs\n")
        passed = bench_queries(mapped, bare, runs)
        bench_mapped(mapped, box, runs)
        bench_attacks(mapped, list(ATTACKS)[:2] if args.quick else list(ATTACKS))
    finally:
        bare.close()
        box.close()
        mapped.close()
    shutil.rmtree(os.environ["LIVECHAT_DATA_DIR"], ignore_errors=True)
    print(f"\nacceptance: {'PASS' if passed else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
