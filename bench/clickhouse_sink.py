"""The ClickHouse sink on a large warehouse: a first sync of everything (rows per second, the process's peak
memory), then a sync with nothing new (what every micro-batch pays before it writes a row: the batch list and
each mart's day fingerprints). The warehouse is opened read-only; the store is a fresh chdb folder.

    .venv/bin/python bench/clickhouse_sink.py --warehouse /work/scratch/h30/base/wh/orderhub.duckdb \
        --store /tmp/ch-bench [--chunk-rows 100000]

Each sync runs in a child process of its own, so its peak RSS is its own; the load average is printed beside
(the machine is shared).
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
from history.sink import sync

warehouse, store, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
duck = duckdb.connect(warehouse, read_only=True)
client = connect(f"chdb://{store}")
started = time.perf_counter()
written = sync(duck, client, chunk_rows=chunk)
seconds = time.perf_counter() - started
client.close()
print(json.dumps({"seconds": round(seconds, 2), "rows": sum(written.values()), "written": written,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def run(warehouse: Path, store: Path, chunk: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(warehouse), str(store), str(chunk)],
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
    args = parser.parse_args()
    shutil.rmtree(args.store, ignore_errors=True)
    print("| sync | seconds | rows | rows/s | peak RSS MB | load avg |\n|---|---|---|---|---|---|")
    for label in ("first (everything)", "nothing new"):
        result = run(args.warehouse, args.store, args.chunk_rows)
        rate = round(result["rows"] / result["seconds"]) if result["rows"] else 0
        load = "%.1f" % os.getloadavg()[0]
        print(f"| {label} | {result['seconds']} | {result['rows']} | {rate} | {result['peak_rss_mb']} | {load} |")
        if label.startswith("first"):
            print("<!--", json.dumps(result["written"]), "-->")


if __name__ == "__main__":
    main()
