"""The scale run: a month of a large city's orders replayed a day at a time, then live micro-batches on top, with
each stage's time and peak memory, on the embedded DuckDB and with the ClickHouse sink (chDB) beside it.

A day at a time:
1. simulate: `--orders-per-day` orders of the day into `<work>/landing` (its own process: the simulator holds a
   day's world in memory);
2. replay: one `orderhub run` for the day, as a user loading history would (the micro-batch job: raw load,
   incremental dbt, dispatch, snapshot, and the ClickHouse sink when `--clickhouse` is given). With the sink,
   one replay measures both engines: its ClickHouse steps (`SINK_STEPS`) are the sink's cost and the rest is
   DuckDB's (`--duckdb-too` also replays DuckDB alone into a second warehouse, for a run without the sink);
3. the day's files are deleted once every engine loaded them (`--keep-landing` keeps them): at 10M orders the
   simulated files alone would be tens of GB, and the warehouse keeps each record's text.
Then live: `--live-batches` micro-batches of `--live-orders` orders of a new day on top, each one `orderhub
run` process as the landing sensor starts them.

Every run is timed with its steps and the peak memory of its process tree while each step ran
(bench/batch_cost.py measures them the same way). Finished stages are recorded in `<work>/scale.jsonl`, so an
interrupted run resumes where it stopped (hours at 10M orders; keep the same engine options), and the table is
written from that record.

    .venv/bin/python bench/scale.py --work /scratch/scale --days 30 --orders-per-day 333334 \
        [--clickhouse chdb:///scratch/scale/ch] [--live-batches 10] [--table-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_cost import machine, simulate, timed_run  # noqa: E402

FIRST_DAY = dt.date(2026, 9, 1)
# The ClickHouse sink's steps in a run (orchestration/defs/history): the rest of a run is the DuckDB pipeline.
SINK_STEPS = frozenset({"history__clickhouse", "history__serving"})


def record(work: Path, row: dict) -> None:
    with (work / "scale.jsonl").open("a") as out:
        out.write(json.dumps(row) + "\n")


def done(work: Path) -> list[dict]:
    path = work / "scale.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def simulate_day(work: Path, day: dt.date, orders: int, seed: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    simulate(work, day, orders, seed)
    # ru_maxrss of waited-for children is their largest ever: it says something only when it grew.
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {"seconds": time.perf_counter() - started, "peak_gib": peak / 2**20}


def run_stage(work: Path, engine: str, stage: str, key: str, action) -> dict:
    """`action` once per (engine, stage, key): a finished one is read back from the record."""
    for row in done(work):
        if (row["engine"], row["stage"], row["key"]) == (engine, stage, key):
            return row
    row = {"engine": engine, "stage": stage, "key": key, **action(), "load": os.getloadavg()[0]}
    record(work, row)
    print(json.dumps({k: v for k, v in row.items() if k != "steps"}), flush=True)
    return row


def engine_dir(work: Path, engine: str) -> Path:
    """Each engine replays into its own warehouse over the one simulated landing zone (hard links)."""
    target = work / engine
    if not (target / "landing").exists():
        target.mkdir(parents=True, exist_ok=True)
        (target / "landing").mkdir()
        (target / "wh").mkdir(exist_ok=True)
    return target


def link_day(work: Path, target: Path, day: dt.date) -> None:
    """Make one more simulated day visible in `target`'s landing zone, as it would arrive."""
    for folder in (work / "landing").glob(f"*/*/{day.isoformat()}"):
        destination = target / "landing" / folder.relative_to(work / "landing")
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-al", str(folder), str(destination)], check=True)


def use_engine(engine: str, dsn: str | None) -> None:
    if dsn and engine != "duckdb":
        os.environ["ORDERHUB_CLICKHOUSE_DSN"] = dsn
    else:
        os.environ.pop("ORDERHUB_CLICKHOUSE_DSN", None)


