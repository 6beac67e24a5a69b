"""A reconciliation run with its finance dbt step in the run's process (the days as a warehouse row, the
manifest the transform keeps) against the same run with a dbt subprocess and the days as vars (the tree at
`--baseline-ref`), in one command.

On `--days` simulated days (`--orders-per-day` each), loaded and reconciled once by a backfill first:
- one-off: `orderhub recon run --date D` as users and the schedule's run worker run it, a fresh process
  each (wall time, process start and definitions included), for each of the last `--runs` days;
- long-lived: one process running the reconciliation job for the same days one after the other, the run's
  seconds, its finance dbt step's and how many times the process parsed the project (in-process only);
- alternating (in-process only): in one process, a micro-batch (`--new-orders` orders land) then a
  reconciliation, `--runs` times: the parses show whether the two share the kept manifest;
- the parse itself: `dbt parse` in process from the kept partial-parse state, with the vars it was written
  for and with the days added as vars (the cost every reconciliation paid while the days were vars).
The sides alternate (baseline, current, baseline, current…) with `--rounds`, each on a fresh copy of the
same warehouse, so a load change on the shared machine hits both.

    .venv/bin/python bench/recon_in_process.py [--days 7] [--orders-per-day 2000] [--runs 3] [--rounds 2] [--current DIR] [--write]

`--write` appends a dated section to bench/results/recon_in_process.md.
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

from dashboard_freshness import machine  # noqa: E402
from dbt_in_process import baseline_ref, export_tree  # noqa: E402

# Runs in a child process whose PYTHONPATH is the tree under test: only what both trees have.
CHILD = r"""
import json, subprocess, sys, time
from pathlib import Path
import dagster as dg
work, days, mode, new_orders = Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], int(sys.argv[4])
from orchestration.settings import Settings
from orchestration.pipeline import QUIET_LOGS, Runner
from orchestration.defs.reconciliation.assets import RECON_JOB
try:
    from orchestration.defs.transform.dbt_inproc import parse_count
except ImportError:
    parse_count = lambda: None
settings = Settings.from_env(landing=work / "landing", warehouse=work / "wh" / "orderhub.duckdb")
runner = Runner(settings)
job = runner.defs.resolve_job_def(RECON_JOB)
for i, day in enumerate(days):
    if mode == "alternate" and i == 0:
        # The warehouse's marts were last built by no pipeline run (the backfill built the finance marts and the
        # staging views only): the nightly job first, as a deployment meets it.
        assert runner.run(full=True).success
        print("RESULT " + json.dumps({"kind": "nightly", "day": days[-1], "seconds": 0, "parses": parse_count()}),
              flush=True)
    if mode == "alternate":
        subprocess.run([sys.executable, "-m", "orchestration.cli", "simulate", "--out", str(work / "landing"),
                        "--orders", str(new_orders), "--seed", str(900 + i), "--date", days[-1]],
                       check=True, stdout=subprocess.DEVNULL)
        started = time.perf_counter()
        assert runner.run().success
        print("RESULT " + json.dumps({"kind": "micro-batch", "day": days[-1], "seconds": time.perf_counter() - started,
                                      "parses": parse_count()}), flush=True)
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = job.execute_in_process(partition_key=day, instance=instance, run_config=QUIET_LOGS, raise_on_error=False)
    seconds = time.perf_counter() - started
    assert result.success, day
    steps = {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(result.run_id)}
    print("RESULT " + json.dumps({"kind": "recon", "day": day, "seconds": seconds,
                                  "finance": steps.get("orderhub_finance_dbt"), "parses": parse_count()}), flush=True)
