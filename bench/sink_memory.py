"""Where one sink sync's memory goes: `history.sink.sync` on a warehouse and store as they are (run it after a
DuckDB-only batch left work for the sink), with a thread sampling this process's RSS every 0.1 s and noting which
sink stage was running, so the peak is named by the stage that reached it. DuckDB is held to the pipeline's
memory limit, and what it still holds at the end is printed. The warehouse is opened read-only; the store is
written as the pipeline's sink would write it.

    .venv/bin/python bench/sink_memory.py --warehouse /work/scratch/s2m/duckdb+clickhouse/wh/orderhub.duckdb \
        --clickhouse chdb:///work/scratch/s2m/ch
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import duckdb  # noqa: E402
from batch_cost import machine, rss_gib  # noqa: E402

from history import sequence, sink  # noqa: E402
from history.client import connect  # noqa: E402
from ingestion.warehouse import DEFAULT_MEMORY_LIMIT  # noqa: E402
from orchestration.defs.history.assets import last_full_build  # noqa: E402

# The sink's stages, each named with the table it works on where it takes one.
STAGES = {sink: ("_sync_raw", "_sync_mart", "_mart_days", "_compare_doors_when_due"), sequence: ("refresh",)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--clickhouse", required=True, help="DSN of the store the sink writes")
    parser.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="DuckDB's, as the pipeline sets it")
    args = parser.parse_args()

    running = ["outside a stage"]
    peaks: dict[str, float] = defaultdict(float)
    seconds: dict[str, float] = defaultdict(float)

    def staged(module, name: str) -> None:
        function = getattr(module, name)

        @functools.wraps(function)
        def wrapper(*positional, **named):
            spec = next((a for a in positional if isinstance(a, sink.TableSpec)), None)
            label = f"{name}:{spec.name}" if spec is not None else name
            before, running[0] = running[0], label
            started = time.perf_counter()
            try:
                return function(*positional, **named)
            finally:
                seconds[label] += time.perf_counter() - started
                running[0] = before

        setattr(module, name, wrapper)

    for module, names in STAGES.items():
        for name in names:
            staged(module, name)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            stage = running[0]
            peaks[stage] = max(peaks[stage], rss_gib())
            done.wait(0.1)

    duck = duckdb.connect(args.warehouse, read_only=True, config={"memory_limit": args.memory_limit})
    client = connect(args.clickhouse)
    print(machine(), flush=True)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    written = sink.sync(duck, client, marts_build=last_full_build(duck))
    total = time.perf_counter() - started
    done.set()
    sampler.join()
    held = duck.execute("SELECT sum(memory_usage_bytes) / 2 ** 30 FROM duckdb_memory()").fetchone()[0]
    print(f"sync {total:.1f} s; RSS at the end {rss_gib():.2f} GiB, of which DuckDB holds {held:.2f} GiB")
    print("| stage | peak RSS GiB | seconds |\n|---|---:|---:|")
    for stage, peak in sorted(peaks.items(), key=lambda item: -item[1]):
        print(f"| {stage} | {peak:.2f} | {seconds.get(stage, 0.0):.1f} |")
    print("rows written:", json.dumps(written))


if __name__ == "__main__":
    main()
