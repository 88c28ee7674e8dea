"""Benchmark: what the analyst's definitions cost (issue 31).

On a deterministic 1,000,000-row x 20-column frame (``--quick``: 200,000 rows):

- checking a definitions file's SQL (10 terms with SQL, 10 trusted queries) in the SQL
  sandbox over empty copies of the tables: the wait before an upload or a saved query is
  applied (one worker start, then one bind per query; independent of the table's size);
- ``first_questions`` (profile of the first 50,000 rows, join keys) for one table and for
  a two-table set;
- the instruction section and the budget split for 100 terms and 50 trusted queries;
- ``run_trusted_query`` against the same query through ``run_sql`` in one ToolBox,
  interleaved: the runner adds a dictionary lookup.

Prints medians; nothing here passes or fails.

    .venv/bin/python bench/bench_definitions.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livechat.summary.definitions import Definitions, Term, TrustedQuery  # noqa: E402
from livechat.summary.definitions_section import plan_budget  # noqa: E402
from livechat.summary.first_questions import first_questions  # noqa: E402
from livechat.tools.toolbox import ToolBox  # noqa: E402
from livechat.tools.trusted import TRUSTED_TOOL, TrustedQueryRunner, check_definitions  # noqa: E402


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(31)
    data: dict[str, object] = {
        "region": rng.choice(["North", "South", "East", "West"], rows),
        "channel": rng.choice(["online", "store", "phone"], rows),
        "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
        "customer_id": rng.integers(1, 5_000, rows),
    }
    for i in range(16):
        data[f"amount_{i}"] = rng.random(rows) * 100
    return pd.DataFrame(data)


def definitions() -> Definitions:
    terms = tuple(Term(f"measure {i}", f"the sum of amount {i}", f"sum(amount_{i}) - sum(amount_{(i + 1) % 16})")
                  for i in range(10))
    queries = tuple(TrustedQuery(f"amount {i} by region",
                                 f"SELECT region, sum(amount_{i}) AS total FROM data GROUP BY 1 ORDER BY 2 DESC")
                    for i in range(10))
    return Definitions(terms, queries)


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="200,000 rows, fewer runs")
    args = parser.parse_args()
    rows, runs = (200_000, 3) if args.quick else (1_000_000, 5)
    df = frame(rows)
    customers = pd.DataFrame({"customer_id": range(1, 5_000), "segment": ["a", "b", "c", "d"] * 1249 + ["a"] * 3})
    defs = definitions()
    print(f"frame: {rows:,} rows x {df.shape[1]} columns")

    ms = timed(lambda: check_definitions(defs, df), runs)
    print(f"check 10 term SQL + 10 trusted queries (sandbox, empty tables): median {ms:,.0f} ms")
    ms = timed(lambda: first_questions(df, defs), runs)
    print(f"first_questions, one table: median {ms:,.0f} ms")
    ms = timed(lambda: first_questions({"sales": df, "customers": customers}, defs), runs)
    print(f"first_questions, two tables with a join key: median {ms:,.0f} ms")
    many = Definitions(tuple(Term(f"term {i}", f"meaning {i} of the analyst", f"sum(amount_{i % 16})")
                             for i in range(100)),
                       tuple(TrustedQuery(f"question {i}", f"SELECT region, sum(amount_{i % 16}) FROM data GROUP BY 1")
                             for i in range(50)))
    ms = timed(lambda: plan_budget(8_000, many), runs * 4)
    print(f"instruction section + budget split, 100 terms and 50 trusted queries: median {ms:,.2f} ms")

    with ToolBox(df) as toolbox:
        runner = TrustedQueryRunner(toolbox, defs)
        sql = defs.trusted_queries[0].sql
        direct, trusted = [], []
        for _ in range(runs * 5):
            for target, call in ((direct, lambda: runner.execute("run_sql", {"query": sql})),
                                 (trusted, lambda: runner.execute(TRUSTED_TOOL, {"name": "amount 0 by region"}))):
                start = time.perf_counter()
                result = call()
                target.append((time.perf_counter() - start) * 1000)
                assert "error" not in result, result
        print(f"group-by through run_sql: median {statistics.median(direct):,.1f} ms; "
              f"through run_trusted_query: median {statistics.median(trusted):,.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
