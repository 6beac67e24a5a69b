"""Warm micro-batches in the long-lived runner, one code tree against another on copies of one warehouse.

For each code tree (`--code NAME=DIR`, e.g. a `git archive` of main beside this work tree), one Python process
with that tree first on its path copies the base warehouse and landing zone (`--base`: a folder holding
`landing/` and `wh/orderhub.duckdb`, kept read-only), keeps one `orchestration.pipeline.Runner` as
`orderhub watch` does, and runs `--batches` micro-batches, each of `--orders` simulated orders of a business
day the warehouse has not seen (`--first-date`, then a day later each time). The first run pays the process's
imports and dbt's parse (cold); the others are what a warm runner pays. Per run it prints the Dagster steps'
seconds and, from that run's dbt `run_results.json`, dbt's elapsed time, the models' summed time and the
tests' summed time, the slowest models, every node's seconds (for bench/node_growth.py), and the process's CPU
seconds, the bytes it wrote and those it read from storage (measures of work that other load moves less than
wall time, or not at all). The trees run one after the other in the same command, so the
machine's load is as alike as it gets; the load average is printed beside each. With `--turns` the trees'
processes run side by side and take turns batch by batch (one runs while the others wait), so a machine whose
load changes over minutes (other sessions' tests) loads every tree alike.

    .venv/bin/python bench/warm_batches.py --base /work/scratch/h30/base --work /work/scratch/run \
        --code main=/work/scratch/code-main --code branch=. [--batches 4] [--orders 1000]

`--cold-cache` drops the kernel's page cache before each batch but the first (root only), so every batch reads
from storage what it touches, as on a warehouse larger than memory; each dbt node's and Dagster step's bytes
read from storage are printed beside their seconds (`nodes_read_mb`, `steps_read_mb`), which says what a
batch reads of history, whatever the page cache holds.

`--in-place` runs one tree on the base itself (a warehouse too large to copy; the batches stay in it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DROP_CACHES = "/proc/sys/vm/drop_caches"

CHILD = r"""
import datetime as dt, json, os, subprocess, sys, threading, time
from pathlib import Path
from orchestration.settings import Settings
from orchestration.pipeline import Runner

work, batches, orders, first = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
noon_clock = sys.argv[5] == "noon"
landing, warehouse = work / "landing", work / "wh" / "orderhub.duckdb"
settings = Settings.from_env(landing=landing, warehouse=warehouse, serving=warehouse.with_name("serving.duckdb"))
runner = Runner(settings)


class ReadSampler(threading.Thread):
    # This process's bytes read from storage, sampled every 20 ms with the time: the bytes a dbt node or a
    # Dagster step read are those between its start and its end (dbt runs one node at a time here).
    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []

    def run(self):
        while True:
            self.samples.append((time.time(), io_bytes("read_bytes")))
            time.sleep(0.02)

    def read_mb(self, start, end):
        samples = list(self.samples)
        def at(moment):
            return next((b for t, b in samples if t >= moment), samples[-1][1] if samples else 0)
        return round((at(end) - at(start)) / 2**20, 1)


def io_bytes(field):
    # What this process (the run, dbt in it) had the kernel write (`write_bytes`) or fetch from storage
    # (`read_bytes`: not what the page cache served): unlike seconds, not moved by other load. Reads from storage
    # show a warehouse that no longer fits the page cache.
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


sampler = ReadSampler()
sampler.start()


def node_span(result):
    times = [dt.datetime.fromisoformat(t[k].replace("Z", "+00:00")).timestamp()
             for t in result.get("timing", []) for k in ("started_at", "completed_at") if t.get(k)]
    return (min(times), max(times)) if times else None


def phase(result, name):
    for timing in result.get("timing", []):
        if timing["name"] == name and timing.get("started_at") and timing.get("completed_at"):
            started = dt.datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
            completed = dt.datetime.fromisoformat(timing["completed_at"].replace("Z", "+00:00"))
            return round((completed - started).total_seconds(), 2)
    return None


