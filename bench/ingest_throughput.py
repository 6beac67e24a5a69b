"""Ingestion throughput: raw landing files → raw tables, orders per second, for a simulated day.

Compared in the same run against a naive baseline that does what a first version would: the same
channel extraction, then per-record Python conversion and one INSERT per order into DuckDB. The baseline
runs on a sample (it is slow) and is reported as a rate, so the ratio is rate against rate.

    .venv/bin/python bench/ingest_throughput.py [--orders 100000] [--baseline-sample 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

from ingestion import warehouse
from ingestion.adapters import ADAPTERS
from ingestion.landing import discover
from ingestion.loader import _read, run_batch
from ingestion.records import RecordError
from simulator import simulate_day


def machine() -> str:
    model = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def naive_load(landing: Path, db: Path, sample: int) -> tuple[int, float]:
    """Row-at-a-time: extract, convert in Python, INSERT each order. Returns (orders, seconds)."""
    con = warehouse.connect(db)
    con.execute(
        "create table naive_orders (order_key varchar primary key, store_id varchar, phone varchar, "
        "created_at varchar, paid_amount decimal(18,2), lines integer)"
    )
    done = 0
    started = time.perf_counter()
    for file in discover(landing):
        if file.kind != "orders" or done >= sample:
            continue
        spec = ADAPTERS[file.source]
        for record in _read(file).records:
            if done >= sample:
                break
            try:
                extracted = spec.extract(record)
                order = extracted.order
                paid = float(order["paid_amount"] or 0)
                if spec.money_unit == "fen":
                    paid /= 100
                con.execute(
                    "insert or ignore into naive_orders values (?, ?, ?, ?, ?, ?)",
                    [
                        f"{spec.channel}:{order['channel_order_id']}",
                        order["store_id"],
                        order["phone"],
                        order["created_at"],
                        round(paid, 2),
                        len(extracted.lines),
                    ],
                )
            except (RecordError, ValueError, TypeError):
                pass
            done += 1
    elapsed = time.perf_counter() - started
    con.close()
    return done, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--baseline-sample", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        landing = root / "landing"
        t0 = time.perf_counter()
        simulate_day(dt.date(2026, 11, 26), orders=args.orders, seed=args.seed, out=landing)
        simulate_s = time.perf_counter() - t0

        baseline_records, baseline_s = naive_load(landing, root / "naive.duckdb", args.baseline_sample)

        con = warehouse.connect(root / "orderhub.duckdb")
        t0 = time.perf_counter()
        result = run_batch(con, landing)
        ours_s = time.perf_counter() - t0
        con.close()

    order_counts = [c for ch, c in result.counts.items() if not ch.startswith("reference/")]
    order_records = sum(c.landed for c in order_counts)
    baseline_rate = baseline_records / baseline_s
    ours_rate = order_records / ours_s
    print(f"machine: {machine()}")
    print(
        f"simulated {args.orders:,} orders in {simulate_s:.1f} s; {result.files} files, {order_records:,} order records"
    )
    print()
    print(f"| {'loader':<44} | {'records':>9} | {'seconds':>8} | {'records/s':>10} | {'vs baseline':>11} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 10}|{'-' * 12}|{'-' * 13}|")
    print(
        f"| {'naive: per-record convert + INSERT (sample)':<44} | {baseline_records:>9,} | {baseline_s:>8.2f} | "
        f"{baseline_rate:>10,.0f} | {1.0:>10.1f}x |"
    )
    print(
        f"| {'orderhub run_batch (polars, one transaction)':<44} | {order_records:>9,} | {ours_s:>8.2f} | "
        f"{ours_rate:>10,.0f} | {ours_rate / baseline_rate:>10.1f}x |"
    )
    print()
    loaded, quarantined, duplicate = (
        sum(getattr(c, f) for c in order_counts) for f in ("loaded", "quarantined", "duplicate")
    )
    print(
        f"order records: loaded {loaded:,}, quarantined {quarantined:,}, duplicates {duplicate:,} "
        "(the baseline validates nothing and quarantines nothing)"
    )


if __name__ == "__main__":
    main()
