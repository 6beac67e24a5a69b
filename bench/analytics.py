"""Every analytics question on ClickHouse (chDB, in-process) beside the same question on DuckDB, in one run.

On one warehouse (`--warehouse`, opened read-only) and the ClickHouse store holding the same data
(`--clickhouse`, a DSN as ORDERHUB_CLICKHOUSE_DSN takes it; `--sync` first writes there, with the sink
(history.sink.sync), the warehouse's tables the questions read; `--optimize` merges them to one part per
partition, the state once ClickHouse's background merges have caught up), each question is asked per channel,
per store, per local hour (all days), per channel for the last day and for the last 30 days (`--scopes`),
`--repeat` times per engine. The table gives the first (cold) and the median time per engine, the rows, and
whether both engines answered the same. The target: each question under 2 s on ClickHouse at 10M orders.

    .venv/bin/python bench/analytics.py --warehouse wh/orderhub.duckdb --clickhouse chdb:///tmp/ch [--sync]
        [--optimize] [--repeat 3] [--scopes channel,store,hour,day,month] [--out bench/results/analytics.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import duckdb
from batch_cost import machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from history.analytics import QUESTIONS, ClickHouseStore, DuckDBStore, Scope  # noqa: E402
from history.analytics.dialects import TABLES  # noqa: E402
from history.client import connect  # noqa: E402
from history.schema import SPECS  # noqa: E402


def _timed(store, question: str, scope: Scope, repeat: int):
    """Wall seconds per run, the median run's CPU seconds, and the answer. Both engines run inside this process,
    so its CPU time is the query's: on a shared machine it moves far less with the others' load than wall time."""
    times, cpu, answer = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        answer = store.ask(question, scope)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return times, statistics.median(cpu), answer


def _scopes(duck: duckdb.DuckDBPyConnection, wanted: list[str]) -> list[tuple[str, Scope]]:
    last = duck.execute("select max(business_date) from marts.fct_orders").fetchone()[0]
    month = last - dt.timedelta(days=29)
    scopes = {
        "channel": ("by channel", Scope(by="channel")),
        "store": ("by store", Scope(by="store")),
        "hour": ("by hour", Scope(by="hour")),
        "day": (f"by channel, {last}", Scope(by="channel", date_from=last, date_to=last)),
        "month": (f"by channel, {month} to {last}", Scope(by="channel", date_from=month, date_to=last)),
    }
    return [scopes[name] for name in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--clickhouse", required=True, help="DSN, e.g. chdb:///path")
    parser.add_argument("--sync", action="store_true", help="write the warehouse to ClickHouse first (the sink)")
    parser.add_argument(
        "--optimize",
        action="store_true",
        help="OPTIMIZE … FINAL the tables first: the state once ClickHouse's background merges have caught up",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--questions", default=",".join(QUESTIONS), help="which questions (default: all)")
    parser.add_argument(
        "--scopes",
        default="channel,store,hour,day,month",
        help="which of: channel, store, hour (all days); day (the last day), month (its last 30 days), by channel",
    )
    parser.add_argument("--out", type=Path, help="also write the markdown here")
    args = parser.parse_args()

    duck = duckdb.connect(str(args.warehouse), read_only=True)
    client = connect(args.clickhouse)
    lines: list[str] = []
    sync_note = ""
    if args.sync:
        from history.sink import sync

        start = time.perf_counter()
        # Only the tables the questions read: the others would only lengthen the setup.
        # The orders' sequence is no copy of the warehouse: the sink derives it after order_customers.
        written = sync(duck, client, tables=[table for table in TABLES if table in SPECS])
        sync_note = (
            f"; the sink wrote it to ClickHouse in {time.perf_counter() - start:.1f} s ({sum(written.values()):,} rows)"
        )
    if args.optimize:
        start = time.perf_counter()
        for table in TABLES:
            client.command(f"OPTIMIZE TABLE {table} FINAL")
        sync_note += f"; OPTIMIZE … FINAL of its {len(TABLES)} tables took {time.perf_counter() - start:.1f} s"
    on_duckdb, on_clickhouse = DuckDBStore(duck), ClickHouseStore(client)
    orders = duck.execute("select count(*), min(business_date), max(business_date) from marts.fct_orders").fetchone()
    ch_orders = client.query(f"SELECT count() FROM {on_clickhouse.database}.fct_orders FINAL").result_rows[0][0]
    chdb_version = client.query("SELECT version()").result_rows[0][0]
    parts = ", ".join(
        f"{table} {count}"
        for table, count in client.query(
            "SELECT table, count() FROM system.parts WHERE active AND database = currentDatabase() "
            "AND table IN ('fct_orders', 'fct_exceptions', 'order_customers') GROUP BY table ORDER BY table"
        ).result_rows
    )
    lines += [
        "# Analytics questions: ClickHouse (chDB) beside DuckDB",
        "",
        f"Measured with `bench/analytics.py --warehouse {args.warehouse} --clickhouse {args.clickhouse}"
        f"{' --sync' if args.sync else ''}{' --optimize' if args.optimize else ''} --repeat {args.repeat}` "
        f"on {machine()}; DuckDB {duckdb.__version__}, "
        f"ClickHouse {chdb_version} (chDB, in-process).",
        "",
        f"Data: {orders[0]:,} orders in the warehouse ({orders[1]} to {orders[2]}), {ch_orders:,} in ClickHouse"
        f"{sync_note}.",
        "",
        f"Seconds per question: the first run (cold) and the median of {args.repeat} (wall), and the median run's "
        "CPU seconds (this process: both engines run in it); ClickHouse reads with FINAL. "
        f"Parts per table in ClickHouse: {parts}.",
        "",
        "| question | scope | rows | ClickHouse first | ClickHouse median | ClickHouse CPU | DuckDB first | DuckDB median "
        "| DuckDB CPU | same answer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    worst = 0.0
    for question in args.questions.split(","):
        for label, scope in _scopes(duck, args.scopes.split(",")):
            ch_times, ch_cpu, ch_answer = _timed(on_clickhouse, question, scope, args.repeat)
            dk_times, dk_cpu, dk_answer = _timed(on_duckdb, question, scope, args.repeat)
            worst = max(worst, statistics.median(ch_times))
            same = "yes" if (ch_answer.columns, ch_answer.rows) == (dk_answer.columns, dk_answer.rows) else "**no**"
            lines.append(
                f"| {question} | {label} | {len(dk_answer.rows)} | {ch_times[0]:.3f} | {statistics.median(ch_times):.3f}"
                f" | {ch_cpu:.2f} | {dk_times[0]:.3f} | {statistics.median(dk_times):.3f} | {dk_cpu:.2f} | {same} |"
            )
            print(lines[-1], flush=True)
    lines += ["", f"Slowest ClickHouse median: {worst:.3f} s."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    client.close()
    duck.close()


if __name__ == "__main__":
    main()
