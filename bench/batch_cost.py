"""Micro-batch cost as history grows: a batch of new orders on 1, 10 and 30 days of history, beside the run
with nothing new (the baseline: the fixed cost every micro-batch pays), with each step's seconds and the peak
memory of the run's process tree (the run and its dbt subprocess) while that step ran.

History is simulated days of `--orders-per-day` orders (20,000: a large city's store group), loaded a day at a
time and kept under `--work` for reuse; then, at each checkpoint, on a copy:
1. `orderhub run --full` (the nightly rebuild, so the marts are what this code builds);
2. `orderhub run` with nothing new (baseline);
3. `--new-orders` orders of a fresh day written into the landing zone, then `orderhub run` (the micro-batch).
Each run is a separate process doing what `orderhub run` does (the idle check, then the job in an ephemeral
Dagster instance), as the landing sensor's runs are separate processes; the child prints its steps' timings.

    .venv/bin/python bench/batch_cost.py [--days 1,10,30] [--orders-per-day 20000] [--new-orders 1000]
        [--work DIR]   # reuse DIR's simulated days and warehouse (they take most of the time)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY = dt.date(2026, 10, 1)
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_gib() -> float:
    """This process's resident memory now, in GiB (a sampler's reading; ru_maxrss only gives the peak so far)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def machine() -> str:
    model = "unknown cpu"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    kib = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
    return f"{os.cpu_count()} cores, {model}, {kib / 1024 / 1024:.0f} GiB RAM, Python {platform.python_version()}"


def tree_rss_bytes(root: int) -> int:
    """Resident memory of `root` and every descendant (from /proc; no dependency needed)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21]) * PAGE
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


class MemorySampler(threading.Thread):
    """Samples the tree's RSS every 0.1 s: (time, bytes)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.time(), tree_rss_bytes(self.pid)))
            self.done.wait(0.1)


