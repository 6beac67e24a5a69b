"""Intake-log appends per second with `appendfsync always` (what the gateway needs: an acked order is on
disk) against `everysec` (the baseline: Redis's default, up to a second of acknowledged orders lost on a
crash), on a real redis-server of our own, measured in the same run on this machine.

Each append is one XADD of a realistic Meituan order push (~2 KB). Sequential: one client, one append at a
time (a gateway worker's latency). Concurrent: N clients at once, as the gateway's workers are; Redis fsyncs
once per event-loop pass for every write in it, so concurrency amortises the fsync.

    .venv/bin/python bench/intake_log_fsync.py [--appends 2000] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import redis

from ingestion.buffer import IntakeEntry, RedisStreamLog
from orchestration.services.redis_server import RedisServer

RECORD = (
    '{"order_id":"27061900338783441","wm_order_id_view":"27061900338783441","app_poi_code":"SH001",'
    '"recipient_name":"张**","recipient_phone":"13812345678_1234","recipient_address":"上海市浦东新区张江镇碧波路690号'
    '3号楼2单元501室@#上海市浦东新区碧波路690号","latitude":"31.2035","longitude":"121.5903","ctime":"1764127925",'
    '"utime":"1764127925","status":"2","detail":"' + "x" * 1500 + '","total":"17.30"}'
)


def entry(n: int) -> IntakeEntry:
    return IntakeEntry("meituan", "2026-11-26", f"meituan:{n}", RECORD, 1764127925000 + n)


def sequential(url: str, appends: int) -> tuple[float, float]:
    log = RedisStreamLog(redis.Redis.from_url(url), require_fsync=False)
    latencies = []
    started = time.perf_counter()
    for n in range(appends):
        t = time.perf_counter()
        log.append(entry(n))
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    return appends / elapsed, statistics.quantiles(latencies, n=100)[98] * 1000


def concurrent(url: str, appends: int, clients: int) -> float:
    per_client = appends // clients
    barrier = threading.Barrier(clients + 1)

    def work(offset: int) -> None:
        log = RedisStreamLog(redis.Redis.from_url(url), require_fsync=False)
        barrier.wait()
        for n in range(per_client):
            log.append(entry(offset + n))

    threads = [threading.Thread(target=work, args=(i * per_client,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return per_client * clients / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fsync in ("everysec", "always"):
            with RedisServer(Path(tmp) / fsync, fsync=fsync) as server:
                rate, p99 = sequential(server.url, args.appends)
                rows.append((fsync, rate, p99, concurrent(server.url, args.appends, args.clients)))
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, redis-server in {tempfile.gettempdir()}"
    )
    print(f"{args.appends} appends of {len(RECORD.encode())} bytes; concurrent = {args.clients} clients\n")
    print("| appendfsync | sequential appends/s | sequential p99 ms | concurrent appends/s |")
    print("|---|---:|---:|---:|")
    for fsync, rate, p99, conc in rows:
        print(f"| {fsync} | {rate:,.0f} | {p99:.2f} | {conc:,.0f} |")
    base, durable = rows[0], rows[1]
    print(f"\nalways / everysec: sequential {durable[1] / base[1]:.2f}x, concurrent {durable[3] / base[3]:.2f}x")


if __name__ == "__main__":
    main()
