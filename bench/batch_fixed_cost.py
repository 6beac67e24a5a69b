"""The fixed cost of a micro-batch: what a tick, a run with nothing new and a run with a few new orders cost
on a landing zone with weeks of history, and where the time of the small run goes, step by step.

In one run, on `--days` simulated days of history (`--orders-per-day` each), loaded and published first:
- baseline: a bare `python -c "import dagster"` (process start and Dagster's import, nothing of ours);
- process start to definitions loaded (`build_definitions`, dbt manifest included), with the import part;
- an empty sensor tick (nothing new), against the former tick (glob and stat every file for the newest
  mtime), both in this process;
- `orderhub run` with nothing new (no run is started), against `orderhub run --force` (what every run with
  nothing new used to cost: the whole job);
- the checkpoint lookup with nothing new (`landing.pending`), against the former one;
- `orderhub run` with a few new orders (half of one small simulated day's order files) as users run it (an
  ephemeral Dagster instance), then with the other half recorded in a Dagster home (sqlite, as `make demo`
  and a served deployment), whose step stats say where the time goes.

    .venv/bin/python bench/batch_fixed_cost.py [--days 30] [--orders-per-day 300] [--new-orders 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from dashboard_freshness import machine  # noqa: E402

SEED = 7
DEFS_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from orchestration.definitions import build_definitions
from orchestration.settings import Settings
t1 = time.perf_counter()
build_definitions(Settings.from_env())
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build": t2 - t1}))
"""


