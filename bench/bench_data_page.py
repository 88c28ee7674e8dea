#!/usr/bin/env python3
"""Benchmark: how fast the Data page reruns once its caches are warm.

Drives the real app with streamlit.testing.v1.AppTest (no browser): uploads a generated
CSV (fixed seed; ints, floats, a 0..1 share, dates, categories, booleans, short text)
through the file_uploader widget, then times
  cold upload:  the rerun that parses, profiles and summarises the file
  warm rerun:   an ordinary rerun of the Data page (everything from st.cache_data)
  new budget:   a rerun after changing the summary budget (a new summary)
  old budget:   switching back to a budget seen before (cached again)
and, as the baseline measured in the same run, a bare page that only draws the same
st.dataframe (the irreducible cost of sending the grid). Prints medians and the ratio
warm rerun / baseline; the target is a ratio near 1 (reruns cost what the grid costs).

Usage: .venv/bin/python bench/bench_data_page.py [--quick] [--rows N] [--repeats N]
  --quick   20,000 rows, 3 repeats (default 200,000 rows, 7 repeats)
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from livechat.ui import runtime, state  # noqa: E402

PREVIEW_ROWS = 20_000  # pages/data.py sends this many rows to the grid
TIMEOUT_S = 600.0

_BASELINE = '''
import pandas as pd
import streamlit as st

@st.cache_resource
def _table():
    return pd.read_parquet({path!r})

st.dataframe(_table().head({rows}), hide_index=True, width="stretch")
'''


def _csv(rows: int) -> bytes:
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "order_id": np.arange(1, rows + 1),
            "day": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D"),
            "region": rng.choice(["North", "South", "East", "West", "Central"], rows),
            "units": rng.integers(1, 500, rows),
            "price": rng.gamma(2.0, 40.0, rows).round(2),
            "discount_share": rng.random(rows).round(3),
            "returned": rng.random(rows) < 0.07,
            "note": rng.choice(["", "gift", "rush order", "call first", "fragile"], rows),
        }
    )
    buffer = io.StringIO()
    df.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _timed(at: AppTest) -> float:
    start = time.perf_counter()
    at.run(timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception[0].value}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 3 repeats")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 200_000)
    repeats = args.repeats or (3 if args.quick else 7)
    for name in ("GEMINI_API_KEY", "GEMINI_BASE_URL", "GEMINI_CA_FILE"):
        os.environ.pop(name, None)

    data = _csv(rows)
    print(f"Data page rerun benchmark: {rows:,} rows, {len(data) / 1e6:.1f} MB CSV, {repeats} repeats")
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
        first_start = _timed(at)  # sample dataset, emulator start-up
        at.file_uploader(key=state.UPLOAD_WIDGET_KEY).set_value(("bench.csv", data, "text/csv"))
        cold = _timed(at)
        warm = statistics.median(_timed(at) for _ in range(repeats))
        budgets = [2_000 + 500 * i for i in range(repeats)]
        new_budget = []
        for budget in budgets:
            at.number_input(key=state.BUDGET_WIDGET_KEY).set_value(budget)
            new_budget.append(_timed(at))
        old_budget = []
        for budget in budgets:
            at.number_input(key=state.BUDGET_WIDGET_KEY).set_value(budget)
            old_budget.append(_timed(at))

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "table.parquet"
            pd.read_csv(io.BytesIO(data)).to_parquet(path)
            base = AppTest.from_string(_BASELINE.format(path=str(path), rows=PREVIEW_ROWS), default_timeout=TIMEOUT_S)
            _timed(base)
            baseline = statistics.median(_timed(base) for _ in range(repeats))
    finally:
        runtime.stop_offline_emulator()

    rows_out = [
        ("app start (sample, emulator)", f"{first_start * 1000:.1f} ms"),
        ("cold upload (parse, profile, summary)", f"{cold * 1000:.1f} ms"),
        ("warm rerun (median)", f"{warm * 1000:.1f} ms"),
        ("new budget (median)", f"{statistics.median(new_budget) * 1000:.1f} ms"),
        ("budget seen before (median)", f"{statistics.median(old_budget) * 1000:.1f} ms"),
        ("baseline: bare st.dataframe (median)", f"{baseline * 1000:.1f} ms"),
        ("ratio warm rerun / baseline", f"{warm / baseline:.2f}"),
        ("ratio cold upload / warm rerun", f"{cold / warm:.1f}"),
    ]
    for label, value in rows_out:
        print(f"  {label:<40}{value:>12}")

if __name__ == "__main__":
    main()
