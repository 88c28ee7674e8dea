"""What a budget check costs before each token mint (issue 28).

The check (``CallMeter.before_mint``) reads the analyst's day, the deployment's day and
the analyst's open calls (``ledger.read_standing``), then a voice call claims its
open-call row (``open_call`` + ``add_usage``). Measured against a store with a year of
history: ANALYSTS analysts x 365 days of counters, and AUDIT audit events (the trail is
not read by the check: its size must not matter). Also a call's heartbeat write
(``add_usage`` + ``open_call`` + ``read_standing``), which runs on the store writer.

Run on SQLite (a file in a temp dir) and PostgreSQL (a private server started here, fsync
off like the tests). Timings are printed; nothing is asserted.

Usage: .venv/bin/python bench/bench_budgets.py [--quick] [--engines sqlite,postgresql]
  --quick   20 analysts, 10,000 audit events, 200 checks
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from livechat.store import ConversationStore  # noqa: E402
from livechat.store.schema import audit_events, usage_daily  # noqa: E402
from livechat.usage.decide import day_of  # noqa: E402
from livechat.usage.ledger import Delta, add_usage, close_call, open_call, read_standing  # noqa: E402


def _fill(store: ConversationStore, analysts: int, audit: int, now: float) -> None:
    days = [day_of(now - d * 86400) for d in range(365)]
    with store.transaction() as connection:
        connection.execute(usage_daily.insert(), [
            {"analyst": f"analyst-{a}@example.org", "day": day, "seconds": 600.0, "tokens": 20_000,
             "tool_calls": 12, "calls": 3, "updated_at": now} for a in range(analysts) for day in days])
        for start in range(0, audit, 5_000):
            connection.execute(audit_events.insert(), [
                {"at": now - i, "analyst": f"analyst-{i % analysts}@example.org", "kind": "tool_call",
                 "details": {"name": "run_sql", "sql": "SELECT 1", "rows": 1}}
                for i in range(start, min(audit, start + 5_000))])


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def run(engine: str, url: str, *, analysts: int, audit: int, checks: int) -> None:
    store = ConversationStore.open(url)
    try:
        now = time.time()
        _fill(store, analysts, audit, now)
        analyst = "analyst-0@example.org"
        reads, claims, beats = [], [], []
        for i in range(checks):
            started = time.perf_counter()
            read_standing(store, analyst, now=now, exclude_call=f"call-{i}")
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            open_call(store, f"call-{i}", analyst, now=now)
            add_usage(store, analyst, Delta(calls=1), now=now)
            claims.append(time.perf_counter() - started)
            started = time.perf_counter()
            add_usage(store, analyst, Delta(seconds=15.0, tokens=300), now=now)
            open_call(store, f"call-{i}", analyst, now=now)
            read_standing(store, analyst, now=now, exclude_call=f"call-{i}")
            beats.append(time.perf_counter() - started)
            close_call(store, f"call-{i}")
        rows = analysts * 365
        print(f"{engine}: {rows:,} daily rows, {audit:,} audit events, {checks} checks")
        print(f"  check before a mint (read_standing)        {_ms(reads)}")
        print(f"  a voice call's claim (open_call+add_usage) {_ms(claims)}")
        print(f"  heartbeat on the writer (write+read back)  {_ms(beats)}")
        with store.transaction() as connection:  # the counts stayed exact under repeated deltas
            total = connection.execute(sa.select(usage_daily.c.calls).where(
                usage_daily.c.analyst == analyst, usage_daily.c.day == day_of(now))).scalar_one()
        print(f"  calls counted today for {analyst}: {total} (3 + {checks} expected)")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    analysts, audit, checks = (20, 10_000, 200) if args.quick else (200, 200_000, 1_000)
    for engine in args.engines.split(","):
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                run(engine, f"sqlite:///{folder}/store.db", analysts=analysts, audit=audit, checks=checks)
        elif engine == "postgresql":
            from tests.postgres_server import PostgresServer, PostgresUnavailable

            try:
                server = PostgresServer().start()
            except (PostgresUnavailable, OSError) as exc:
                print(f"postgresql: skipped ({exc})")
                continue
            try:
                run(engine, server.new_database(), analysts=analysts, audit=audit, checks=checks)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