def wall(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, done


def median_wall(args: list[str], env: dict[str, str], times: int) -> tuple[float, subprocess.CompletedProcess]:
    runs = [wall(args, env) for _ in range(times)]
    return statistics.median(r[0] for r in runs), runs[-1][1]


def former_tick(root: Path) -> int:
    """The tick this work replaced: every visible file globbed and stat'ed, for the newest mtime."""
    newest = 0
    for kind in ("reference", "orders", "settlements"):
        for path in sorted((root / kind).glob("*/*/*")):
            name = path.name
            if path.is_file() and not name.startswith((".", "_")) and not name.endswith(".tmp"):
                newest = max(newest, path.stat().st_mtime_ns)
    return newest


def former_pending(con, root: Path) -> int:
    """The checkpoint lookup this work replaced: every done path read, every file globbed and stat'ed."""
    done = {row[0] for row in con.execute("SELECT path FROM raw.ingest_files").fetchall()}
    found = 0
    for kind in ("reference", "orders", "settlements"):
        for path in sorted((root / kind).glob("*/*/*")):
            if path.is_file() and not path.name.startswith((".", "_")) and not path.name.endswith(".tmp"):
                path.stat()
                found += path.relative_to(root).as_posix() not in done
    return found


def timed(fn, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def step_stats(home: Path) -> tuple[float, float, list[tuple[str, float]]]:
    """The latest pipeline run's time from created to started, from started to ended, and its steps'."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    run = instance.get_runs(filters=dg.RunsFilter(job_name="orderhub_pipeline"), limit=1)[0]
    run_stats = instance.get_run_stats(run.run_id)
    created = instance.get_run_record_by_id(run.run_id).create_timestamp.timestamp()
    stats = instance.get_run_step_stats(run.run_id)
    steps = [(s.step_key, (s.end_time or 0) - (s.start_time or 0)) for s in sorted(stats, key=lambda s: s.start_time)]
    return (run_stats.start_time or 0) - created, (run_stats.end_time or 0) - (run_stats.start_time or 0), steps


def arrive(small: Path, landing: Path, half: int) -> None:
    """Every other order file of the small day (half 0 or 1) moved into the landing zone."""
    for path in sorted((small / "orders").glob("*/*/*"))[half::2]:
        target = landing / path.relative_to(small)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-day", type=int, default=300)
    parser.add_argument("--new-orders", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch_fixed_cost.md")
    args = parser.parse_args()

    from simulator import simulate_day

    work = Path(tempfile.mkdtemp(prefix="batch_fixed_cost-"))
    landing, small = work / "landing", work / "small"
    warehouse, home = work / "wh" / "orderhub.duckdb", work / "dagster_home"
    last = dt.date(2026, 11, 25)
    new_day = last + dt.timedelta(days=1)
    for n in range(args.days):
        simulate_day(last - dt.timedelta(days=args.days - 1 - n), orders=args.orders_per_day, seed=SEED, out=landing)
    simulate_day(new_day, orders=args.new_orders, seed=SEED, out=small)
    shutil.rmtree(landing / "_truth", ignore_errors=True)
    files = sum(1 for p in landing.rglob("*") if p.is_file())
    # `orderhub run` as users and tests run it: an ephemeral Dagster instance (events kept in memory).
    env = {k: v for k, v in os.environ.items() if k not in ("ORDERHUB_AS_OF", "DAGSTER_HOME")} | {
        "ORDERHUB_LANDING": str(landing),
        "ORDERHUB_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    python = sys.executable
    run = [python, "-m", "orchestration.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    run += ["--as-of", new_day.isoformat(), "--quiet"]
    load = os.getloadavg()[0]

    print(f"history: {args.days} days, {files} files; loading and publishing it first", flush=True)
    first_run, _ = wall(run, env)
    baseline, _ = median_wall([python, "-c", "import dagster"], env, 3)
    defs_wall, defs_out = median_wall([python, "-c", DEFS_SCRIPT], env, 3)
    defs_parts = json.loads(defs_out.stdout.strip().splitlines()[-1])

    import dagster as dg

    from orchestration.defs.ingest.sensors import build_landing_sensor
    from orchestration.resources import OrderhubPaths
    from orchestration.settings import Settings

    paths = OrderhubPaths.from_settings(Settings.from_env(env))
    sensor = build_landing_sensor(dg.define_asset_job("j"), interval_seconds=5)
    cursor = sensor.evaluate_tick(dg.build_sensor_context(resources={"paths": paths})).cursor
    time.sleep(2.5)  # the folders settle: from here on a tick lists none of them
    cursor = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, resources={"paths": paths})).cursor or cursor

    def empty_tick():
        result = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, resources={"paths": paths}))
        assert not result.run_requests, "a tick with nothing new asked for a run"

    tick = timed(empty_tick, 20)
    from ingestion import landing_watch

    seen = landing_watch.load(landing, cursor)
    look = timed(lambda: landing_watch.look(landing, seen), 20)
    tick_before = timed(lambda: former_tick(landing), 5)

    idle_wall, idle_out = median_wall(run, env, 3)
    assert "no run started" in idle_out.stdout, idle_out.stdout
    forced_wall, _ = wall([*run, "--force"], env)

    import duckdb

    from ingestion.landing import pending

    time.sleep(2.5)  # as in a served deployment, the history's folders have long settled
    con = duckdb.connect(str(warehouse))
    try:
        assert pending(con, landing) == []  # the checkpoint remembers the settled folders as all loaded
        pending_now = timed(lambda: pending(con, landing), 10)
        pending_before = timed(lambda: former_pending(con, landing), 3)
    finally:
        con.close()

    arrive(small, landing, 0)
    small_wall, _ = wall(run, env)
    # The same with the run recorded in a Dagster home (sqlite), as `make demo` and a served deployment do:
    # where the step durations come from.
    arrive(small, landing, 1)
    recorded_wall, _ = wall(run, env | {"DAGSTER_HOME": str(home)})
    before_start, run_seconds, steps = step_stats(home)

    rows = [
        ("baseline: `python -c \"import dagster\"`", baseline, baseline),
        (f"process start → definitions loaded (import {defs_parts['import']:.2f} s, build "
         f"{defs_parts['build']:.2f} s)", defs_wall, baseline),
        ("empty sensor tick (nothing new)", tick, baseline),
        ("… of which the look at the landing zone (a stat per day folder)", look, baseline),
        ("former empty tick (glob + stat every file)", tick_before, baseline),
        ("checkpoint lookup, nothing new (`landing.pending`)", pending_now, baseline),
        ("former checkpoint lookup (all done paths, glob + stat every file)", pending_before, baseline),
        ("`orderhub run`, nothing new (no run started)", idle_wall, baseline),
        ("`orderhub run --force`, nothing new (the former cost of the above)", forced_wall, baseline),
        (f"`orderhub run`, half of a {args.new_orders}-order day's order files new", small_wall, baseline),
        ("the same, the other half, recorded in a Dagster home (sqlite)", recorded_wall, baseline),
        (f"first run over the whole history ({files} files)", first_run, baseline),
    ]  # fmt: skip
    lines = [
        "# Fixed cost of a micro-batch",
        "",
        f"Measured {dt.date.today()} with `bench/batch_fixed_cost.py --days {args.days} --orders-per-day "
        f"{args.orders_per_day} --new-orders {args.new_orders}` on {machine()}. Load average (1 min) "
        f"{load:.1f} before and {os.getloadavg()[0]:.1f} after: the machine is shared, so compare ratios "
        "within this run, not seconds across runs.",
        "",
        f"History: {args.days} simulated days, {files} landing files, loaded and published by one run first. "
        "Every figure is wall time; subprocess figures include process start. Ratio: against the baseline.",
        "",
        "| measure | seconds | × baseline |",
        "|---|---:|---:|",
        *(f"| {name} | {seconds:.3f} | {seconds / base:.2f} |" for name, seconds, base in rows),
        "",
        "Steps of the run recorded in a Dagster home (Dagster's step stats): steps "
        f"{sum(s for _, s in steps):.1f} s; the run from created to started {before_start:.1f} s and from started "
        f"to ended {run_seconds:.1f} s; the command {recorded_wall:.1f} s wall (the rest: process start, imports, "
        "definitions):",
        "",
        "| step | seconds |",
        "|---|---:|",
        *(f"| `{key}` | {seconds:.2f} |" for key, seconds in steps),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
