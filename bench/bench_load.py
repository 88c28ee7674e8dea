#!/usr/bin/env python3
"""Benchmark: load_table on a large mixed CSV against pandas' pyarrow engine.

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

Usage: .venv/bin/python bench/bench_load.py [--quick] [--rows N] [--repeats N] [--strict]
  --quick   100,000 rows (the number and detection figures keep their sizes)
  --strict  exit 1 when a figure is above its acceptance limit
"""

from __future__ import annotations

import argparse
import gc
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="load_table vs pd.read_csv(engine='pyarrow')")
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, default=None, help="row count (overrides --quick)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per reader (median is reported)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if the ratio is over the limit")
    args = parser.parse_args(argv)
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

    base = statistics.median(base_times)
    mine = statistics.median(our_times)
    ratio = mine / base
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
