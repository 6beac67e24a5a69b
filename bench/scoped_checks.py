"""The micro-batch's key and invariant dbt tests, scoped to what the batch rebuilt, against the same tests read
whole (what every micro-batch paid before), on one warehouse in one command.

On a copy of a built warehouse (`--base`: its `wh/orderhub.duckdb` after a nightly rebuild, and its landing
zone, hard-linked), `--new-orders` orders of a new day are simulated into the landing zone (`orderhub
simulate`) and loaded (`run_batch`). Then, with dbt run as the orchestrator runs it (the rules as vars, the
warehouse as a var, the clock and the test scope as rows in the warehouse):
1. the micro-batch: `dbt build` of the hot-path models and, named one by one, the critical tests
   (orchestration/defs/transform/cadence.py), views left alone, tests scoped (pipeline.dbt_test_scope);
2. the baseline: `dbt test` of the same tests on the warehouse the micro-batch left, whole tables (no scope
   row): the tests every micro-batch ran before, on the same data.
Figures are dbt's own timings (target/run_results.json).

    .venv/bin/python bench/scoped_checks.py --base /work/scratch/b30/base --work /work/scratch/scoped/bench
        [--orders 1000] [--date 2026-12-01] [--seed 77] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from batch_cost import machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestration.defs.transform.cadence import critical_test_names, is_critical, scoped_to_batches  # noqa: E402
from orchestration.defs.transform.dbt import dbt_project  # noqa: E402
from orchestration.rules import dbt_vars  # noqa: E402
from orchestration.settings import Settings  # noqa: E402

FINANCE = ["path:models/intermediate/finance", "path:models/marts/finance"]
DBT = str(Path(sys.executable).parent / "dbt")


def dbt(args: list[str], warehouse: Path, target: Path) -> list[dict]:
    """One dbt invocation as the orchestrator makes it; its results (hooks left out)."""
    rules = json.loads(dbt_vars(ROOT / "config" / "rules.yml"))
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run(
        [
            DBT,
            *args,
            "--project-dir",
            str(ROOT / "dbt_project"),
            "--profiles-dir",
            str(ROOT / "dbt_project"),
            "--target-path",
            str(target),
            "--vars",
            json.dumps({**rules, "orderhub_warehouse": str(warehouse)}),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=False,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    return [r for r in results if not r["unique_id"].startswith("operation.")]


def connector(warehouse: Path):
    """What the orchestrator's Warehouse.connect is to scoped_to_batches: a new connection, closed after use."""
    return lambda: duckdb.connect(str(warehouse))


def prepare(base: Path, work: Path, orders: int, date: str, seed: int) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    (work / "wh").mkdir(parents=True)
    subprocess.run(["cp", "-al", str(base / "landing"), str(work / "landing")], check=True)
    shutil.copyfile(base / "wh" / "orderhub.duckdb", work / "wh" / "orderhub.duckdb")
    subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "simulate", "--out", str(work / "landing")]
        + ["--orders", str(orders), "--date", date, "--seed", str(seed)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    from ingestion import warehouse
    from ingestion.loader import run_batch

    con = warehouse.connect(work / "wh" / "orderhub.duckdb")
    try:
        loaded = run_batch(con, work / "landing")
    finally:
        con.close()
    print(f"loaded {loaded.files} files", flush=True)
    return work / "wh" / "orderhub.duckdb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--date", default="2026-12-01")
    parser.add_argument("--seed", type=int, default=77)
    parser.add_argument("--keep", action="store_true", help="keep the warehouse copy under --work")
    args = parser.parse_args()

    # The tests the micro-batch job runs, by the orchestrator's own rule (the finance ones are excluded below),
    # and those it ran before this change (the same rule without leaving out the keys of views).
    manifest = dbt_project(Settings.from_env()).manifest_path
    critical = sorted(critical_test_names(manifest))
    nodes = json.loads(manifest.read_text())["nodes"].values()
    before = sorted(n["name"] for n in nodes if n["resource_type"] == "test" and is_critical(n))
    warehouse = prepare(args.base, args.work, args.orders, args.date, args.seed)
    with scoped_to_batches(connector(warehouse), True):
        micro = dbt(
            ["build", "--select", "resource_type:model", *critical, "--exclude", *FINANCE, "config.materialized:view"]
            + ["--indirect-selection", "empty", "--exclude-resource-type", "unit_test"],
            warehouse,
            args.work / "target-micro",
        )
    whole = dbt(["test", "--select", *before, "--exclude", *FINANCE], warehouse, args.work / "target-whole")
    if not args.keep:
        shutil.rmtree(args.work / "wh")
    write(args, micro, whole)


def write(args, micro: list[dict], whole: list[dict]) -> None:
    def tests(results):
        return {r["unique_id"].split(".")[2]: r for r in results if r["unique_id"].startswith("test.")}

    scoped, full = tests(micro), tests(whole)
    models = sum(r["execution_time"] for r in micro if r["unique_id"].startswith("model."))
    names = sorted(scoped, key=lambda n: -full[n]["execution_time"])
    total_scoped = sum(scoped[n]["execution_time"] for n in names)
    total_whole = sum(full[n]["execution_time"] for n in names)
    total_before = sum(r["execution_time"] for r in full.values())
    views = sorted((n for n in full if n not in scoped), key=lambda n: -full[n]["execution_time"])
    failed = sorted(n for n, r in {**scoped, **full}.items() if r["status"] != "pass")
    lines = [
        "# The micro-batch's key and invariant tests: scoped to the batch vs whole tables",
        "",
        f"Measured with `bench/scoped_checks.py --base {args.base} --orders {args.orders} --date {args.date} "
        f"--seed {args.seed}` on {machine()}; load average {os.getloadavg()[0]:.1f} at the end (shared, noisy).",
        "",
        "One warehouse: a copy of the 30-day warehouse after its nightly rebuild (600k orders), plus a new day's "
        f"{args.orders} orders loaded. The micro-batch (`dbt build` of the hot-path models and the critical tests, "
        "scoped) ran first; the baseline is the same tests on the warehouse it left, reading whole tables, as "
        "every micro-batch ran them before. dbt's own timings (run_results.json).",
        "",
        "| | seconds (sum of dbt's test timings) | / baseline |",
        "|---|---:|---:|",
        f"| baseline: the {len(full)} tests every micro-batch ran before, whole tables | {total_before:.1f} s | 1.00× |",
        f"| the {len(names)} it keeps, whole tables | {total_whole:.1f} s | {total_whole / total_before:.2f}× |",
        f"| the {len(names)} it keeps, scoped to the batch (now) | {total_scoped:.1f} s | "
        f"{total_scoped / total_before:.2f}× |",
        f"| for scale: the micro-batch's models | {models:.1f} s | |",
        "",
        f"The {len(views)} keys of views that moved to the checks job cost "
        f"{sum(full[n]['execution_time'] for n in views):.1f} s whole; the dearest: "
        + ", ".join(f"`{n[:60]}` {full[n]['execution_time']:.1f} s" for n in views[:3])
        + ".",
        "",
        "Per test (the ten dearest whole):",
        "",
        "| test | whole | scoped |",
        "|---|---:|---:|",
    ]
    for name in names[:10]:
        s = scoped.get(name, {}).get("execution_time")
        lines.append(f"| `{name[:70]}` | {full[name]['execution_time']:.2f} s | {'' if s is None else f'{s:.2f} s'} |")
    lines += ["", f"Tests not passing: {', '.join(failed) if failed else 'none'}.", ""]
    out = ROOT / "bench" / "results" / "scoped_checks.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
