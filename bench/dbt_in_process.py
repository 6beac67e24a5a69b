"""The dbt step of a warm micro-batch with dbt run in the pipeline's process (manifest kept between runs)
against the same step with a dbt subprocess per run (the tree at `--baseline-ref`), in one command.

Each side is one long-lived process, as `orderhub watch` is: a `pipeline.Runner` loaded once, then `--runs`
runs on a copy of the same warehouse, each after `--new-orders` more simulated orders land (the same seeds on
both sides). Run 0 is the nightly job (`full`: every model, every test), as `orderhub watch` meets it after a
deploy; the later runs are micro-batches. Reported per run: the run's seconds, the dbt step's, and how many
times the process parsed the dbt project (in-process only). The sides alternate (baseline, current, baseline,
current…) with `--rounds`, so a load change on the shared machine hits both.

    .venv/bin/python bench/dbt_in_process.py --base DIR [--runs 5] [--rounds 2] [--write]

`--base` holds `landing/` and `wh/orderhub.duckdb` (a warehouse that has loaded the landing zone); without
it, one is made here (`--orders-per-day` orders of `--date`, one `orderhub run --full`). The baseline tree is
`git archive` of `--baseline-ref` (default: where this branch left main), run with this environment's
packages. `--write` appends a dated section to bench/results/batch_fixed_cost.md.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from dashboard_freshness import machine  # noqa: E402

# Runs in a child process whose PYTHONPATH is the tree under test: only what both trees have.
CHILD = r"""
import json, subprocess, sys, time
from pathlib import Path
work, runs, new_orders, day = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
from orchestration.settings import Settings
from orchestration.pipeline import Runner
try:
    from orchestration.defs.transform.dbt_inproc import parse_count
except ImportError:  # the subprocess tree
    parse_count = lambda: None
settings = Settings.from_env(landing=work / "landing", warehouse=work / "wh" / "orderhub.duckdb")
runner = Runner(settings)
for i in range(runs):
    subprocess.run([sys.executable, "-m", "orchestration.cli", "simulate", "--out", str(work / "landing"),
                    "--orders", str(new_orders), "--seed", str(500 + i), "--date", day],
                   check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    outcome = runner.run(full=(i == 0))
    seconds = time.perf_counter() - started
    run = runner.instance.get_run_records(limit=1)[0].dagster_run
    steps = {s.step_key: s.end_time - s.start_time for s in runner.instance.get_run_step_stats(run.run_id)}
    print("RESULT " + json.dumps({"run": i, "ok": outcome.success, "seconds": seconds,
                                  "dbt": steps.get("orderhub_dbt"), "steps": steps, "parses": parse_count()}),
          flush=True)
"""


def baseline_ref() -> str:
    return subprocess.run(
        ["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def export_tree(ref: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def make_base(into: Path, orders: int, day: str) -> Path:
    landing, warehouse = into / "landing", into / "wh" / "orderhub.duckdb"
    cli = [sys.executable, "-m", "orchestration.cli"]
    subprocess.run([*cli, "simulate", "--out", str(landing), "--orders", str(orders), "--seed", "7", "--date", day],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run([*cli, "run", "--full", "--landing", str(landing), "--warehouse", str(warehouse)],
                   check=True, cwd=ROOT, capture_output=True)  # fmt: skip
    return into


def side(tree: Path, base: Path, work: Path, args) -> list[dict]:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PYTHONPATH")}
    env |= {"PYTHONPATH": str(tree), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(work), str(args.runs), str(args.new_orders), args.date],
        cwd=tree, env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    results = [json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or len(results) != args.runs:
        raise SystemExit(f"{tree} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return results


def table(rows: dict[str, list[list[dict]]]) -> list[str]:
    lines = ["| round | run | subprocess: run s | subprocess: dbt step s | in-process: run s | "
             "in-process: dbt step s | parses (in-process) |", "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r, (old, new) in enumerate(zip(rows["subprocess"], rows["in-process"], strict=True)):
        for a, b in zip(old, new, strict=True):
            label = "full" if a["run"] == 0 else f"micro {a['run']}"
            lines.append(
                f"| {r + 1} | {label} | {a['seconds']:.1f} | {a['dbt']:.1f} | {b['seconds']:.1f} | {b['dbt']:.1f} "
                f"| {b['parses']} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--new-orders", type=int, default=50)
    parser.add_argument("--orders-per-day", type=int, default=20000)
    parser.add_argument("--date", default="2026-12-01")
    parser.add_argument("--baseline-ref", default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    ref = args.baseline_ref or baseline_ref()
    scratch = Path(tempfile.mkdtemp(prefix="dbt_in_process_"))
    try:
        old_tree = export_tree(ref, scratch / "baseline")
        base = args.base or make_base(scratch / "base", args.orders_per_day, args.date)
        load = os.getloadavg()[0]
        rows: dict[str, list[list[dict]]] = {"subprocess": [], "in-process": []}
        for _ in range(args.rounds):
            rows["subprocess"].append(side(old_tree, base, scratch / "w_old", args))
            rows["in-process"].append(side(ROOT, base, scratch / "w_new", args))
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median_of(name: str, key: str) -> float:
        return statistics.median(r[key] for rnd in rows[name] for r in rnd if r["run"] > 0)

    old_dbt, new_dbt = median_of("subprocess", "dbt"), median_of("in-process", "dbt")
    old_run, new_run = median_of("subprocess", "seconds"), median_of("in-process", "seconds")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    text = [
        "",
        f"## dbt in the pipeline's process, manifest kept ({dt.date.today().isoformat()})",
        "",
        f"`bench/dbt_in_process.py --runs {args.runs} --rounds {args.rounds} --new-orders {args.new_orders}` on "
        f"{machine()}; warehouse: {'`' + str(args.base) + '`' if args.base else f'{args.orders_per_day} orders of {args.date}'}. "
        f"Subprocess: the tree at {ref[:7]} (a dbt subprocess per run through `DbtCliResource.cli`); in-process: "
        f"{head.stdout.strip()}. One long-lived `pipeline.Runner` per side and round (as `orderhub watch`), the "
        f"same seeds on both sides. Load average (1 min) {load:.1f} before, {load_after:.1f} after: the machine "
        "is shared, compare the two sides of one round.",
        "",
        *table(rows),
        "",
        f"Median over the micro-batches: dbt step {old_dbt:.1f} s → {new_dbt:.1f} s ({new_dbt / old_dbt:.2f}×), "
        f"whole run {old_run:.1f} s → {new_run:.1f} s ({new_run / old_run:.2f}×).",
    ]
    print("\n".join(text))
    if args.write:
        out = ROOT / "bench" / "results" / "batch_fixed_cost.md"
        out.write_text(out.read_text() + "\n".join(text) + "\n")


if __name__ == "__main__":
    main()
