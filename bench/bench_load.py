#!/usr/bin/env python3
"""Benchmark: load_table on a large mixed CSV (and workbook) against pandas.

Generates (in a temporary directory, fixed seed) a CSV of 1,000,000 rows × 20 columns
(~200 MB: integers, floats, ISO dates and timestamps, categories, booleans, ids, short
text, some nulls), then times, alternating, the median of N runs of
  baseline:   pd.read_csv(path, engine="pyarrow")
  load_table: path.read_bytes() + livechat.data.load.load_table(bytes, "bench.csv")
and prints both and their ratio. Acceptance: ratio <= 1.3.

Then, for local formats (issue 21):
  numbers:   convert_number_columns on a 1,000,000-row column written "1.234,56"
             (decimal comma, "." thousands), median of N. Acceptance: <= 1 s.
  detection: detect_encoding on Windows-1251 files of 1, 10 and 100 MB (the code page
             named by charset-normalizer from a bounded sample). Acceptance: the time does
             not grow with the file size.

Excel case (--excel): a 200,000 × 8 workbook (ints, floats, text, dates, booleans;
written with XlsxWriter) timed the same way against pd.read_excel(engine="calamine");
acceptance: ratio <= 1.3. Then, in a fresh process, the peak resident memory added
while load_table reads a bigger workbook (--excel-mb, default 200 MB of .xlsx), printed
against the memory of the resulting DataFrame (acceptance: <= 3x), with the load time.
--memory-baseline measures the same, each in its own process, for load_table reading
the sheet whole (the path below excel_reader.PIECES_OVER_CELLS) and for
pd.read_excel(engine="calamine").

Usage: .venv/bin/python bench/bench_load.py [--quick] [--rows N] [--repeats N] [--strict]
       .venv/bin/python bench/bench_load.py --excel [--excel-rows N] [--excel-mb MB] [--memory-baseline] [--strict]
  --quick   100,000 rows (the number and detection figures keep their sizes)
  --strict  exit 1 when a figure is above its acceptance limit
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livechat.data.load import MAX_UPLOAD_BYTES, load_table  # noqa: E402
from livechat.data.loaders.numbers import convert_number_columns  # noqa: E402
from livechat.data.loaders.text import detect_encoding  # noqa: E402
from livechat.procstat import PeakRss  # noqa: E402

SEED = 20240601
ACCEPT_RATIO = 1.3
ACCEPT_NUMBERS_S = 1.0
NUMBER_ROWS = 1_000_000
DETECT_SIZES_MB = (1, 10, 100)
# Detection may vary with load, never with size: the largest file may take at most this
# many times the smallest one's time.
ACCEPT_DETECT_GROWTH = 2.0
_RUSSIAN_ROWS = (
    "Москва;Центральный;13010112;столица, крупнейший город страны\r\n"
    "Санкт-Петербург;Северо-Западный;5601911;бывшая столица империи\r\n"
    "Новосибирск;Сибирский;1633595;третий по численности город\r\n"
    "Екатеринбург;Уральский;1544376;промышленный центр Урала\r\n"
)
ACCEPT_MEMORY = 3.0
EXCEL_COLUMNS = ["id", "region", "quantity", "price", "order_date", "is_member", "note", "score"]
CHUNK_ROWS = 250_000

_WORDS = np.array(
    "late early damaged gift repeat urgent fragile bulk sample promo missing resent "
    "customer asked call back left at door signed neighbour weekend express".split()
)
_REGIONS = np.array(["North", "South", "East", "West", "Central", "Islands", "Highlands", "Coast"])
_CHANNELS = np.array(["web", "store", "phone", "partner"])
_STATUSES = np.array(["new", "paid", "shipped", "delivered", "cancelled"])
_PRODUCTS = np.array(
    [
        f"{a} {b}"
        for a in ("Classic", "Deluxe", "Compact", "Outdoor", "Premium")
        for b in ("Kettle", "Lamp", "Chair", "Blanket", "Mug", "Jacket", "Tent", "Radio", "Clock", "Scarf")
    ]
)


def _chunk(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    """One chunk of rows; columns chosen to exercise every type inference path."""
    base = np.datetime64("2022-01-01T00:00:00", "s")
    created = base + rng.integers(0, 3 * 365 * 86400, n).astype("timedelta64[s]")
    order_date = created.astype("datetime64[D]")
    shipped = created + rng.integers(3600, 10 * 86400, n).astype("timedelta64[s]")
    quantity = rng.integers(1, 21, n)
    price = np.round(rng.gamma(2.0, 15.0, n), 2)
    discount = np.round(rng.uniform(0, 0.3, n), 2)
    note_words = rng.integers(0, len(_WORDS), (n, 5))
    notes = _WORDS[note_words[:, 0]]
    for k in range(1, 5):
        notes = np.char.add(np.char.add(notes, " "), _WORDS[note_words[:, k]])
    note_mask = rng.random(n) < 0.6
    rating = rng.integers(1, 6, n)
    score = np.round(rng.normal(70, 12, n), 3)
    return pa.table(
        {
            "row_id": pa.array(np.arange(start, start + n)),
            "customer_id": pa.array(
                np.char.add("CUST-", np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9))
            ),
            "order_date": pa.array(order_date),
            "created_at": pa.array(created),
            "region": pa.array(_REGIONS[rng.integers(0, len(_REGIONS), n)]),
            "product": pa.array(_PRODUCTS[rng.integers(0, len(_PRODUCTS), n)]),
            "channel": pa.array(_CHANNELS[rng.integers(0, len(_CHANNELS), n)]),
            "quantity": pa.array(quantity),
            "unit_price": pa.array(price),
            "discount": pa.array(discount),
            "total": pa.array(np.round(quantity * price * (1 - discount), 2)),
            "is_member": pa.array(rng.random(n) < 0.4),
            "returned": pa.array(rng.random(n) < 0.05),
            "rating": pa.array(rating, mask=rng.random(n) < 0.3),
            "score": pa.array(score, mask=rng.random(n) < 0.1),
            "latitude": pa.array(np.round(rng.uniform(49.9, 60.8, n), 6)),
            "longitude": pa.array(np.round(rng.uniform(-8.6, 1.8, n), 6)),
            "status": pa.array(_STATUSES[rng.integers(0, len(_STATUSES), n)]),
            "note": pa.array(notes, mask=~note_mask),
            "shipped_at": pa.array(shipped, mask=rng.random(n) < 0.15),
        }
    )


def generate(path: Path, rows: int) -> None:
    """Write the benchmark CSV (deterministic for a given row count)."""
    rng = np.random.default_rng(SEED)
    with pacsv.CSVWriter(str(path), _chunk(rng, 0, 1).schema) as writer:
        for start in range(0, rows, CHUNK_ROWS):
            writer.write_table(_chunk(rng, start, min(CHUNK_ROWS, rows - start)))


def _time(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def bench_numbers(repeats: int) -> float:
    """Median seconds to convert a 1M-row decimal-comma text column; prints the figure."""
    rng = np.random.default_rng(SEED)
    values = np.round(rng.uniform(-1e6, 1e6, NUMBER_ROWS), 2)
    cells = [f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") for v in values]
    column = pd.Series(cells, dtype="str")
    times = []
    for _ in range(repeats):
        frame = pd.DataFrame({"Umsatz": column})
        t, (out, result) = _time(lambda: convert_number_columns(frame))
        times.append(t)
        assert out["Umsatz"].dtype == np.float64 and result.conversions, "column not converted"
    median = statistics.median(times)
    verdict = "ok" if median <= ACCEPT_NUMBERS_S else "OVER LIMIT"
    print(
        f"decimal-comma column, {NUMBER_ROWS:,} rows ('{cells[0]}'): median {median:.3f} s  "
        f"runs {', '.join(f'{t:.3f}' for t in times)} (acceptance <= {ACCEPT_NUMBERS_S:.0f} s: {verdict})"
    )
    return median


def bench_detection(repeats: int) -> float:
    """Detection time per file size; returns largest/smallest median ratio."""
    unit = _RUSSIAN_ROWS.encode("cp1251")
    header = "город;регион;население;примечание\r\n".encode("cp1251")
    medians = []
    for mb in DETECT_SIZES_MB:
        data = header + unit * (mb * 1024 * 1024 // len(unit))
        times = []
        for _ in range(repeats):
            t, encoding = _time(lambda: detect_encoding(data, "ru.csv"))
            times.append(t)
            assert encoding.codec == "cp1251", encoding
        medians.append(statistics.median(times))
        print(f"detect_encoding, Windows-1251, {len(data) / 1e6:,.0f} MB: median {medians[-1] * 1000:.1f} ms")
    growth = medians[-1] / medians[0]
    verdict = "ok" if growth <= ACCEPT_DETECT_GROWTH else "GROWS WITH SIZE"
    print(f"detection {DETECT_SIZES_MB[-1]} MB / {DETECT_SIZES_MB[0]} MB: {growth:.2f}x (acceptance <= {ACCEPT_DETECT_GROWTH}: {verdict})")
    return growth


def _detection_times(data: bytes) -> tuple[float, float]:
    """Median time of the table finder on the whole file and on its first 10,000 rows:
    the work is bounded (head, tail, one C-level search), so the two should be close."""
    from livechat.data.loaders.text import decode_prefix
    from livechat.data.loaders.text_table import find_text_table

    small = data[: _nth_newline(data, 10_001) + 1]
    result = []
    for blob in (data, small):
        view = memoryview(blob)
        prefix = decode_prefix(view)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            find_text_table(view, prefix, ",", header_row=None, name="bench.csv")
            times.append(time.perf_counter() - t0)
        result.append(statistics.median(times))
    return result[0], result[1]


def _nth_newline(data: bytes, n: int) -> int:
    at = -1
    for _ in range(n):
        at = data.find(b"\n", at + 1)
    return at


EXCEL_MAX_ROWS = 1_048_575  # data rows under Excel's 1,048,576-row sheet limit


def generate_workbook(path: Path, rows: int, repeat: int = 1) -> None:
    """Write the benchmark workbook (deterministic for a given row count); `repeat`
    writes the 8 columns that many times side by side (a wider, bigger workbook:
    Excel caps a sheet at 1,048,576 rows)."""
    import xlsxwriter  # dev dependency: only the benchmark writes big workbooks

    rng = np.random.default_rng(SEED)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("orders")
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    width = len(EXCEL_COLUMNS)
    ws.write_row(
        0, 0, [f"{c}_{k + 1}" if k else c for k in range(repeat) for c in EXCEL_COLUMNS]
    )
    base = dt.datetime(2022, 1, 1)
    for start in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - start)
        region = _REGIONS[rng.integers(0, len(_REGIONS), n)].tolist()
        quantity = rng.integers(1, 21, n).tolist()
        price = np.round(rng.gamma(2.0, 15.0, n), 2).tolist()
        days = rng.integers(0, 3 * 365, n).tolist()
        member = (rng.random(n) < 0.4).tolist()
        note = _WORDS[rng.integers(0, len(_WORDS), n)].tolist()
        score = np.round(rng.normal(70, 12, n), 3).tolist()
        for i in range(n):
            r = start + i + 1
            for k in range(0, repeat * width, width):
                ws.write_number(r, k, start + i)
                ws.write_string(r, k + 1, region[i])
                ws.write_number(r, k + 2, quantity[i])
                ws.write_number(r, k + 3, price[i])
                ws.write_datetime(r, k + 4, base + dt.timedelta(days=days[i]), date_format)
                ws.write_boolean(r, k + 5, member[i])
                ws.write_string(r, k + 6, note[i])
                ws.write_number(r, k + 7, score[i])
    wb.close()


_MEMORY_READERS = {
    "load_table": "load_table",
    "whole": "load_table, sheet parsed whole",
    "pandas": "pd.read_excel(engine='calamine')",
}


def _measure_memory(path: Path, reader: str) -> None:
    """Child process: peak RSS added while `reader` reads `path`, the frame's size and
    the load time."""
    from livechat.data.loaders import excel_reader

    data = path.read_bytes()
    if reader == "whole":
        excel_reader.PIECES_OVER_CELLS = 2**62  # the path of sheets under the threshold
    gc.collect()
    t0 = time.perf_counter()
    with PeakRss(lambda: ["self"], interval_s=0.01) as peak:
        if reader == "pandas":
            df = pd.read_excel(io.BytesIO(data), engine="calamine")
        else:
            df = load_table(data, path.name, max_bytes=max(MAX_UPLOAD_BYTES, len(data))).df
    seconds = time.perf_counter() - t0
    frame = int(df.memory_usage(deep=True, index=True).sum())
    print(json.dumps({"added": peak.added, "frame": frame, "shape": list(df.shape), "seconds": seconds}))


def _memory_child(path: Path, reader: str) -> dict[str, object] | None:
    child = subprocess.run(
        [sys.executable, __file__, "--measure-memory", str(path), "--reader", reader],
        check=False, capture_output=True, text=True,
    )
    if child.returncode != 0:
        print(f"memory measurement of {reader} failed (exit {child.returncode}):\n{child.stderr[-2000:]}")
        return None
    return json.loads(child.stdout.strip().splitlines()[-1])


def excel_case(args: argparse.Namespace) -> int:
    rows = args.excel_rows
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        path = Path(tmp) / "bench.xlsx"
        t_gen, _ = _time(lambda: generate_workbook(path, rows))
        data = path.read_bytes()
        print(f"generated {rows:,} rows × {len(EXCEL_COLUMNS)} columns: {len(data) / 1e6:,.1f} MB in {t_gen:.1f} s")

        def baseline() -> pd.DataFrame:
            return pd.read_excel(io.BytesIO(data), engine="calamine")

        def ours() -> pd.DataFrame:
            return load_table(data, "bench.xlsx").df

        base_times: list[float] = []
        our_times: list[float] = []
        for _ in range(args.repeats):
            t, df = _time(baseline)
            base_times.append(t)
            base_dtypes = df.dtypes.astype(str).to_dict()
            del df
            t, df = _time(ours)
            our_times.append(t)
            our_dtypes = df.dtypes.astype(str).to_dict()
            del df
        base = statistics.median(base_times)
        mine = statistics.median(our_times)
        ratio = mine / base
        print(f"pd.read_excel(engine='calamine'): median {base:.3f} s  runs {', '.join(f'{t:.3f}' for t in base_times)}")
        print(f"load_table:                        median {mine:.3f} s  runs {', '.join(f'{t:.3f}' for t in our_times)}")
        print(f"dtypes: read_excel {base_dtypes}")
        print(f"        load_table {our_dtypes}")
        verdict = "ok" if ratio <= ACCEPT_RATIO else "OVER LIMIT"
        print(f"ratio load_table / read_excel: {ratio:.2f} (acceptance <= {ACCEPT_RATIO}: {verdict})")
        failed |= ratio > ACCEPT_RATIO

        if args.excel_mb > 0:
            big = Path(tmp) / "big.xlsx"
            per_row = len(data) / rows  # bytes per row of 8 columns
            big_rows = min(EXCEL_MAX_ROWS, int(args.excel_mb * 1e6 / per_row))
            repeat = max(1, round(args.excel_mb * 1e6 / (per_row * big_rows)))
            path.unlink()
            t_gen, _ = _time(lambda: generate_workbook(big, big_rows, repeat))
            size = big.stat().st_size
            print(
                f"generated {big_rows:,} rows × {len(EXCEL_COLUMNS) * repeat} columns: "
                f"{size / 1e6:,.1f} MB in {t_gen:.1f} s"
            )
            for reader in _MEMORY_READERS if args.memory_baseline else ("load_table",):
                got = _memory_child(big, reader)
                if got is None:
                    return 1
                times = got["added"] / got["frame"]  # type: ignore[operator]
                verdict = "ok" if times <= ACCEPT_MEMORY else "OVER LIMIT"
                print(
                    f"{_MEMORY_READERS[reader]}: peak memory added while loading {size / 1e6:,.1f} MB "
                    f"({got['shape'][0]:,} rows × {got['shape'][1]} columns) in {got['seconds']:.1f} s: "  # type: ignore[index]
                    f"{got['added'] / 1e6:,.0f} MB; DataFrame {got['frame'] / 1e6:,.0f} MB; "  # type: ignore[operator]
                    f"{times:.2f}x" + (f" (acceptance <= {ACCEPT_MEMORY}: {verdict})" if reader == "load_table" else "")
                )
                if reader == "load_table":
                    failed |= times > ACCEPT_MEMORY
    return 1 if args.strict and failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="load_table vs pd.read_csv(engine='pyarrow')")
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, default=None, help="row count (overrides --quick)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per reader (median is reported)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if the ratio is over the limit")
    parser.add_argument("--excel", action="store_true", help="the workbook case instead of the CSV one")
    parser.add_argument("--excel-rows", type=int, default=200_000, help="rows of the timed workbook")
    parser.add_argument("--excel-mb", type=float, default=200, help="size of the memory workbook (0: skip)")
    parser.add_argument(
        "--memory-baseline", action="store_true", help="also measure the whole-sheet path's and pd.read_excel's peaks"
    )
    parser.add_argument("--measure-memory", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reader", default="load_table", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_memory:
        _measure_memory(args.measure_memory, args.reader)
        return 0
    if args.excel:
        return excel_case(args)
    rows = args.rows or (100_000 if args.quick else 1_000_000)

    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        path = Path(tmp) / "bench.csv"
        t_gen, _ = _time(lambda: generate(path, rows))
        size = path.stat().st_size
        print(f"generated {rows:,} rows × 20 columns: {size / 1e6:,.1f} MB in {t_gen:.1f} s")
        max_bytes = max(MAX_UPLOAD_BYTES, size)
        if size > MAX_UPLOAD_BYTES:
            print(f"note: file is over the upload limit; max_bytes raised to {size:,} for the benchmark")
        path.read_bytes()  # warm the page cache for both readers

        def baseline() -> pd.DataFrame:
            return pd.read_csv(path, engine="pyarrow")

        def ours() -> pd.DataFrame:
            return load_table(path.read_bytes(), "bench.csv", max_bytes=max_bytes).df

        base_times: list[float] = []
        our_times: list[float] = []
        shapes = set()
        for _ in range(args.repeats):
            t, df = _time(baseline)
            base_times.append(t)
            shapes.add(df.shape)
            del df
            t, df = _time(ours)
            our_times.append(t)
            shapes.add(df.shape)
            dtypes = df.dtypes.astype(str).value_counts().to_dict()
            del df

        detect_big, detect_small = _detection_times(path.read_bytes())

    base = statistics.median(base_times)
    mine = statistics.median(our_times)
    ratio = mine / base
    print(
        f"table finding (header, tail, empty-line search): {detect_big * 1e3:.1f} ms on the "
        f"{rows:,}-row file, {detect_small * 1e3:.1f} ms on its first 10,000 rows"
    )
    print(f"pd.read_csv(engine='pyarrow'): median {base:.3f} s  runs {', '.join(f'{t:.3f}' for t in base_times)}")
    print(f"load_table (incl. read_bytes): median {mine:.3f} s  runs {', '.join(f'{t:.3f}' for t in our_times)}")
    print(f"shapes: {sorted(shapes)}; load_table dtypes: {dtypes}")
    verdict = "ok" if ratio <= ACCEPT_RATIO else "OVER LIMIT"
    print(f"ratio load_table / baseline: {ratio:.2f} (acceptance <= {ACCEPT_RATIO}: {verdict})")
    numbers = bench_numbers(max(args.repeats, 3))
    growth = bench_detection(max(args.repeats, 5))
    failed = ratio > ACCEPT_RATIO or numbers > ACCEPT_NUMBERS_S or growth > ACCEPT_DETECT_GROWTH
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
