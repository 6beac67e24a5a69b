"""Live intake under load: accepted orders per second and answer latency of the gateway, beside a bare FastAPI
endpoint measured in the same run, and the time from a reservation to the channel's stock update.

A simulated day's order pushes (every channel that pushes, status re-pushes included) are sent, signed, by the
load client (simulator.live) at rising rates, each for a few seconds, first to the bare endpoint and then to the
gateway (redis-server with the AOF fsynced on every write, the gateway API and its worker: the real stack).

    .venv/bin/python bench/gateway_load.py [--orders 20000] [--seconds 8] [--rates 100,200,400,800,1600]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

from orchestration.services.live_stack import LiveStack, write_credentials
from orchestration.services.redis_server import free_port
from simulator import simulate_day
from simulator.live.client import ramp
from simulator.live.signing import load_credentials
from simulator.live.wire import wire_pushes

BENCH = Path(__file__).resolve().parent


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "unknown cpu",
    )
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def bare_server(port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "bare_endpoint:app", "--app-dir", str(BENCH), "--port", str(port),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    process = subprocess.Popen(command, start_new_session=True)
    for _ in range(100):
        try:
            httpx.post(f"http://127.0.0.1:{port}/push/app", content=b"{}", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("the bare endpoint did not start")


def run_ramp(landing: Path, credentials: Path, target: str, rates: list[float], seconds: float) -> list:
    pushes = wire_pushes(landing, load_credentials(credentials), target)
    return asyncio.run(ramp(pushes, target, rates, seconds, concurrency=64))


def row(report) -> tuple:
    ms = lambda s: float("nan") if s is None else s * 1000  # noqa: E731
    return report.rate, report.pushes / report.elapsed_s, report.acked_per_s, ms(report.p50), ms(report.p99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rates", default="100,200,400,800,1600")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        day = dt.date.today()
        simulate_day(day, orders=args.orders, seed=5, out=root / "sim")
        (root / "landing").mkdir()
        shutil.copytree(root / "sim" / "reference", root / "landing" / "reference")

        port = free_port()
        bare = bare_server(port)
        try:
            credentials = write_credentials(root / "bare-credentials.json")
            baseline = run_ramp(root / "sim", credentials, f"http://127.0.0.1:{port}", rates, args.seconds)
        finally:
            os.killpg(bare.pid, signal.SIGTERM)

        stack = LiveStack(root / "stack", root / "landing").start()
        try:
            # The first WMS count publishes every SKU of every store at once: not a reservation's latency.
            time.sleep(5)
            redis.Redis.from_url(stack.redis.url).delete("oh:stock:feed_latency_ms")
            gateway = run_ramp(root / "sim", stack.credentials, stack.target, rates, args.seconds)
            time.sleep(3)  # the feed publisher drains what the last pushes changed
            client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
            feed_ms = [int(v) for v in client.lrange("oh:stock:feed_latency_ms", 0, -1)]
            backlog = httpx.get(stack.target + "/health").json().get("backlog")
        finally:
            stack.stop()

    print(f"machine: {machine()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {args.seconds:g} s per rate")
    header = ["offered/s", "bare: answered/s", "bare: p50 ms", "bare: p99 ms", "gateway: answered/s",
              "gateway: accepted/s", "gateway: p50 ms", "gateway: p99 ms", "p99 gateway / bare"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for b, g in zip(baseline, gateway, strict=True):
        rate, b_answered, _, b50, b99 = row(b)
        _, g_answered, g_acked, g50, g99 = row(g)
        cells = [f"{rate:,.0f}", f"{b_answered:,.0f}", f"{b50:.1f}", f"{b99:.1f}", f"{g_answered:,.0f}",
                 f"{g_acked:,.0f}", f"{g50:.1f}", f"{g99:.1f}", f"{g99 / b99:.1f}x"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    if feed_ms:
        q = statistics.quantiles(feed_ms, n=100)
        print(
            f"reservation → channel stock update: {len(feed_ms):,} updates, "
            f"p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, max {max(feed_ms)} ms"
        )
    print(f"intake backlog after the run: {backlog}")


if __name__ == "__main__":
    main()