targets = settings.dbt_project / "target"
for n in range(batches):
    sys.stdin.readline()  # the parent's go (with --turns: the other trees have run their batch n)
    day = dt.date.fromisoformat(first) + dt.timedelta(days=n)
    if noon_clock:  # the run's clock at noon of the batch's day (bench/scale.py's live batches)
        os.environ["ORDERHUB_AS_OF"] = f"{day}T12:00:00"
    subprocess.run([sys.executable, "-m", "orchestration.cli", "simulate", "--out", str(landing), "--orders",
                    str(orders), "--seed", str(500 + n), "--date", day.isoformat()], check=True,
                   stdout=subprocess.DEVNULL)
    before = {p.name for p in targets.glob("*")} if targets.exists() else set()
    written, fetched, cpu = io_bytes("write_bytes"), io_bytes("read_bytes"), time.process_time()
    started = time.perf_counter()
    ok = runner.run(None).success
    seconds = time.perf_counter() - started
    written, fetched = io_bytes("write_bytes") - written, io_bytes("read_bytes") - fetched
    cpu = time.process_time() - cpu
    store = runner.instance
    run = store.get_run_records(limit=1)[0].dagster_run
    stats = [s for s in store.get_run_step_stats(run.run_id) if s.start_time and s.end_time]
    steps = {s.step_key: round(s.end_time - s.start_time, 2) for s in stats}
    steps_read_mb = {s.step_key: sampler.read_mb(s.start_time, s.end_time) for s in stats}
    dbt = {}
    new = sorted((p for p in targets.glob("*") if p.name not in before and (p / "run_results.json").exists()),
                 key=lambda p: p.stat().st_mtime)
    if new:
        results = json.loads((new[-1] / "run_results.json").read_text())
        nodes = results["results"]
        models = [(r["unique_id"].split(".")[-1], r["execution_time"]) for r in nodes if r["unique_id"].startswith("model.")]
        tests = [r["execution_time"] for r in nodes if r["unique_id"].startswith("test.")]
        dbt = {"elapsed": round(results["elapsed_time"], 2), "models": round(sum(t for _, t in models), 2),
               "tests": round(sum(tests), 2), "n_models": len(models), "n_tests": len(tests),
               "slowest": [(m, round(t, 2)) for m, t in sorted(models, key=lambda x: -x[1])[:8]],
               # (test, seconds executing its SQL, seconds compiling it): execution_time holds both
               "slowest_tests": [(r["unique_id"].split(".")[2], phase(r, "execute"), phase(r, "compile"))
                                 for r in sorted(nodes, key=lambda r: -r["execution_time"])
                                 if r["unique_id"].startswith("test.")][:8],
               # every node's seconds, to compare two warehouses' batches node by node (bench/node_growth.py)
               "nodes": {r["unique_id"].split(".", 2)[-1]: round(r["execution_time"], 3) for r in nodes},
               # and the bytes each read from storage (all of them when the page cache was dropped first)
               "nodes_read_mb": {r["unique_id"].split(".", 2)[-1]: sampler.read_mb(*node_span(r))
                                 for r in nodes if node_span(r)}}
    print(json.dumps({"batch": n + 1, "date": day.isoformat(), "ok": ok, "seconds": round(seconds, 2),
                      "cpu_s": round(cpu, 2), "written_mb": round(written / 2**20, 1),
                      "read_mb": round(fetched / 2**20, 1),
                      "load": round(os.getloadavg()[0], 2), "steps": steps, "steps_read_mb": steps_read_mb,
                      "dbt": dbt}), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--code", action="append", required=True, help="NAME=DIR, in the order to run them")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--first-date", default="2026-11-20")
    parser.add_argument("--out", type=Path, default=None, help="append the JSON lines here")
    parser.add_argument("--turns", action="store_true", help="the trees take turns batch by batch")
    parser.add_argument(
        "--noon-clock",
        action="store_true",
        help="each batch's run clock is noon of its day (as bench/scale.py's live batches); default: the environment's",
    )
    parser.add_argument(
        "--cold-cache",
        action="store_true",
        help="drop the kernel's page cache before each batch but the first (needs root): what a batch reads from "
        "storage when the warehouse no longer fits in memory",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="run on --base itself, no copy (one tree; for a warehouse too large to copy: its batches stay in it)",
    )
    args = parser.parse_args()
    if args.cold_cache and not os.access(DROP_CACHES, os.W_OK):
        parser.error(f"--cold-cache writes {DROP_CACHES}, which this user cannot")
    if args.in_place and len(args.code) != 1:
        parser.error("--in-place runs one code tree")
    if not args.turns:
        for spec in args.code:
            _run_trees([spec], args)
        return
    _run_trees(args.code, args)


def _run_trees(specs: list[str], args: argparse.Namespace) -> None:
    """The trees' processes side by side, taking turns batch by batch (one tree: its batches in a row)."""
    children = [_start(spec, args) for spec in specs]
    try:
        for batch in range(args.batches):
            for name, proc, _run_dir in children:
                if args.cold_cache and batch > 0:
                    _drop_page_cache()
                proc.stdin.write("go\n")
                proc.stdin.flush()
                _report(name, _next_row(name, proc), args.out)
        for _name, proc, _run_dir in children:
            proc.stdin.close()
            proc.wait()
    finally:
        for _name, proc, run_dir in children:
            proc.kill()
            if not args.in_place:
                shutil.rmtree(run_dir, ignore_errors=True)


def _drop_page_cache() -> None:
    os.sync()
    Path(DROP_CACHES).write_text("1\n")


def _start(spec: str, args: argparse.Namespace) -> tuple[str, subprocess.Popen, Path]:
    """A tree's process on its own copy of the base (the landing zone hard-linked: its files are never
    rewritten, each batch lands under a new date)."""
    name, code = spec.split("=", 1)
    code_dir = Path(code).resolve()
    if args.in_place:
        run_dir = args.base
    else:
        run_dir = args.work / name
        shutil.rmtree(run_dir, ignore_errors=True)
        (run_dir / "wh").mkdir(parents=True)
        subprocess.run(["cp", "-al", str(args.base / "landing"), str(run_dir / "landing")], check=True)
        shutil.copyfile(args.base / "wh" / "orderhub.duckdb", run_dir / "wh" / "orderhub.duckdb")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["PYTHONPATH"] = str(code_dir)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(run_dir),
            str(args.batches),
            str(args.orders),
            args.first_date,
            "noon" if args.noon_clock else "",
        ],
        cwd=code_dir,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return name, proc, run_dir


def _next_row(name: str, proc: subprocess.Popen) -> dict:
    for line in proc.stdout:
        # DuckDB's progress bar can leave its text on the line the row is printed on.
        start = line.find('{"batch"')
        if start >= 0:
            return {"code": name, **json.loads(line[start:])}
    raise SystemExit(f"{name} failed (exit {proc.wait()}); its errors are above")


def _report(name: str, row: dict, out: Path | None) -> None:
    print(json.dumps(row), flush=True)
    if out:
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
