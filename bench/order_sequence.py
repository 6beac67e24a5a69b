"""What keeping `order_sequence` (history/sequence.py) costs a sync, on a ClickHouse store that holds
`order_customers`: the whole table computed (a sync that compared every day, or the first), then syncs that
wrote `--orders` orders' identities (a micro-batch's), each followed by the sink's refresh of their customers.

A written order is an existing one written again at a new version with a customer moved to another order's
(as a re-merge or re-push does), so its old and new customers are both sequenced again. Each round's refresh is
timed against the whole computation in the same process, and the table is checked against the whole
computation's answer at the end. Not for a store a pipeline is using: it writes to `order_customers`.

With `--passes`, first the whole computation in passes of `sequence.ROWS_PER_PASS` orders against one statement,
each on a table dropped before, with the peak RSS of each (sampled every 0.1 s); `--rounds 0` then writes nothing
to `order_customers`, only the derived `order_sequence`.

    .venv/bin/python bench/order_sequence.py --clickhouse chdb:///scratch/ch [--orders 3000] [--rounds 3] [--passes]
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from batch_cost import machine, rss_gib  # noqa: E402

from history import sequence  # noqa: E402
from history.client import connect  # noqa: E402
from history.identity import NAME as ORDER_CUSTOMERS  # noqa: E402
from history.schema import DELETED, VERSION  # noqa: E402

CHECK = (
    "SELECT count(), sum(cityHash64(order_key, prev_order_date, prev_other_channel_date, next_other_channel_date)) "
    f"FROM {sequence.NAME} FINAL"
)


def _rewrite_some(client, orders: int, version: int, seed: int) -> None:
    """`orders` random orders written again at `version`, each with the customer of another random order."""
    columns = [
        row[0]
        for row in client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "ORDER BY position",
            parameters={"t": ORDER_CUSTOMERS},
        ).result_rows
        if row[0] not in (VERSION, DELETED)
    ]
    values = ", ".join("d.customer_id AS customer_id" if c == "customer_id" else f"o.{c} AS {c}" for c in columns)
    client.command(
        f"INSERT INTO {ORDER_CUSTOMERS} ({', '.join(columns)}, {VERSION}, {DELETED}) "
        f"SELECT {values}, toUInt64({version}), toUInt8(0) FROM "
        f"(SELECT *, row_number() OVER () AS n FROM (SELECT * FROM {ORDER_CUSTOMERS} FINAL "
        f"ORDER BY cityHash64(order_key, {seed}) LIMIT {orders})) AS o "
        f"JOIN (SELECT customer_id, row_number() OVER () AS n FROM (SELECT customer_id FROM {ORDER_CUSTOMERS} FINAL "
        f"WHERE customer_id IS NOT NULL ORDER BY cityHash64(order_key, {seed + 1}) LIMIT {orders})) AS d USING (n)",
        settings={"do_not_merge_across_partitions_select_final": 1},
    )


@contextmanager
def peak_rss(into: list[float]):
    """Appends the peak resident memory (GiB) while the block ran, sampled every 0.1 s."""
    peak, done = [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_gib())
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
        into.append(peak[0])


def compare_passes(client, version: int) -> None:
    """The whole computation in passes against one statement: seconds, peak RSS, the same rows."""
    answers = []
    for label, rows_per_pass in (("in passes", sequence.ROWS_PER_PASS), ("one statement", 10**12)):
        client.command(f"DROP TABLE IF EXISTS {sequence.NAME}")
        peaks: list[float] = []
        started = time.perf_counter()
        with peak_rss(peaks):
            sequence.refresh(client, version, since=0, whole=True, rows_per_pass=rows_per_pass)
        seconds = time.perf_counter() - started
        answers.append(client.query(CHECK).result_rows[0])
        print(f"whole, {label}: {seconds:.1f} s, peak RSS {peaks[0]:.2f} GiB", flush=True)
    print(f"the same rows both ways: {answers[0] == answers[1]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clickhouse", required=True, help="DSN of a store holding order_customers")
    parser.add_argument("--orders", type=int, default=3000, help="orders a micro-batch's sync writes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passes", action="store_true", help="first compare the whole computation in passes")
    args = parser.parse_args()
    client = connect(args.clickhouse)
    total = client.query(f"SELECT count() FROM {ORDER_CUSTOMERS} FINAL").result_rows[0][0]
    version = client.query(f"SELECT max({VERSION}) FROM {ORDER_CUSTOMERS}").result_rows[0][0]
    print(f"{machine()}; order_customers: {total:,} orders", flush=True)
    if args.passes:
        compare_passes(client, version)
        if not args.rounds:
            return

    client.command(f"DROP TABLE IF EXISTS {sequence.NAME}")
    started = time.perf_counter()
    rows = sequence.refresh(client, version, since=0, whole=True)
    whole = time.perf_counter() - started
    print(f"whole: {rows:,} rows in {whole:.2f} s", flush=True)

    for n in range(args.rounds):
        since, version = version, version + 1
        _rewrite_some(client, args.orders, version, seed=n)
        started = time.perf_counter()
        rows = sequence.refresh(client, version, since=since)
        seconds = time.perf_counter() - started
        print(
            f"round {n + 1}: {args.orders:,} orders written, {rows:,} sequence rows in {seconds:.2f} s "
            f"({seconds / whole:.3f} of the whole computation)",
            flush=True,
        )

    kept = client.query(CHECK).result_rows[0]
    client.command(f"DROP TABLE {sequence.NAME}")
    sequence.refresh(client, version, since=0, whole=True)
    again = client.query(CHECK).result_rows[0]
    print(f"kept round by round = computed whole: {kept == again} ({kept[0]:,} rows)", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak memory of this process: {peak:.2f} GiB", flush=True)


if __name__ == "__main__":
    main()