def replay_day(args: argparse.Namespace, engine: str, day: dt.date) -> None:
    target = engine_dir(args.work, engine)
    use_engine(engine, args.clickhouse)
    link_day(args.work, target, day)
    os.environ["ORDERHUB_AS_OF"] = f"{day + dt.timedelta(days=1)}T00:00:00"
    run_stage(args.work, engine, "replay", day.isoformat(), lambda: timed_run(target))


def drop_day(work: Path, engines: list[str], day: dt.date) -> None:
    """A replayed day's landing files, gone from every copy (the warehouse keeps each record's text): at 10M
    orders the simulated files alone are tens of GB."""
    for root in [work / "landing", *(work / engine / "landing" for engine in engines)]:
        for folder in root.glob(f"*/*/{day.isoformat()}"):
            shutil.rmtree(folder)


def live(args: argparse.Namespace, engine: str) -> None:
    target = engine_dir(args.work, engine)
    use_engine(engine, args.clickhouse)
    live_day = FIRST_DAY + dt.timedelta(days=args.days)
    for n in range(args.live_batches):

        def batch(n=n) -> dict:
            simulate(target, live_day + dt.timedelta(days=n), args.live_orders, seed=9000 + n)
            os.environ["ORDERHUB_AS_OF"] = f"{live_day + dt.timedelta(days=n)}T12:00:00"
            return timed_run(target)

        run_stage(args.work, engine, "live", str(n), batch)


def sink_seconds(row: dict) -> float:
    return sum(step["seconds"] for step in row.get("steps", []) if step["step"] in SINK_STEPS)


def table(work: Path) -> str:
    rows = done(work)
    lines = [
        f"Machine: {machine()}. Work folder `{work}`.",
        "",
        "| engine | stage | runs | seconds (median) | seconds (max) | of which ClickHouse steps (median) | peak GiB (max) "
        "| slowest step (median s) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["engine"], row["stage"]), []).append(row)
    for (engine, stage), group in groups.items():
        seconds = [r["seconds"] for r in group]
        steps: dict[str, list[float]] = {}
        for r in group:
            for step in r.get("steps", []):
                steps.setdefault(step["step"], []).append(step["seconds"])
        slowest = max(steps.items(), key=lambda kv: statistics.median(kv[1]), default=None)
        lines.append(
            f"| {engine} | {stage} | {len(group)} | {statistics.median(seconds):.1f} | {max(seconds):.1f} | "
            + (f"{statistics.median(sink_seconds(r) for r in group):.1f}" if steps else "")
            + " | "
            f"{max(r['peak_gib'] for r in group):.2f} | "
            + (f"{slowest[0]} ({statistics.median(slowest[1]):.1f})" if slowest else "")
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-day", type=int, default=333_334)
    parser.add_argument("--live-batches", type=int, default=10)
    parser.add_argument("--live-orders", type=int, default=1000)
    parser.add_argument("--clickhouse", help="replay with the ClickHouse sink at this DSN (chdb://PATH)")
    parser.add_argument(
        "--duckdb-too", action="store_true", help="with --clickhouse, also replay DuckDB alone into its own warehouse"
    )
    parser.add_argument("--keep-landing", action="store_true", help="keep each day's files once every engine loaded it")
    parser.add_argument("--table-only", action="store_true", help="print the table from the record and stop")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    engines = ["duckdb+clickhouse", *(["duckdb"] if args.duckdb_too else [])] if args.clickhouse else ["duckdb"]
    if not args.table_only:
        # A day at a time (simulated, replayed by every engine, its files dropped), so the landing zone holds
        # one day, not the month.
        for n in range(args.days):
            day = FIRST_DAY + dt.timedelta(days=n)
            run_stage(
                args.work,
                "-",
                "simulate",
                day.isoformat(),
                lambda day=day, n=n: simulate_day(args.work, day, args.orders_per_day, seed=4000 + n),
            )
            for engine in engines:
                replay_day(args, engine, day)
            if not args.keep_landing:
                drop_day(args.work, engines, day)
        for engine in engines:
            live(args, engine)
    print(table(args.work))


if __name__ == "__main__":
    main()
