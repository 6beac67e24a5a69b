"""Great Expectations validation of one normalised batch of 100k orders, against a plain-polars baseline of
the same rules measured in the same run.

A simulated day of --orders orders is loaded into a temporary warehouse; its raw.orders rows (with their lines'
list-price totals) are one normalised batch, validated with the full `orders` suite (data_quality/suites.py)
through data_quality.runner (GX 1.x, pandas engine, the frame converted from polars). The target is < 5 s.

    .venv/bin/python bench/dq_validation.py [--orders 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from ingestion import warehouse
from ingestion.loader import run_batch
from simulator import simulate_day

ORDERS_SQL = """
    SELECT o.*, l.lines_goods_total FROM raw.orders o
    LEFT JOIN (SELECT order_key, sum(original_price * quantity) lines_goods_total FROM raw.order_lines GROUP BY 1) l
    USING (order_key)
"""


def polars_baseline(frame: pl.DataFrame) -> dict[str, int]:
    """The suite's rules as plain polars expressions (violations per rule): what the checks cost without GX."""
    from data_quality.expectations import CHINA_LAT, CHINA_LNG, MONEY_ORDER_COLUMNS, PHONE_PATTERN, SuiteParams
    from data_quality.order_suites import prepare_orders
    from ingestion import contract

    f = prepare_orders(frame, SuiteParams())
    tol = 0.01
    rules = {
        **{
            f"{c} present": pl.col(c).is_null()
            for c in (
                "order_key",
                "channel",
                "channel_order_id",
                "store_id",
                "created_at",
                "status",
                *MONEY_ORDER_COLUMNS,
            )
        },
        "key unique": pl.col("order_key").is_duplicated(),
        "key built": pl.col("order_key") != pl.col("order_key_expected"),
        "channel": ~pl.col("channel").is_in(contract.CHANNELS),
        "status": ~pl.col("status").is_in(contract.ORDER_STATUSES),
        **{f"{c} >= 0": pl.col(c) < 0 for c in MONEY_ORDER_COLUMNS},
        "amount identity": pl.col("amount_gap").abs() > tol,
        "lines = goods": pl.col("lines_goods_gap").abs() > tol,
        "fulfilment": ~pl.col("fulfilment_type").is_in(contract.FULFILMENT_TYPES),
        "phone kind": ~pl.col("phone_kind").is_in(contract.PHONE_KINDS),
        "phone format": ~pl.col("phone").str.contains(PHONE_PATTERN),
        "phone consistent": ~pl.col("phone_kind_consistent"),
        "delivery phone": (pl.col("fulfilment_type") == "delivery") & (pl.col("phone_kind") == "missing"),
        "delivery address": (pl.col("fulfilment_type") == "delivery") & pl.col("address_raw").is_null(),
        "last4": ~pl.col("phone_last4").str.contains(r"^\d{4}$"),
        "lat": ~pl.col("lat").is_between(*CHINA_LAT),
        "lng": ~pl.col("lng").is_between(*CHINA_LNG),
        "coords paired": ~pl.col("coordinates_paired"),
        "admin code": ~pl.col("admin_code").str.contains(r"^\d{6}$"),
        "created on day": pl.col("created_day_offset") != 0,
        "paid after created": pl.col("paid_at") < pl.col("created_at"),
        "promised after created": pl.col("promised_to") < pl.col("created_at"),
        "source file": pl.col("source_file").is_null(),
        "source line": pl.col("source_line") < 1,
        "raw hash": ~pl.col("raw_hash").str.contains(r"^[0-9a-f]{32}$"),
    }
    counts = f.select(**{name: expr.fill_null(False).sum() for name, expr in rules.items()}).row(0, named=True)
    return {name: int(n) for name, n in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        simulate_day(dt.date(2026, 11, 26), orders=args.orders, seed=7, out=Path(tmp) / "landing")
        con = warehouse.connect(Path(tmp) / "wh.duckdb")
        run_batch(con, Path(tmp) / "landing")
        from data_quality.results import read_frame

        frame = read_frame(con, ORDERS_SQL)
        lines = read_frame(con, "SELECT l.*, o.channel FROM raw.order_lines l JOIN raw.orders o USING (order_key)")
        con.close()
        prepared_in = time.perf_counter() - started
    print(
        f"simulated and loaded {args.orders:,} orders in {prepared_in:.1f} s; batch: {frame.height:,} orders × {frame.width} columns"
    )

    started = time.perf_counter()
    from data_quality.runner import validator

    engine = validator()
    setup = time.perf_counter() - started

    gx_times, base_times, line_times = [], [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        line_validation = engine.validate("order_lines", lines, scope="batch", batch="bench")
        line_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        validation = engine.validate("orders", frame, scope="batch", batch="bench")
        gx_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        violations = polars_baseline(frame)
        base_times.append(time.perf_counter() - t)
    assert validation.rows == frame.height

    gx, base = statistics.median(gx_times), statistics.median(base_times)
    print(f"GX import + context + suites (once per process): {setup:.2f} s")
    print()
    print(
        "| validation of one batch                         |    orders | expectations | seconds (median) | vs baseline |"
    )
    print(
        "|-------------------------------------------------|-----------|--------------|------------------|-------------|"
    )
    print(
        f"| baseline: the same rules as plain polars        | {frame.height:>9,} | {len(violations):>12} | {base:>16.2f} |        1.0x |"
    )
    print(
        f"| GX 1.x suite `orders` (pandas engine, converted) | {frame.height:>9,} | "
        f"{len(validation.outcomes):>12} | {gx:>16.2f} | {gx / base:>10.1f}x |"
    )
    lines_s = statistics.median(line_times)
    print(
        f"| + GX suite `order_lines` on their {lines.height:,} lines | {'':>9} | "
        f"{len(line_validation.outcomes):>12} | {lines_s:>16.2f} |             |"
    )
    print()
    print(f"GX runs: {', '.join(f'{t:.2f}' for t in gx_times)} s; target < 5 s: {'met' if gx < 5 else 'NOT met'}")
    print(f"orders and lines together: {gx + lines_s:.2f} s")
    print(
        f"expectations failed: {len(validation.failed) + len(line_validation.failed)} (a clean simulated day: 0 expected); "
        f"baseline violations: {sum(violations.values())}"
    )
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, polars {pl.__version__}")


if __name__ == "__main__":
    main()
