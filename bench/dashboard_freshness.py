"""Dashboard freshness: how long from an order being written into the landing zone until the serving snapshot
the dashboard reads contains it.

`orderhub simulate --live` writes new order files every second; the pipeline is re-run as the landing sensor
would run it (one run at a time; the next run starts as soon as the previous one has finished and new files
are there, else the loop looks again every `--poll` seconds; the sensor itself ticks every 5 s). For every
order file the pipeline loaded, the latency is the snapshot publish time of the run that loaded it (snapshot_meta)
minus the file's write time (its mtime: files are written under a temporary name and renamed into place).
Latencies are weighted by the records in each file. The quantiles are of the files written after the first
run had finished: that run starts cold (imports, a first full build of an empty warehouse), which a runner
that has been up all day does not pay again; the p95 with those files is in the table too. The dashboard
itself re-reads a new snapshot within ORDERHUB_REFRESH_SECONDS (5 s by default) of its publish; that is added
as a bound, not measured here.

Runners, one after the other in the same command, each on its own fresh landing zone and warehouse: `run` (the
baseline: `orderhub run` re-run as the landing sensor would, a new process per micro-batch; also a forced run
with nothing new, the fixed cost every such run pays), `watch` (`orderhub watch`, one long-lived process) and
`watch-replan-each` (the same with the dispatch plan re-made at every micro-batch: the baseline for the plan's
own cadence). The results go in a new dated section at the top of the results file.

    .venv/bin/python bench/dashboard_freshness.py [--duration 150] [--rate 5] [--runners run,watch]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
REFRESH_SECONDS = 5.0


def machine() -> str:
    model = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(
            next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1]
        )
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{os.cpu_count()} cores, {model}{memory}, Python {platform.python_version()}, {platform.system()}"


@dataclass
class Run:
    started: float  # epoch seconds
    finished: float
    published_at: float | None  # epoch seconds, from snapshot_meta (UTC)
    ok: bool


def orderhub(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli", *args]


def run_pipeline(landing: Path, warehouse: Path, log, *extra: str) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    started = time.time()
    result = subprocess.run(
        orderhub("run", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet", *extra),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    finished = time.time()
    return Run(started, finished, published_at(warehouse.with_name("serving.duckdb")), result.returncode == 0)


def watch_runs(
    landing: Path, warehouse: Path, log, simulator: subprocess.Popen, poll: float, extra_env: dict[str, str]
) -> list[Run]:
    """`orderhub watch` (one long-lived process) over the live landing zone until the simulator has stopped
    and the watcher has loaded what it wrote. A run's end is read from the watcher's own line as it is
    printed (the snapshot is published just before; the latency is over-stated by that gap, not under)."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | extra_env
    watcher = subprocess.Popen(
        orderhub("watch", "--landing", str(landing), "--warehouse", str(warehouse), "--poll", str(poll)),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    runs: list[Run] = []
    state = {"running": False, "quiet_since": time.time()}

    def read() -> None:
        for line in watcher.stdout:
            log.write(line)
            if re.match(r"run \d+ started", line):
                state["running"] = True
            match = re.match(r"run \d+: (ok|FAILED) in ([0-9.]+) s", line)
            if match:
                finished = time.time()
                seconds = float(match.group(2))
                runs.append(Run(finished - seconds, finished, finished, match.group(1) == "ok"))
                print(f"run {len(runs)}: {seconds:5.1f} s, ok={match.group(1) == 'ok'}", flush=True)
                state.update(running=False, quiet_since=finished)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # Done once the simulator has stopped, no run is under way and none started for a while: the watcher has
    # loaded the last files (it looks every `poll` seconds).
    while simulator.poll() is None or state["running"] or time.time() - state["quiet_since"] < max(10.0, 4 * poll):
        time.sleep(0.5)
    os.killpg(watcher.pid, signal.SIGINT)
    watcher.wait(timeout=300)
    reader.join(timeout=10)
    return runs


def published_at(serving: Path) -> float | None:
    if not serving.exists():
        return None
    con = duckdb.connect(str(serving), read_only=True)
    try:
        row = con.execute("SELECT max(published_at) FROM snapshot_meta").fetchone()
    finally:
        con.close()
    return None if row[0] is None else row[0].replace(tzinfo=dt.UTC).timestamp()


def newest_landing_mtime(landing: Path) -> float:
    newest = 0.0
    for path in (landing / "orders").rglob("*"):
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(".tmp"):
            newest = max(newest, path.stat().st_mtime)
    return newest


def loaded_files(warehouse: Path) -> list[tuple[str, str, int]]:
    """(path, batch_id, records) of every order file the warehouse has loaded."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT path, batch_id, coalesce(records, 0) FROM raw.ingest_files WHERE kind = 'orders'"
        ).fetchall()
    finally:
        con.close()


def batch_started(warehouse: Path) -> dict[str, float]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT batch_id, min(started_at) FROM raw.ingest_batches GROUP BY batch_id").fetchall()
    finally:
        con.close()
    return {b: s.replace(tzinfo=dt.UTC).timestamp() for b, s in rows}


def weighted_quantile(values: list[tuple[float, int]], q: float) -> float:
    ordered = sorted(values)
    total = sum(w for _, w in ordered)
    running = 0
    for value, weight in ordered:
        running += weight
        if running >= q * total:
            return value
    return ordered[-1][0]


@dataclass
class Measured:
    latencies: list[tuple[float, int]]  # (seconds, records) per order file
    # The same for the files written after the first run (the cold start: imports, a first full build) had
    # finished: what a runner that has been up for a while gives, which is what the operations screen sees.
    steady: list[tuple[float, int]]
    runs: list[Run]
    files: int
    idle_seconds: float | None  # a forced run with nothing new (per-process runner only)


def measure(runner: str, args) -> Measured:
    """One live stretch: the simulator writes for `--duration` seconds while `runner` loads what lands."""
    work = Path(tempfile.mkdtemp(prefix=f"orderhub-freshness-{runner}-"))
    landing, warehouse = work / "landing", work / "warehouse" / "orderhub.duckdb"
    log = (work / "pipeline.log").open("w")
    print(f"[{runner}] work folder {work}; {args.rate} orders/s for {args.duration:.0f} s", flush=True)
    simulator = subprocess.Popen(
        orderhub(
            "simulate", "--live", "--rate", str(args.rate), "--out", str(landing), "--duration", str(args.duration)
        ),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    idle_seconds = None
    try:
        time.sleep(3)  # reference data and the first orders
        if runner.startswith("watch"):
            runs = watch_runs(landing, warehouse, log, simulator, args.poll, runner_env(runner, work))
        else:
            runs, last_seen = [], 0.0
            while True:
                live = simulator.poll() is None
                newest = newest_landing_mtime(landing) if landing.exists() else 0.0
                if newest > last_seen:
                    last_seen = newest
                    run = run_pipeline(landing, warehouse, log)
                    runs.append(run)
                    print(f"run {len(runs)}: {run.finished - run.started:5.1f} s, ok={run.ok}", flush=True)
                elif not live:
                    break
                else:
                    time.sleep(args.poll)
            # Nothing new: forced, since `orderhub run` alone starts no run; the fixed cost of a micro-batch.
            idle = run_pipeline(landing, warehouse, log, "--force")
            idle_seconds = idle.finished - idle.started
            print(f"idle run: {idle_seconds:5.1f} s", flush=True)
    finally:
        if simulator.poll() is None:
            os.killpg(simulator.pid, signal.SIGINT)
            simulator.wait(timeout=30)
        log.close()

    # Which run loaded each file: the run whose time span holds the batch's start.
    starts = batch_started(warehouse)
    latencies: list[tuple[float, int]] = []
    steady: list[tuple[float, int]] = []
    cold_start_over = runs[0].finished if runs else 0.0
    for path, batch_id, records in loaded_files(warehouse):
        batch_at = starts.get(batch_id)
        run = next((r for r in runs if batch_at is not None and r.started - 1 <= batch_at <= r.finished), None)
        if run is None or run.published_at is None or not run.ok:
            continue
        written = (landing / path).stat().st_mtime
        latencies.append((run.published_at - written, max(1, int(records))))
        if written > cold_start_over:
            steady.append(latencies[-1])
    if not latencies:
        raise SystemExit("no order file was loaded: see " + str(work / "pipeline.log"))
    return Measured(latencies, steady or latencies, runs, len(latencies), idle_seconds)


def table(results: dict[str, Measured]) -> list[tuple[str, ...]]:
    def column(m: Measured) -> list[str]:
        p50, p95 = weighted_quantile(m.steady, 0.5), weighted_quantile(m.steady, 0.95)
        durations = [r.finished - r.started for r in m.runs]
        warm = durations[1:] or durations
        return [
            f"{p50:.1f} s",
            f"{p95:.1f} s",
            f"{max(v for v, _ in m.steady):.1f} s",
            f"≤ {p95 + REFRESH_SECONDS:.1f} s",
            f"{weighted_quantile(m.latencies, 0.95):.1f} s",
            f"{durations[0]:.1f} s",
            f"{statistics.median(warm):.1f} s",
            f"{m.idle_seconds:.1f} s" if m.idle_seconds is not None else "–",
            f"{len(m.runs)} / {m.files:,} / {sum(w for _, w in m.latencies):,} "
            f"({sum(w for _, w in m.steady):,} after the cold start)",
        ]

    names = [
        "order written → in snapshot, p50 (after the cold start)",
        "order written → in snapshot, p95 (after the cold start)",
        "order written → in snapshot, max (after the cold start)",
        "… → on the dashboard at p95 (adds ≤ refresh)",
        "p95 with the orders written during the cold start",
        "micro-batch run (first, cold)",
        "micro-batch run (later, median)",
        "forced run with nothing new",
        "runs / order files / records measured",
    ]
    columns = [column(m) for m in results.values()]
    return [(name, *(c[i] for c in columns)) for i, name in enumerate(names)]


RUNNERS = {
    "run": "`orderhub run` per micro-batch (a new process each, as the sensor's runs are)",
    "watch": "`orderhub watch` (one long-lived process)",
    "watch-replan-each": "`orderhub watch` with `dispatch.replan_every_seconds: 0`, the dispatch plan re-made at "
    "every micro-batch (as before the plan had its own cadence)",
}


def runner_env(runner: str, work: Path) -> dict[str, str]:
    """The environment a runner adds: `watch-replan-each` reads a copy of config/rules.yml that re-plans at
    every micro-batch."""
    if runner != "watch-replan-each":
        return {}
    import yaml

    rules = yaml.safe_load((ROOT / "config" / "rules.yml").read_text(encoding="utf-8"))
    rules["dispatch"]["replan_every_seconds"] = 0
    path = work / "rules-replan-each.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    return {"ORDERHUB_RULES": str(path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=150.0, help="seconds of live order writing")
    parser.add_argument("--rate", type=float, default=5.0, help="orders per second written")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks for new files")
    parser.add_argument(
        "--runners", default="run,watch", help=f"a comma-separated list of {', '.join(RUNNERS)}, run in that order"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dashboard_freshness.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    runners = args.runners.split(",")
    unknown = [r for r in runners if r not in RUNNERS]
    if unknown:
        parser.error(f"unknown runners {unknown}; known: {', '.join(RUNNERS)}")
    results = {runner: measure(runner, args) for runner in runners}
    load_after = os.getloadavg()[0]
    rows = table(results)
    header = ("measure", *results)
    print()
    for row in (header, *rows):
        print("  ".join(cell.ljust(40 if i == 0 else 12) for i, cell in enumerate(row)))

    lines = [
        f"## {dt.date.today().isoformat()}: {args.rate:g} orders/s",
        "",
        f"`bench/dashboard_freshness.py --duration {args.duration:g} --rate {args.rate:g} --poll {args.poll:g} "
        f"--runners {args.runners}` on {machine()}. Load average (1 min) {load_before:.1f} before and "
        f"{load_after:.1f} after.",
        "",
        *[f"- **{name}**: {RUNNERS[name]}" for name in results],
        "",
        "| measure | " + " | ".join(results) + " |",
        "|---|" + "---:|" * len(results),
        *["| " + " | ".join(row) + " |" for row in rows],
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Dashboard freshness\n"
    title, _, rest = previous.partition("\n")
    args.out.write_text("\n".join([title, "", *lines]) + rest, encoding="utf-8")
    print(f"\nwrote a new section at the top of {args.out}")


if __name__ == "__main__":
    main()
