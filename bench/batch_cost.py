"""Micro-batch cost as history grows: a batch of new orders on 1, 10 and 30 days of history, beside the run
with nothing new (the baseline: the fixed cost every micro-batch pays), with each step's seconds and the peak
memory of the run's process tree (the run and its dbt subprocess) while that step ran.

History is simulated days of `--orders-per-day` orders (20,000: a large city's store group), loaded and built
once per checkpoint with the nightly full rebuild (`orderhub run --full`); then, at each checkpoint:
1. `orderhub run` with nothing new (baseline);
2. `--new-orders` orders of a fresh day written into the landing zone, then `orderhub run` (the micro-batch).
Each run is a separate `orderhub run` process, as the landing sensor's runs are, recorded in a Dagster
instance so the step timings can be read back.

    .venv/bin/python bench/batch_cost.py [--days 1,10,30] [--orders-per-day 20000] [--new-orders 1000]
        [--work DIR]   # reuse DIR's simulated days and warehouse (they take most of the time)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY = dt.date(2026, 10, 1)
PAGE = os.sysconf("SC_PAGE_SIZE")


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


def env_for(work: Path) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(work / "dagster_home")}


def timed_run(work: Path, *extra: str) -> dict:
    """One `orderhub run`: wall seconds, its steps' seconds and peak tree memory per step."""
    started = time.time()
    proc = subprocess.Popen(
        orderhub(
            "run",
            "--landing",
            str(work / "landing"),
            "--warehouse",
            str(work / "wh" / "orderhub.duckdb"),
            "--quiet",
            *extra,
        ),
        cwd=ROOT,
        env=env_for(work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = MemorySampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    sampler.done.set()
    sampler.join()
    finished = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"orderhub run failed:\n{err[-3000:]}")
    steps = step_stats(work, started)
    for step in steps:
        inside = [b for t, b in sampler.samples if step["start"] <= t <= step["end"]]
        step["peak_gib"] = max(inside, default=0) / 2**30
    return {
        "seconds": finished - started,
        "peak_gib": max((b for _, b in sampler.samples), default=0) / 2**30,
        "steps": steps,
        "nothing_started": "nothing new" in err,
    }


def step_stats(work: Path, since: float) -> list[dict]:
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = [r for r in instance.get_run_records(limit=5) if r.create_timestamp.timestamp() >= since - 1]
        if not runs:
            return []
        stats = instance.get_run_step_stats(runs[0].dagster_run.run_id)
    return [
        {"step": s.step_key, "start": s.start_time, "end": s.end_time, "seconds": s.end_time - s.start_time}
        for s in stats
        if s.start_time and s.end_time
    ]


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


def grow_history(work: Path, days: int, orders_per_day: int) -> None:
    """Simulate and load days until the warehouse holds `days` of history, then the full rebuild."""
    added = False
    for n in range(days):
        day = FIRST_DAY + dt.timedelta(days=n)
        if (work / "landing" / "orders" / "app" / day.isoformat()).exists():
            continue
        simulate(work, day, orders_per_day, seed=1000 + n)
        # One day per load keeps the load's memory at a day's, as a user replaying history would.
        load_only(work)
        added = True
    if added:
        timed_run(work, "--full")


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
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="orderhub-batch-cost-"))
    (work / "wh").mkdir(parents=True, exist_ok=True)
    checkpoints = sorted(int(d) for d in args.days.split(","))
    print(f"work folder {work}")

    rows = []
    for i, days in enumerate(checkpoints):
        grow_history(work, days, args.orders_per_day)
        idle = timed_run(work)
        new_day = dt.date(2026, 12, 1) + dt.timedelta(days=i)
        simulate(work, new_day, args.new_orders, seed=77 + i)
        batch = timed_run(work)
        rows.append((days, idle, batch))
        print(f"{days} days: idle {idle['seconds']:.1f} s, batch {batch['seconds']:.1f} s", flush=True)

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
        "Baseline: the same command with nothing new in the landing zone, in the same checkpoint.",
        "",
        "| history | run with nothing new (baseline) | batch of new orders | batch / baseline | peak memory (run + dbt) |",
        "|---|---:|---:|---:|---:|",
    ]
    for days, idle, batch in rows:
        idle_text = "no run started" if idle["nothing_started"] else f"{idle['seconds']:.1f} s"
        lines.append(
            f"| {days} days ({days * args.orders_per_day:,} orders) | {idle_text} ({idle['seconds']:.1f} s) | "
            f"{batch['seconds']:.1f} s | {batch['seconds'] / idle['seconds']:.2f}× | {batch['peak_gib']:.2f} GiB |"
        )
    lines += ["", "Steps of each batch (seconds; peak GiB of the run's process tree while the step ran):", ""]
    steps = sorted({s["step"] for _, _, batch in rows for s in batch["steps"]})
    lines.append("| step | " + " | ".join(f"{d} days" for d, _, _ in rows) + " |")
    lines.append("|---|" + "---:|" * len(rows))
    for step in steps:
        cells = []
        for _, _, batch in rows:
            found = next((s for s in batch["steps"] if s["step"] == step), None)
            cells.append(f"{found['seconds']:.1f} s / {found['peak_gib']:.2f} GiB" if found else "–")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
