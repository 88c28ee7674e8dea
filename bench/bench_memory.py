"""Memory per analyst: the whole process tree as analysts use the app, and RSS per session.

Default run, ``analysts`` (issue 29): the app as an analyst uses it, in a fresh child
process that is the "server": Streamlit ``AppTest`` sessions of the real ``app.py``
(the Data page, the built-in emulator it starts in-process, the Talk page), warmed up by
one session that opens both pages on the sample (the idle app). Each analyst
opens a session, uploads a different 1,000,000 × 20 CSV through the page's uploader
(bench_load's generator, 194 MB; one row changed per analyst), then asks a typed SQL
question on the Talk page (``call run_sql {...}``: the emulator calls the tool, which
starts the table's SQL worker process). Measured for the whole tree (the process and
its children: SQL workers) as the sum of PSS (shared pages, such as a table mapped by
both the app and its worker, counted once), with the shared table files counted in
full (the page cache holding them counts against a container's limit), after
``gc.collect()``:

  added/frame   (tree after upload + SQL answer, the store's background save of the new
                table done - tree before the upload) / the frame's size
  load peak     (highest tree sample while the page's loader runs - tree when it starts,
                the uploaded bytes already in) / the frame
  page peak     (highest tree sample during the whole page run after the upload, which also
                profiles and summarises the table - tree before the upload) / the frame
  tree total    the tree after K analysts (K = 1, 2)

Goals: added ≤ 1.5×, peak ≤ 2.5× the frame; two analysts < 2.7 GB for the tree.
``--base DIR`` runs the same child against another checkout (e.g. ``git archive`` of
main) first, so "before" and "after" are measured in the same run on the same machine.

Older modes (issue 17.4; RSS of one process as K sessions open the same table):

  same       K sessions open the same 1,000,000 × 20 CSV (bench_load's generator, 194 MB)
  different  K sessions open K different files of that size (one row changed each)
  copying    as "same", with the table cached by ``st.cache_data`` (what the app did
             before: every session gets its own unpickled copy), for comparison

RSS is read after K = 1, 5, 10 sessions (after ``gc.collect()``). "One copy" is the
frame's own size (``memory_usage(deep=True)``). Goal (issue 17.4): with the same upload,
each extra session adds at most 10% of one copy. These sessions read the file from disk
through ``livechat.ui.dataset.load_bytes``, not through the uploader.

Usage: .venv/bin/python bench/bench_memory.py [--quick] [--rows N] [--modes analysts,same,...]
                                              [--analysts K] [--base DIR] [--strict]
  --quick   100,000 rows     --strict   exit 1 when a goal is missed
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 0.10
GOAL_ADDED = 1.5  # issue 29: tree memory added per frame, upload + one SQL answer
GOAL_PEAK = 2.5  # issue 29: tree peak during the load, per frame
GOAL_TWO_ANALYSTS = 2.7e9  # issue 29: two analysts' different uploads, bytes for the tree
SQL_QUESTION = "SELECT region, count(*) AS n, round(avg(total), 2) AS avg_total FROM data GROUP BY 1 ORDER BY 1"
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
    from livechat.ui import state, tables
    from livechat.ui.state import CurrentDataset

    digest = content_digest(data)
    table = _copying_loader(digest, name, data)
    dataset = CurrentDataset(table=table, digest=digest, source=name)
    state.set_current_dataset(dataset)
    tables.adopt_one(dataset)  # a single upload is a set of one


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


class _PeakTree:
    """Samples the tree's memory (``tree_memory_bytes``) on a thread; ``peak`` is the highest."""

    def __init__(self, measure, interval_s: float = 0.02) -> None:  # type: ignore[no-untyped-def]
        import threading

        self._measure = measure
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)
        self.peak = 0

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.peak = max(self.peak, self._measure())

    def __enter__(self) -> "_PeakTree":
        self.peak = self._measure()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def tree_with_files() -> int:
    """The tree's memory as a container limit sees it, erring high: the sum of PSS, with
    the shared table files (``<data dir>/tables``) counted in full once, resident or not
    (the page cache holding them is charged to the container, though it can be dropped)."""
    procstat = _this_procstat()
    tables = Path(os.environ["LIVECHAT_DATA_DIR"]).resolve() / "tables"  # set by _run_analysts
    total = 0
    for pid in procstat.tree_pids():
        total += procstat.pss_bytes(pid) - _mapped_pss(pid, str(tables))
    files = list(tables.rglob("*.arrow")) if tables.is_dir() else []
    return total + sum(p.stat().st_size for p in files if p.exists())