def orderhub(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli", *args]


# `orderhub run` as the CLI runs it (the idle check first, then the job with an ephemeral Dagster instance), with
# the instance kept so the child can print its steps' timings (JSON, last line of stdout).
RUN_CHILD = """
import json, sys
from pathlib import Path
from orchestration import idle
from orchestration.settings import Settings

landing, warehouse, full = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "full"
settings = Settings.from_env(landing=landing, warehouse=warehouse, serving=warehouse.with_name("serving.duckdb"))
if not full and idle.check(settings, None).idle:
    print(json.dumps({"ok": True, "steps": []}))
    sys.exit(0)
from orchestration.pipeline import Runner
runner = Runner(settings)
ok = runner.run(None, full=full).success
store = runner.instance
run = store.get_run_records(limit=1)[0].dagster_run
steps = [
    {"step": s.step_key, "start": s.start_time, "end": s.end_time, "seconds": s.end_time - s.start_time}
    for s in store.get_run_step_stats(run.run_id) if s.start_time and s.end_time
]
print(json.dumps({"ok": ok, "steps": steps}))
"""


def timed_run(work: Path, *extra: str) -> dict:
    """One `orderhub run`: wall seconds, its steps' seconds and peak tree memory per step."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # ephemeral, as `orderhub run`
    started = time.time()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN_CHILD,
            str(work / "landing"),
            str(work / "wh" / "orderhub.duckdb"),
            "full" if "--full" in extra else "batch",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = MemorySampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    sampler.done.set()
    sampler.join()
    finished = time.time()
    lines = out.strip().splitlines()
    # The result is the child's last JSON line, from where it starts: DuckDB's progress bar can leave its text
    # on that line (the 10M run's second live batch).
    reported = [line[line.find('{"ok"') :] for line in lines if '{"ok"' in line]
    result = json.loads(reported[-1]) if proc.returncode == 0 and reported else {"ok": False}
    if not result["ok"]:
        raise SystemExit(f"orderhub run failed:\n{err[-3000:]}")
    steps = result["steps"]
    for step in steps:
        inside = [b for t, b in sampler.samples if step["start"] <= t <= step["end"]]
        step["peak_gib"] = max(inside, default=0) / 2**30
    return {
        "seconds": finished - started,
        "peak_gib": max((b for _, b in sampler.samples), default=0) / 2**30,
        "steps": steps,
        "nothing_started": not steps,
    }


def simulate(work: Path, day: dt.date, orders: int, seed: int) -> None:
    subprocess.run(
        orderhub(
            "simulate",
            "--out",
            str(work / "landing"),
            "--orders",
            str(orders),
            "--seed",
            str(seed),
            "--date",
            day.isoformat(),
        ),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def history(work: Path, days: int, orders_per_day: int) -> Path:
    """A folder holding `days` of history (landing zone and loaded warehouse), built once and kept for reuse:
    from the largest smaller one when there is one (landing files hard-linked: they never change)."""
    snapshot = work / f"history-{days}"
    if (snapshot / "ready").exists():
        return snapshot
    shutil.rmtree(snapshot, ignore_errors=True)
    smaller = sorted(int(p.name.split("-")[1]) for p in work.glob("history-*") if (p / "ready").exists())
    smaller = [d for d in smaller if d < days]
    if smaller:
        copy_history(work / f"history-{smaller[-1]}", snapshot)
    (snapshot / "wh").mkdir(parents=True, exist_ok=True)
    for n in range(smaller[-1] if smaller else 0, days):
        simulate(snapshot, FIRST_DAY + dt.timedelta(days=n), orders_per_day, seed=1000 + n)
        # One day per load keeps the load's memory at a day's, as a user replaying history would.
        load_only(snapshot)
    (snapshot / "ready").touch()
    return snapshot


def copy_history(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(source / "landing"), str(target / "landing")], check=True)
    (target / "wh").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "wh" / "orderhub.duckdb", target / "wh" / "orderhub.duckdb")


def load_only(work: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from ingestion import warehouse; from ingestion.loader import run_batch;"
        "con = warehouse.connect(Path(sys.argv[2])); run_batch(con, Path(sys.argv[1])); con.close()"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(work / "landing"), str(work / "wh" / "orderhub.duckdb")],
        cwd=ROOT,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="1,10,30")
    parser.add_argument("--orders-per-day", type=int, default=20000)
    parser.add_argument("--new-orders", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch_cost.md")
    parser.add_argument("--prepare-only", action="store_true", help="build the histories under --work and stop")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="orderhub-batch-cost-"))
    (work / "wh").mkdir(parents=True, exist_ok=True)
    checkpoints = sorted(int(d) for d in args.days.split(","))
    print(f"work folder {work}")

    if args.prepare_only:
        for days in checkpoints:
            history(work, days, args.orders_per_day)
        return
    rows = []
    for i, days in enumerate(checkpoints):
        snapshot = history(work, days, args.orders_per_day)
        run_dir = work / "run"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir()
        copy_history(snapshot, run_dir)
        # The nightly rebuild first, so the marts are what this code builds; it is a figure of its own.
        nightly = timed_run(run_dir, "--full")
        idle = timed_run(run_dir)
        simulate(run_dir, dt.date(2026, 12, 1), args.new_orders, seed=77 + i)
        batch = timed_run(run_dir)
        rows.append((days, nightly, idle, batch))
        print(
            f"{days} days: nightly {nightly['seconds']:.1f} s, idle {idle['seconds']:.1f} s, "
            f"batch {batch['seconds']:.1f} s",
            flush=True,
        )
        shutil.rmtree(run_dir, ignore_errors=True)

    write(args, rows)


def write(args, rows) -> None:
    lines = [
        "# Micro-batch cost as history grows",
        "",
        f"Measured {dt.date.today().isoformat()} with `bench/batch_cost.py --days {args.days} --orders-per-day "
        f"{args.orders_per_day} --new-orders {args.new_orders}` on {machine()}; load average "
        f"{os.getloadavg()[0]:.1f} at the end (the machine is shared and noisy).",
        "",
        "Each figure is one `orderhub run` process (start-up included), as the landing sensor's runs are. "
        "Baseline: the same command with nothing new in the landing zone, at the same history; and the nightly "
        "full rebuild (`orderhub run --full`) of that history.",
        "",
        "| history | nightly full rebuild | run with nothing new (baseline) | batch of new orders | batch / nightly "
        "| peak memory of the batch (run + dbt) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for days, nightly, idle, batch in rows:
        idle_text = "no run started, " if idle["nothing_started"] else ""
        lines.append(
            f"| {days} days ({days * args.orders_per_day:,} orders) | {nightly['seconds']:.1f} s | {idle_text}"
            f"{idle['seconds']:.1f} s | {batch['seconds']:.1f} s | {batch['seconds'] / nightly['seconds']:.2f}× | "
            f"{batch['peak_gib']:.2f} GiB |"
        )
    lines += ["", "Steps of each batch (seconds; peak GiB of the run's process tree while the step ran):", ""]
    steps = sorted({s["step"] for *_, batch in rows for s in batch["steps"]})
    lines.append("| step | " + " | ".join(f"{row[0]} days" for row in rows) + " |")
    lines.append("|---|" + "---:|" * len(rows))
    for step in steps:
        cells = []
        for *_, batch in rows:
            found = next((s for s in batch["steps"] if s["step"] == step), None)
            cells.append(f"{found['seconds']:.1f} s / {found['peak_gib']:.2f} GiB" if found else "–")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
