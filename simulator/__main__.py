"""Command line: `python -m simulator day|live ...` (see --help)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from .business import MERGE_WINDOW_MINUTES
from .day import simulate_day
from .live import LiveStats, run_live


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    day = sub.add_parser("day", help="write one whole simulated business day and its ground truth")
    day.add_argument("--date", type=dt.date.fromisoformat, required=True)
    day.add_argument("--orders", type=int, default=20_000)
    day.add_argument("--seed", type=int, default=42)
    day.add_argument("--out", type=Path, required=True)
    day.add_argument("--merge-window", type=int, default=None, help="minutes; default: the business definition (30)")
    live = sub.add_parser("live", help="keep writing small files for today, about RATE orders per second")
    live.add_argument("--out", type=Path, required=True)
    live.add_argument("--rate", type=float, default=2.0)
    live.add_argument("--seed", type=int, default=42)
    live.add_argument("--duration", type=float, default=None, help="seconds; default: until Ctrl-C")
    args = parser.parse_args(argv)

    if args.command == "day":
        window = args.merge_window if args.merge_window is not None else MERGE_WINDOW_MINUTES
        started = time.perf_counter()
        summary = simulate_day(args.date, args.orders, args.seed, args.out, window)
        took = time.perf_counter() - started
        print(f"{summary.orders} orders, {summary.files} files in {took:.1f}s; truth: {summary.truth_path}")
        for channel, counts in summary.records_by_channel.items():
            print(f"  {channel:12s} " + "  ".join(f"{k}={v}" for k, v in counts.items()))
        return 0

    def report(stats: LiveStats) -> None:
        if stats.ticks % 10 == 0:
            print(f"{stats.ticks} ticks, {stats.orders} orders, {stats.files} files", flush=True)

    run_live(args.out, args.rate, args.seed, args.duration, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