def _this_procstat():  # type: ignore[no-untyped-def]
    """This checkout's ``livechat.procstat`` (tree and PSS readers), also when the child
    runs another checkout (``--base``) whose own may predate them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_procstat", ROOT / "livechat" / "procstat.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mapped_pss(pid: int, folder: str) -> int:
    """PSS of ``pid``'s mappings of files under ``folder`` (parsed from /proc/pid/smaps)."""
    inside, pss = False, 0
    try:
        with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as smaps:
            for line in smaps:
                head = line.split(None, 5)
                if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
                    inside = len(head) == 6 and head[5].strip().startswith(folder)
                elif inside and line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
    except OSError:
        return 0
    return pss


def analysts_child(path: str, count: int) -> None:
    """Run ``count`` analysts through the real app (upload, then a typed SQL question);
    print one JSON line per analyst. Runs with the checkout under test as cwd."""
    import logging
    import time

    from streamlit.testing.v1 import AppTest

    from livechat.ui import talk

    tree_pids = _this_procstat().tree_pids
    tree_memory_bytes = tree_with_files

    logging.disable(logging.WARNING)
    # The app started and used once (the sample on the Data page, then the Talk page): the
    # emulator, the Talk page's modules and the sample's SQL worker are the idle app's cost,
    # paid once whatever the tables, so they are not counted against the first analyst.
    first = AppTest.from_file(str(Path.cwd() / "app.py"), default_timeout=600).run()
    first.switch_page("pages/talk.py").run()
    if first.exception:
        raise SystemExit(f"the app failed: {first.exception}")
    gc.collect()
    base = tree_memory_bytes()
    kept = [first]
    from livechat.ui import dataset as flows

    load_peaks: list[tuple[int, int]] = []  # (tree when the load began, highest tree during it)
    real_load = flows.load_table_cached

    def measured_load(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = tree_memory_bytes()
        with _PeakTree(tree_memory_bytes) as sampler:
            result = real_load(*args, **kwargs)
        load_peaks.append((start, max(sampler.peak, tree_memory_bytes())))
        return result

    flows.load_table_cached = measured_load  # the page's own loader, timed from the outside
    for k in range(1, count + 1):
        at = AppTest.from_file(str(Path.cwd() / "app.py"), default_timeout=600).run()
        gc.collect()
        before = tree_memory_bytes()  # before the upload's bytes reach the server
        pss_before = sum(_this_procstat().pss_bytes(pid) for pid in tree_pids())
        data = _variant(Path(path).read_bytes(), k)
        at.file_uploader[0].set_value((f"analyst{k}.csv", data, "text/csv"))
        del data  # the uploader holds the bytes now, as Streamlit's upload manager would
        load_peaks.clear()
        started = time.perf_counter()
        with _PeakTree(tree_memory_bytes) as page:
            at.run()
        load_s = time.perf_counter() - started
        load_start, load_peak = max(load_peaks, key=lambda p: p[1] - p[0])
        if at.exception or at.error:
            raise SystemExit(f"analyst {k}: upload failed: {at.exception or [e.value for e in at.error]}")
        dataset = at.session_state["livechat.dataset"]
        frame = int(dataset.table.df.memory_usage(deep=True, index=True).sum())
        at.switch_page("pages/talk.py").run()
        at.chat_input(key=talk.CHAT_KEY).set_value("call run_sql " + json.dumps({"query": SQL_QUESTION})).run()
        bridge = at.session_state[talk.BRIDGE_STATE_KEY]
        deadline = time.monotonic() + 300
        while not any(e.label == "Tool: run\\_sql (done)" for e in at.expander):
            if time.monotonic() > deadline or at.exception:
                raise SystemExit(f"analyst {k}: no SQL answer ({at.exception})")
            bridge.wait_for_events(2.0)
            at.run()
        kept.append(at)
        _settle_store()
        gc.collect()
        pss_after = sum(_this_procstat().pss_bytes(pid) for pid in tree_pids())
        print(json.dumps({"k": k, "base": base, "before": before, "load_start": load_start, "peak": load_peak,
                          "pss_before": pss_before, "pss_after": pss_after,
                          "page_peak": page.peak, "after": tree_memory_bytes(), "frame": frame,
                          "processes": len(tree_pids()), "load_s": load_s}), flush=True)
    for at in kept:  # end the voice sessions so the child exits promptly
        bridge = at.session_state["livechat.talk.bridge"] if "livechat.talk.bridge" in at.session_state else None
        if bridge is not None:
            bridge.close()


def _settle_store() -> None:
    """Wait for the store's background writer (it saves each new table as Parquet, a
    table-sized job): "after" is the settled tree, not whatever the save holds mid-write.
    A checkout without the store has nothing to wait for."""
    try:
        from livechat.ui import conversations
    except ImportError:
        return
    writer = getattr(conversations, "store_writer", None)
    if writer is not None:
        writer().flush(120.0)


def _variant(data: bytes, variant: int) -> bytes:
    """A different file of the same size class: the last row repeated with another id."""
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
    return data + b"9" + str(variant).encode() + last[last.index(b","):] + b"\n"


def _run_analysts(path: Path, count: int, root: Path, label: str, strict_goals: bool) -> bool:
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="bench-memory-data-")
    env["LIVECHAT_DATA_DIR"] = data_dir
    env.pop("LIVECHAT_MEMORY_LIMIT_MB", None)
    # ``import livechat`` first, as app.py does: the package sets the allocators up before
    # anything loads pyarrow (livechat.allocators); AppTest itself imports pandas.
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); sys.path.insert(0, {str(ROOT / 'bench')!r}); "
            f"import livechat, bench_memory; bench_memory.analysts_child({str(path)!r}, {count})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env)
    shutil.rmtree(data_dir, ignore_errors=True)
    if out.returncode != 0:
        raise SystemExit(f"the analysts run ({label}) failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    met = True
    for row in rows:
        frame = row["frame"]
        added = (row["after"] - row["before"]) / frame
        peak = (row["peak"] - row["load_start"]) / frame
        page_peak = (row["page_peak"] - row["before"]) / frame
        line = (f"{label:6s} analyst {row['k']}: frame {_mb(frame)}; tree before {_mb(row['before'])}, "
                f"peak during load {_mb(row['peak'])} (from {_mb(row['load_start'])} with the upload in), "
                f"after upload + SQL answer {_mb(row['after'])} ({row['processes']} processes) | "
                f"added {added:.2f}x the frame, load peak {peak:.2f}x, page run peak {page_peak:.2f}x "
                f"over the tree before the upload | PSS only (files as mapped): added "
                f"{(row['pss_after'] - row['pss_before']) / frame:.2f}x | page run {row['load_s']:.1f} s")
        if strict_goals:
            ok = added <= GOAL_ADDED and peak <= GOAL_PEAK
            met = met and ok
            line += f" (goals ≤ {GOAL_ADDED}x, ≤ {GOAL_PEAK}x: {'met' if ok else 'MISSED'})"
        print(line, flush=True)
    if rows:
        total = rows[-1]["after"]
        line = f"{label:6s} K={rows[-1]['k']} analysts, different uploads + SQL each: tree {total / 1e9:.2f} GB"
        if strict_goals and rows[-1]["k"] >= 2:
            ok = total < GOAL_TWO_ANALYSTS
            met = met and ok
            line += f" (goal < {GOAL_TWO_ANALYSTS / 1e9:.1f} GB: {'met' if ok else 'MISSED'})"
        print(line, flush=True)
    return met


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
    parser.add_argument("--modes", default="analysts", help="comma-separated: analysts,same,different,copying")
    parser.add_argument("--analysts", type=int, default=2, help="K analysts in the analysts mode")
    parser.add_argument("--base", type=Path, default=None, help="another checkout to measure first")
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
        print(f"{rows:,} × 20 CSV, {path.stat().st_size / 1e6:,.0f} MB")
        ok = True
        for mode in args.modes.split(","):
            if mode == "analysts":
                if args.base is not None:
                    _run_analysts(path, args.analysts, args.base.resolve(), "before", strict_goals=False)
                ok = _run_analysts(path, args.analysts, ROOT, "now", strict_goals=True) and ok
            else:
                print(f"{mode}: RSS of one app process with K sessions")
                ok = _report(mode, _run_child(path, mode)) and ok
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
