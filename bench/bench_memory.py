"""Memory per analyst: the app's RSS with K sessions on the same upload and on K different ones.

Each browser session that opens a table runs the Data page's own load path
(``livechat.ui.dataset.load_bytes`` → the shared ``st.cache_resource`` in
``livechat.ui.cache``), here in Streamlit ``AppTest`` sessions of one process, so the
figure is that process's resident memory as sessions come in. Three runs, each in a
fresh child process:

  same       K sessions open the same 1,000,000 × 20 CSV (bench_load's generator, 194 MB)
  different  K sessions open K different files of that size (one row changed each)
  copying    as "same", with the table cached by ``st.cache_data`` (what the app did
             before: every session gets its own unpickled copy), for comparison

RSS is read after K = 1, 5, 10 sessions (after ``gc.collect()``). "One copy" is the
frame's own size (``memory_usage(deep=True)``). Goal (issue 17.4): with the same upload,
each extra session adds at most 10% of one copy.

Not counted: Streamlit's uploader keeps each session's uploaded file bytes (the CSV's
size) until the analyst removes the file or the session ends; the sessions here read
the file from disk instead (README "Deploying" counts the upload in the sizing).

A session itself costs a few MB whatever the table (measured ~4 MB in the first sessions:
its state, the page's widgets): against --quick's 21 MB frame that reads as ~20%, against
the 1M-row frame (209 MB) as under 1%. The goal is stated for the 1M-row run.

Usage: .venv/bin/python bench/bench_memory.py [--quick] [--rows N] [--modes same,...] [--strict]
  --quick   100,000 rows     --strict   exit 1 when the goal is missed
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 0.10
STEPS = (1, 5, 10)
NAME = "bench_memory.csv"

_SCRIPT = """
from pathlib import Path
import sys
sys.path.insert(0, {bench_dir!r})
from livechat.ui import dataset
data = Path({path!r}).read_bytes()
if {variant} > 0:  # a different file: the last row repeated with another id
    last = data.rstrip(b"\\n").rsplit(b"\\n", 1)[1]
    data = data + b"9" + str({variant}).encode() + last[last.index(b","):] + b"\\n"
if {copying}:
    import bench_memory
    bench_memory.load_copying(data, {name!r})
else:
    dataset.load_bytes(data, {name!r})
del data
"""


def load_copying(data: bytes, name: str) -> None:
    """The old path: the table through ``st.cache_data`` (a pickled copy per session)."""
    from livechat.data.load import content_digest
    from livechat.ui import state
    from livechat.ui.state import CurrentDataset

    digest = content_digest(data)
    table = _copying_loader(digest, name, data)
    state.set_current_dataset(CurrentDataset(table=table, digest=digest, source=name))


def _copying_loader(digest: str, filename: str, _data: bytes):  # type: ignore[no-untyped-def]
    from livechat.data.load import load_table

    return load_table(_data, filename)


def _wrap_copying_loader() -> None:
    # Wrapped only where it runs (the AppTest sessions import this module), so the
    # parent process never needs streamlit.
    global _copying_loader
    import streamlit as st

    _copying_loader = st.cache_data(max_entries=16)(_copying_loader)


if __name__ != "__main__":
    _wrap_copying_loader()


def child(path: str, mode: str) -> None:
    """Run K = 1..10 sessions in this process; print one JSON line per step."""
    import logging

    from streamlit.testing.v1 import AppTest

    from livechat.procstat import rss_bytes
    from livechat.ui.state import CurrentDataset

    logging.disable(logging.WARNING)
    bench_dir = str(Path(__file__).resolve().parent)
    warm = AppTest.from_string("import streamlit as st\nst.write('warm')", default_timeout=60)
    warm.run()
    gc.collect()
    base = rss_bytes()
    sessions = []
    for k in range(1, max(STEPS) + 1):
        variant = k if mode == "different" else 0
        script = _SCRIPT.format(bench_dir=bench_dir, path=path, variant=variant,
                                copying=mode == "copying", name=NAME)
        app = AppTest.from_string(script, default_timeout=600)
        app.run()
        if app.exception:
            raise SystemExit(f"session {k} failed: {app.exception}")
        dataset = app.session_state["livechat.dataset"]
        assert isinstance(dataset, CurrentDataset)
        sessions.append(app)
        if k in STEPS:
            gc.collect()
            frame = int(dataset.table.df.memory_usage(deep=True, index=True).sum())
            distinct = len({id(s.session_state["livechat.dataset"].table.df) for s in sessions})
            print(json.dumps({"k": k, "rss": rss_bytes(), "base": base, "frame": frame, "frames": distinct}),
                  flush=True)
    if mode == "same":  # the table's SQL worker: a process of its own, shared by the sessions
        from livechat.tools.toolbox import ToolBox

        toolbox = ToolBox(sessions[0].session_state["livechat.dataset"].table.df)
        try:
            toolbox.execute("run_sql", {"query": "SELECT count(*) FROM data"})
            pid = toolbox.sql_worker_pid
            print(json.dumps({"sql_worker_rss": rss_bytes(pid) if pid else 0}), flush=True)
        finally:
            toolbox.close()


def _run_child(path: Path, mode: str) -> list[dict]:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), mode], capture_output=True, text=True,
                         cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"the {mode} run failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    for row in rows:
        if "sql_worker_rss" in row:
            print(f"{mode:9s} the table's SQL worker process (shared): RSS {_mb(row['sql_worker_rss'])}", flush=True)
    return [row for row in rows if "k" in row]


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def _report(mode: str, steps: list[dict]) -> bool:
    """Print one run's figures; False when the "same" run misses the goal."""
    one = steps[0]["frame"]
    first = steps[0]["rss"] - steps[0]["base"]
    line = [f"{mode:9s} one copy {_mb(one)}; first session +{_mb(first)}"]
    for step in steps:
        line.append(f"K={step['k']:>2}: RSS {_mb(step['rss'])} ({step['frames']} frame(s))")
    last = steps[-1]
    per_extra = (last["rss"] - steps[0]["rss"]) / (last["k"] - 1)
    ratio = per_extra / one
    line.append(f"per extra session +{_mb(per_extra)} = {ratio:.1%} of one copy")
    met = True
    if mode == "same":
        met = ratio <= GOAL_RATIO
        line.append(f"(goal ≤ {GOAL_RATIO:.0%}: {'met' if met else 'MISSED'})")
    print(" | ".join(line), flush=True)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--modes", default="same,different,copying", help="comma-separated subset")
    parser.add_argument("--child", nargs=2, metavar=("CSV", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_load import generate  # the same 1M × 20 table as bench_load

    rows = args.rows or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / NAME
        generate(path, rows)
        print(f"{rows:,} × 20 CSV, {path.stat().st_size / 1e6:,.0f} MB; RSS of one app process with K sessions")
        ok = True
        for mode in args.modes.split(","):
            ok = _report(mode, _run_child(path, mode)) and ok
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
