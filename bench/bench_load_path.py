"""The page's load path against another checkout's: parse, then (issue 29) write and map.

Issue 29 asks for the same load speed within 10% while the table becomes one shared copy.
The Data page loads through ``livechat.ui.cache.load_table_cached`` (the memory check,
the parse, writing and mapping the shared Arrow files, handing parse memory back); this
runs that very function of this checkout and of ``--base DIR`` (e.g. ``git archive`` of
the commit before issue 29) on bench_load's 1,000,000 x 20 CSV, each load in a fresh
process (imports done before the clock starts), the two checkouts alternating so both
see the same machine load. Prints medians of wall and CPU time and their ratios.

Usage: .venv/bin/python bench/bench_load_path.py --base DIR [--rows N] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.10  # issue 29: the same load speed within 10%

_CHILD = """
import json, os, sys, time, logging
sys.path.insert(0, {root!r})
import livechat  # as app.py: the package's own start-up first
logging.disable(logging.WARNING)
from livechat.data.load import content_digest
from livechat.ui.cache import load_table_cached
data = open({path!r}, "rb").read()
digest = content_digest(data)
wall, cpu = time.perf_counter(), time.process_time()
table = load_table_cached(digest, "bench.csv", None, data)
print(json.dumps({{"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                   "rows": len(table.df)}}))
"""


def _once(root: Path, csv: Path) -> dict[str, float]:
    data_dir = tempfile.mkdtemp(prefix="bench-load-path-")
    try:
        out = subprocess.run([sys.executable, "-c", _CHILD.format(root=str(root), path=str(csv))],
                             capture_output=True, text=True, cwd=root, check=False,
                             env={**_env(), "LIVECHAT_DATA_DIR": data_dir})
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"the load in {root} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("MIMALLOC_", "MALLOC_"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the checkout to compare with")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_load import generate

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "bench.csv"
        generate(csv, args.rows)
        print(f"{args.rows:,} x 20 CSV, {csv.stat().st_size / 1e6:,.0f} MB; {args.repeats} loads each, alternating")
        runs: dict[str, list[dict[str, float]]] = {"base": [], "now": []}
        for _ in range(args.repeats):
            runs["base"].append(_once(args.base.resolve(), csv))
            runs["now"].append(_once(ROOT, csv))
    medians = {label: {k: statistics.median(r[k] for r in rows) for k in ("wall", "cpu")}
               for label, rows in runs.items()}
    for label, m in medians.items():
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs[label])
        print(f"{label:4s} load_table_cached: wall median {m['wall']:.3f} s ({walls}), CPU median {m['cpu']:.3f} s")
    wall = medians["now"]["wall"] / medians["base"]["wall"]
    cpu = medians["now"]["cpu"] / medians["base"]["cpu"]
    print(f"now / base: wall {wall:.2f}x, CPU {cpu:.2f}x (goal <= {GOAL:.2f}x: {'met' if wall <= GOAL else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
