"""The ClickHouse sink on a large warehouse, each step in a child process of its own (its peak RSS is its own):

0. baseline: every row the first sync copies, read from DuckDB as Arrow record batches and dropped (the sink's
   floor: what reading costs without ClickHouse), with the Arrow bytes read;
1. first: everything, into a fresh chdb folder (rows per second, peak memory);
2. nothing new: what every micro-batch pays before it writes a row (the batch list, the newest days' fingerprints);
3. the last batch again: every watermark moved back one batch, as if that batch had just been loaded: its rows
   and the days it touched compared (what a micro-batch of that size pays);
4. 1,000 orders of the busiest day changed in `fct_orders` (in a transaction on the warehouse, rolled back
   after), that day's fingerprint made stale so the sync compares it: only the rows that differ from
   ClickHouse's are written;
5. the same with that day's row hashes in ClickHouse unknown first: the whole day written again, as the sink
   did before it compared rows (the baseline of 4, in the same store).

The warehouse is opened read-only. The load average is printed beside each row (the machine is shared).

    .venv/bin/python bench/clickhouse_sink.py --warehouse /work/scratch/h30/base/wh/orderhub.duckdb \
        --store /tmp/ch-bench [--chunk-rows 100000] [--skip-first]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import duckdb
from history.client import connect
from history import sink

warehouse, store, chunk, step = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
changing = step.startswith("1,000 orders")
duck = duckdb.connect(warehouse, read_only=not changing)
client = connect(f"chdb://{store}")
if changing:
    day = duck.execute(
        "SELECT CAST(created_at AS DATE) FROM marts.fct_orders GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    version = client.query(f"SELECT max(version) FROM {sink.SYNCS}").result_rows[0][0] + 1
    # The day's fingerprint made stale, so the sync compares it whatever an earlier step recorded.
    client.insert(sink.BUCKETS, [["fct_orders", day, 0, "stale", version, 0]],
                  column_names=["table", "bucket", "rows", "fingerprint", "_version", "_deleted"])
    if step.endswith("unknown"):
        client.command(f"ALTER TABLE fct_orders UPDATE _row_hash = 0 WHERE toDate32(created_at) = toDate32('{day}')",
                       settings={"mutations_sync": 2})
    duck.execute("BEGIN TRANSACTION")
    duck.execute(
        "UPDATE marts.fct_orders SET line_count = line_count + 1 WHERE order_key IN (SELECT order_key "
        "FROM marts.fct_orders WHERE CAST(created_at AS DATE) = ? ORDER BY order_key LIMIT 1000)", [day]
    )
    started = time.perf_counter()
    written = sink.sync(duck, client, tables=["fct_orders"], every_day=True, chunk_rows=chunk)
    seconds = time.perf_counter() - started
    duck.execute("ROLLBACK")
    day_orders = duck.execute("SELECT count(*) FROM marts.fct_orders WHERE CAST(created_at AS DATE) = ?", [day]).fetchone()[0]
    print(json.dumps({"seconds": round(seconds, 2), "rows": sum(written.values()), "written": written,
                      "batch_orders": f"1000 of the {day_orders} of {day}",
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
    sys.exit(0)
if step == "baseline":
    from history import schema
    started = time.perf_counter()
    rows = nbytes = 0
    for spec in (*schema.RAW, *schema.MARTS):
        columns = schema.source_columns(duck, spec)
        for batch in duck.sql(sink._select_rows(spec, columns, "true")).to_arrow_reader(chunk):
            rows += batch.num_rows
            nbytes += batch.nbytes
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 2), "rows": rows, "written": {"arrow_mb": round(nbytes / 2**20)},
                      "batch_orders": None,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
    sys.exit(0)
if step == "last batch again":
    batches = duck.execute(
        "SELECT max(finished_at), batch_id FROM raw.ingest_batches GROUP BY batch_id ORDER BY 1 DESC, 2 DESC LIMIT 2"
    ).fetchall()
    back = batches[1]
    tables = [r[0] for r in client.query(f"SELECT table FROM {sink.WATERMARKS} FINAL WHERE batch_id != ''").result_rows]
    version = client.query(f"SELECT max(version) FROM {sink.SYNCS}").result_rows[0][0]
    for table in tables:
        client.insert(sink.WATERMARKS, [[table, back[0], back[1], version]], column_names=["table", "finished_at", "batch_id", "_version"])
    batch_orders = duck.execute("SELECT count(*) FROM raw.orders WHERE batch_id = ?", [batches[0][1]]).fetchone()[0]
else:
    batch_orders = None
started = time.perf_counter()
written = sink.sync(duck, client, chunk_rows=chunk)
seconds = time.perf_counter() - started
client.close()
print(json.dumps({"seconds": round(seconds, 2), "rows": sum(written.values()), "written": written,
                  "batch_orders": batch_orders,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""
STEPS = (
    "baseline",
    "first (everything)",
    "nothing new",
    "last batch again",
    "1,000 orders of a day changed",
    "1,000 orders of a day changed, the day's row hashes unknown",
)


def run(warehouse: Path, store: Path, chunk: int, step: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(warehouse), str(store), str(chunk), step],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--skip-first", action="store_true", help="reuse a store a first sync filled")
    args = parser.parse_args()
    if not args.skip_first:
        shutil.rmtree(args.store, ignore_errors=True)
    print("| step | seconds | rows | rows/s | peak RSS MB | load avg |\n|---|---|---|---|---|---|")
    for step in STEPS[2:] if args.skip_first else STEPS:
        result = run(args.warehouse, args.store, args.chunk_rows, step)
        rate = round(result["rows"] / result["seconds"]) if result["rows"] else 0
        label = step if result["batch_orders"] is None else f"{step} ({result['batch_orders']} orders)"
        load = "%.1f" % os.getloadavg()[0]
        print(f"| {label} | {result['seconds']} | {result['rows']} | {rate} | {result['peak_rss_mb']} | {load} |")
        print("<!--", json.dumps(result["written"]), "-->")


if __name__ == "__main__":
    main()