"""

# The parse alone, in process, from the partial-parse state a run on this warehouse kept.
PARSE = r"""
import json, shutil, sys, time, uuid
from pathlib import Path
from dbt.cli.main import dbtRunner
from orchestration.defs.transform.dbt import with_warehouse_var
from orchestration.rules import dbt_vars
from orchestration.settings import Settings
work, day = Path(sys.argv[1]), sys.argv[2]
settings = Settings.from_env(landing=work / "landing", warehouse=work / "wh" / "orderhub.duckdb")
project = settings.dbt_project
kept = project / "target" / "partial_parse.msgpack"
base = json.loads(with_warehouse_var(["--vars", dbt_vars(settings.rules)], str(settings.warehouse.resolve()))[1])
out = {}
for name, extra in (("same vars", {}), ("days as vars", {"recon_date_from": day, "recon_date_to": day})) * 2:
    target = project / "target" / f"bench-parse-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True)
    shutil.copyfile(kept, target / "partial_parse.msgpack")
    started = time.perf_counter()
    done = dbtRunner().invoke(["parse", "--vars", json.dumps({**base, **extra}, ensure_ascii=False),
                               "--project-dir", str(project), "--profiles-dir", str(project),
                               "--target-path", str(target), "--log-path", str(target), "--quiet"])
    out.setdefault(name, []).append(time.perf_counter() - started)
    assert done.success, done.exception
    shutil.rmtree(target)
