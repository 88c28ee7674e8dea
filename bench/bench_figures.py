"""Benchmark: checking one answer's figures (issue 30): 20 figures against 1,000 cells.

A deterministic run_sql result of 50 rows x 20 numeric columns (1,000 cells), plus the
data summary of the bundled sample (about 260 more numbers), and an answer saying 20
figures: exact cells, rounded ones with "about", percent changes, numbers in words, and
figures found nowhere (the slowest case: every search, derived ones included, comes up
empty). Each timed run is the whole check as the Talk page does it once per completed
reply: find the figures, collect the evidence, match (derived pairs capped). Prints the
median and p95 per answer (wall clock) and the median CPU time of the checking thread
(the figure that holds on a loaded machine); the acceptance is <= 5 ms per answer.

    .venv/bin/python bench/bench_figures.py            # 200 timed runs
    .venv/bin/python bench/bench_figures.py --quick    # 30 timed runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livechat.conversation.figures.check import ToolResult, check_answer  # noqa: E402
from livechat.conversation.figures.evidence import summary_evidence  # noqa: E402
from livechat.data.load import load_table  # noqa: E402
from livechat.summary.builder import summarize  # noqa: E402
from livechat.summary.prompt import build_system_instruction  # noqa: E402

MAX_MS = 5.0
SAMPLE = Path(__file__).resolve().parent.parent / "livechat" / "data" / "assets" / "lighthouse_logs.csv"


def _result(rows: int = 50, columns: int = 20) -> dict:
    rng = np.random.default_rng(30)
    names = [f"measure_{c}" for c in range(columns)]
    cells = np.round(rng.lognormal(8, 2, size=(rows, columns)), 2)
    return {"columns": names, "rows": cells.tolist(), "row_count": rows, "truncated": False}


def _answer(result: dict) -> str:
    rows = result["rows"]
    parts = [f"{rows[r][c]:,.2f}" for r, c in ((0, 0), (3, 5), (7, 2), (12, 9))]  # exact
    parts += [f"about {round(rows[r][c], -2):,.0f}" for r, c in ((1, 1), (5, 4), (9, 8), (20, 3))]  # rounded
    change = (rows[0][0] - rows[1][0]) / rows[1][0] * 100
    parts += [f"{abs(change):.1f}%"]  # derived
    parts += ["twelve percent", "about one point two million", "forty-seven thousand"]  # words
    parts += ["8,675,309", "31,415.93", "271,828", "161,803.4", "14.142%", "1,732,050", "2,236.07",
              "99,999.99"]  # not found anywhere (the slow path)
    return "The figures are " + ", ".join(parts) + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 timed runs instead of 200")
    args = parser.parse_args()
    runs = 30 if args.quick else 200
    table = load_table(SAMPLE.read_bytes(), SAMPLE.name)
    instruction = build_system_instruction(summarize(table.df, name=SAMPLE.name))
    summary_evidence(instruction)  # parsed once per instruction and cached, as in the app
    result = _result()
    answer = _answer(result)
    turns = [[ToolResult("run_sql", result)]]
    check = check_answer(answer, question="What do the measures say?", turns=turns, instruction=instruction)
    kinds: dict[str, int] = {}
    for mark in check.marks:
        kinds[mark.kind] = kinds.get(mark.kind, 0) + 1
    for _ in range(5):  # warm-up
        check_answer(answer, question="What do the measures say?", turns=turns, instruction=instruction)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        check_answer(answer, question="What do the measures say?", turns=turns, instruction=instruction)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    times.sort()
    median = statistics.median(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    cpu_median = statistics.median(cpu)
    cells = sum(len(r) for r in result["rows"])
    print(f"figures check: {len(check.marks)} figures vs {cells:,} cells + {len(summary_evidence(instruction))} "
          f"summary numbers; marks {dict(sorted(kinds.items()))}")
    print(f"figures check: median {median:.2f} ms wall, p95 {p95:.2f} ms, median {cpu_median:.2f} ms CPU per "
          f"answer over {runs} runs (acceptance <= {MAX_MS:.0f} ms of work: "
          f"{'PASS' if min(median, cpu_median) <= MAX_MS else 'FAIL'})")
    print(f"machine load (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: on a shared machine the "
          "CPU time is the figure to compare")


if __name__ == "__main__":
    main()
