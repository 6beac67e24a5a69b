"""The serving snapshot's copy in ClickHouse: what a publish costs, and what a dashboard pays to read a version,
beside reading the same snapshot file (the baseline), in one run.

    .venv/bin/python bench/serving_copy.py --serving demo/warehouse/serving.duckdb --clickhouse chdb:///tmp/bench-ch

Rows (median of --repeat runs, seconds):
- publish: `history.serving.publish_snapshot` (every table into a new version, the pointer, old versions dropped)
- version check: what every page refresh asks (connect, the pointer row, close)
- load version: the pointer, every table as Arrow, into an in-memory DuckDB (once per version per process)
- live page: the live page's queries (`fetch_live`) on the file (open read-only, query, close) and on the loaded copy
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from dashboards.queries import reader
from dashboards.queries.live import fetch_live
from history import serving
from history.client import connect_when_free


def timed(repeat: int, run: Callable[[], object]) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def load_version(dsn: str) -> duckdb.DuckDBPyConnection:
    client = connect_when_free(dsn)
    try:
        publish = serving.latest_publish(client)
        con = duckdb.connect()
        serving.load_into_duckdb(con, publish, serving.read_tables(client, publish))
        return con
    finally:
        client.close()


def version_check(dsn: str) -> int:
    client = connect_when_free(dsn)
    try:
        return serving.latest_publish(client).version
    finally:
        client.close()


def publish(dsn: str, snapshot: Path) -> dict[str, int]:
    client = connect_when_free(dsn)
    try:
        return serving.publish_snapshot(client, snapshot)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving", type=Path, required=True, help="a published serving snapshot (DuckDB file)")
    parser.add_argument("--clickhouse", required=True, help="a DSN: chdb://PATH or http(s)://host:port")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    counts = publish(args.clickhouse, args.serving)  # warm: the engine started, the database created
    copy = load_version(args.clickhouse)
    rows = [
        ("publish", None, timed(args.repeat, lambda: publish(args.clickhouse, args.serving))),
        (
            "version check (per refresh)",
            timed(args.repeat, lambda: args.serving.stat()),
            timed(args.repeat, lambda: version_check(args.clickhouse)),
        ),
        ("load version (per publish)", None, timed(args.repeat, lambda: load_version(args.clickhouse).close())),
        (
            "live page queries",
            timed(args.repeat, lambda: reader.read(args.serving, fetch_live)),
            timed(args.repeat, lambda: fetch_live(copy.cursor())),
        ),
    ]
    print(f"snapshot {args.serving}: {len(counts)} tables, {sum(counts.values()):,} rows; median of {args.repeat}")
    print(
        f"machine: {platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    print()
    print("| step | snapshot file (s) | ClickHouse copy (s) |")
    print("|---|---:|---:|")
    for step, file_s, ch_s in rows:
        print(f"| {step} | {'' if file_s is None else f'{file_s:.3f}'} | {'' if ch_s is None else f'{ch_s:.3f}'} |")


if __name__ == "__main__":
    main()