print("RESULT " + json.dumps(out))
"""


def child_env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PYTHONPATH", "ORDERHUB_AS_OF")}
    return env | {"PYTHONPATH": str(tree), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "1"}


def results(tree: Path, args: list[str], timeout: int = 3600) -> list[dict]:
    done = subprocess.run(
        [sys.executable, *args], cwd=tree, env=child_env(tree), capture_output=True, text=True, timeout=timeout
    )
    found = [json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return found


def cli_wall(tree: Path, work: Path, day: str) -> float:
    command = ["-m", "orchestration.cli", "recon", "run", "--date", day, "--landing", str(work / "landing")]
    command += ["--warehouse", str(work / "wh" / "orderhub.duckdb")]
    started = time.perf_counter()
    results(tree, command)
    return time.perf_counter() - started


def make_base(into: Path, days: list[str], orders: int) -> Path:
    landing = into / "landing"
    for day in days:
        cli = [sys.executable, "-m", "orchestration.cli", "simulate", "--out", str(landing), "--orders", str(orders)]
        subprocess.run([*cli, "--seed", "7", "--date", day], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    shutil.rmtree(landing / "_truth", ignore_errors=True)
    results(ROOT, ["-m", "orchestration.cli", "recon", "run", "--date", days[0], "--to", days[-1],
                   "--landing", str(landing), "--warehouse", str(into / "wh" / "orderhub.duckdb")])  # fmt: skip
    return into


def fresh(base: Path, work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--orders-per-day", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--new-orders", type=int, default=50)
    parser.add_argument("--last-day", default="2026-11-25")
    parser.add_argument("--baseline-ref", default=None)
    parser.add_argument(
        "--current", type=Path, default=ROOT, help="the tree under test: this one, or an export of HEAD"
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    last = dt.date.fromisoformat(args.last_day)
    days = [(last - dt.timedelta(days=args.days - 1 - n)).isoformat() for n in range(args.days)]
    ran = days[-args.runs :]
    ref = args.baseline_ref or baseline_ref()
    # The label of the tree under test: HEAD when the bench starts (a `--current` tree is an export of it).
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    scratch = Path(tempfile.mkdtemp(prefix="recon_in_process_"))
    sides = {"subprocess": scratch / "baseline", "in-process": args.current}
    rows: dict[str, dict[str, list]] = {name: {"cli": [], "long": []} for name in sides}
    try:
        export_tree(ref, sides["subprocess"])
        print(f"simulating {args.days} days of {args.orders_per_day} orders, reconciling them once", flush=True)
        base = make_base(scratch / "base", days, args.orders_per_day)
        load = os.getloadavg()[0]
        for name, tree in sides.items():  # warm-up: each tree parses its manifest once, outside the figures
            cli_wall(tree, fresh(base, scratch / "w"), ran[0])
        for r in range(args.rounds):
            for name, tree in sides.items():
                print(f"round {r + 1}: {name}", flush=True)
                work = fresh(base, scratch / "w")
                rows[name]["cli"].append([cli_wall(tree, work, day) for day in ran])
                work = fresh(base, scratch / "w")
                rows[name]["long"].append(results(tree, ["-c", CHILD, str(work), ",".join(ran), "recon", "0"]))
                print(json.dumps({name: {k: v[-1] for k, v in rows[name].items()}}), flush=True)
        work = fresh(base, scratch / "w")
        alternate = results(args.current, ["-c", CHILD, str(work), ",".join(ran), "alternate", str(args.new_orders)])
        print(json.dumps(alternate), flush=True)
        parse = results(args.current, ["-c", PARSE, str(work), ran[-1]])[0]
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median(name: str, part: str, key: str | None = None) -> float:
        values = [v if key is None else v[key] for rnd in rows[name][part] for v in rnd]
        return statistics.median(values)

    alternate = [x for x in alternate if x["kind"] != "nightly"]
    lines = [
        "",
        f"## Reconciliation's dbt step in process ({dt.date.today().isoformat()})",
        "",
        f"`bench/recon_in_process.py --days {args.days} --orders-per-day {args.orders_per_day} --runs {args.runs} "
        f"--rounds {args.rounds}` on {machine()}. Subprocess: the tree at {ref[:7]} (`DbtCliResource.cli`, the "
        f"days as vars); in-process: {head.stdout.strip()}. Each figure on a fresh copy of the same warehouse "
        f"(the {args.days} days reconciled once); days run: {', '.join(ran)}. Load average (1 min) {load:.1f} "
        f"before, {load_after:.1f} after: the machine is shared, compare the sides of one round.",
        "",
        "| round | day | subprocess: `recon run` s | in-process: `recon run` s | subprocess: run s (finance step) "
        "| in-process: run s (finance step) | parses (in-process) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in range(args.rounds):
        old, new = rows["subprocess"], rows["in-process"]
        for i, day in enumerate(ran):
            a, b = old["long"][r][i], new["long"][r][i]
            lines.append(
                f"| {r + 1} | {day} | {old['cli'][r][i]:.1f} | {new['cli'][r][i]:.1f} | {a['seconds']:.1f} "
                f"({a['finance']:.1f}) | {b['seconds']:.1f} ({b['finance']:.1f}) | {b['parses']} |"
            )
    cli_old, cli_new = median("subprocess", "cli"), median("in-process", "cli")
    fin_old, fin_new = median("subprocess", "long", "finance"), median("in-process", "long", "finance")
    run_old, run_new = median("subprocess", "long", "seconds"), median("in-process", "long", "seconds")
    lines += [
        "",
        f"Medians: `orderhub recon run` {cli_old:.1f} s → {cli_new:.1f} s ({cli_new / cli_old:.2f}×); in a "
        f"long-lived process the run {run_old:.1f} s → {run_new:.1f} s ({run_new / run_old:.2f}×), its finance "
        f"dbt step {fin_old:.1f} s → {fin_new:.1f} s ({fin_new / fin_old:.2f}×).",
        "",
        "Micro-batches and reconciliations alternating in one process (in-process tree): "
        + ", ".join(f"{x['kind']} {x['seconds']:.1f} s (parses so far {x['parses']})" for x in alternate)
        + ".",
        "",
        "`dbt parse` in process from the kept partial-parse state: with the vars it was kept for "
        + ", ".join(f"{s:.1f}" for s in parse["same vars"])
        + " s; with the days added as vars (a full parse) "
        + ", ".join(f"{s:.1f}" for s in parse["days as vars"])
        + " s.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        out = ROOT / "bench" / "results" / "recon_in_process.md"
        head_text = out.read_text() if out.exists() else "# Reconciliation run cost\n"
        out.write_text(head_text + text + "\n")


if __name__ == "__main__":
    main()
