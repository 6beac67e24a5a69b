"""Ingestion throughput and memory: `run_batch` on a simulated day against plain parsing of the same files.

Both run in the same command on the same files: the baseline reads each order file and parses every record
and nothing else (orjson.loads per JSON line, csv.reader per CSV row), so the ratio (parse time over load
time, for the same files) says how close the loader comes to the parse limit (target: at least 1/3). The
load also reads the day's reference files and statements, which the baseline does not parse (under a tenth
of the bytes). Peak memory is read from a child process that loads one big batch (`--rss-orders`, e.g.
1,000,000, simulated as days of `--rss-day-orders`; target < 3 GiB), first in one transaction (the baseline)
and then in commit groups of each `--rss-commit-mb`: the child is stopped if it passes `--rss-cap-gib`, so
the bench cannot take the machine down.

`--landing DIR` loads an existing landing folder instead of simulating one. `--baseline-code DIR` (a source
tree, e.g. a `git archive` of an older commit) compares two versions of the loader on it: each run is a fresh
process per tree (PYTHONPATH=the tree), alternating `--runs` times, each timing the plain parse and the load
in the same process, with the machine's load average beside it (on a shared machine only runs side by side
compare).

    .venv/bin/python bench/ingest_throughput.py [--orders 100000] [--rss-orders 1000000]
    .venv/bin/python bench/ingest_throughput.py --rss-only --rss-orders 1000000 --rss-landing /scratch/ingest1m
    .venv/bin/python bench/ingest_throughput.py --landing /work/scratch/d20/landing --baseline-code /tmp/before --runs 3
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

import ingestion
from ingestion import addresses, warehouse
from ingestion.file_reads import COMMIT_MB_DEFAULT
from ingestion.landing import discover
from ingestion.loader import run_batch
from simulator import simulate_day

DAY = dt.date(2026, 11, 26)


def machine() -> str:
    model = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def plain_parse(landing: Path) -> tuple[int, float]:
    """Every order record parsed once and thrown away. Returns (records, seconds)."""
    records = 0
    started = time.perf_counter()
    for file in discover(landing):
        if file.kind != "orders":
            continue
        text = file.path.read_bytes().decode("utf-8-sig")
        if file.path.suffix == ".csv":
            records += sum(1 for _ in csv.reader(io.StringIO(text))) - 1
            continue
        for line in text.splitlines():
            if line.strip():
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    pass
                records += 1
    return records, time.perf_counter() - started


def load(landing: Path, db: Path) -> tuple[dict, float]:
    con = warehouse.connect(db)
    started = time.perf_counter()
    result = run_batch(con, landing)
    seconds = time.perf_counter() - started
    con.close()
    counts = {ch: c for ch, c in result.counts.items() if not ch.startswith(("reference/", "settlement/"))}
    return counts, seconds


def child_load(landing: Path) -> None:
    """Runs in the child: load the day, print records, seconds and peak RSS (MiB)."""
    with tempfile.TemporaryDirectory() as tmp:
        counts, seconds = load(landing, Path(tmp) / "orderhub.duckdb")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        orjson.dumps(
            {"records": sum(c.landed for c in counts.values()), "seconds": seconds, "peak_mib": peak_mib}
        ).decode()
    )


def child_throughput(landing: Path) -> None:
    """Runs in a child: plain parse and load of `landing` in one fresh process; prints one JSON line."""
    parse_records, parse_s = plain_parse(landing)
    with tempfile.TemporaryDirectory() as tmp:
        con = warehouse.connect(Path(tmp) / "orderhub.duckdb")
        cpu0, thread0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
        result = run_batch(con, landing)
        load_s, load_cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
        main_cpu_s = time.thread_time() - thread0
        con.close()
    out = {
        "code": str(Path(ingestion.__file__).resolve().parents[1]),
        "parse_records": parse_records,
        "parse_s": parse_s,
        "records": sum(c.landed for ch, c in result.counts.items() if not ch.startswith(("reference/", "settlement/"))),
        "load_s": load_s,
        "load_cpu_s": load_cpu_s,
        # The loader's own thread: Python, polars and what DuckDB runs on the caller's thread.
        "main_cpu_s": main_cpu_s,
        "loadavg": os.getloadavg()[0],
    }
    print(orjson.dumps(out).decode())


def compare_trees(landing: Path, baseline: Path, runs: int) -> str:
    """This tree and `baseline` alternately, `runs` times each, one fresh process per run."""
    here = Path(__file__).resolve().parents[1]
    rows, ratios = [], {"before": [], "after": []}
    for run in range(runs):
        for name, code in (("before", baseline.resolve()), ("after", here)):
            env = {**os.environ, "PYTHONPATH": str(code)}
            out = subprocess.run(
                [sys.executable, __file__, "--child-throughput", str(landing.resolve())],
                env=env,
                cwd=code,
                capture_output=True,
                text=True,
                check=True,
            )
            result = orjson.loads(out.stdout.strip().splitlines()[-1])
            if Path(result["code"]) != code:
                raise SystemExit(f"the {name} run imported the loader from {result['code']}, not {code}")
            ratio = result["parse_s"] / result["load_s"]
            ratios[name].append(ratio)
            rows.append(
                f"| {run + 1} | {name} | {result['parse_s']:.2f} | {result['load_s']:.2f} | {result['load_cpu_s']:.2f} | "
                f"{result['main_cpu_s']:.2f} | "
                f"{ratio:.3f} | {result['loadavg']:.1f} |"
            )
            print(rows[-1], flush=True)
    header = (
        f"{landing}: {result['parse_records']:,} order records parsed, {result['records']:,} records loaded\n"
        f"before = {baseline.resolve()}, after = {here}\n\n"
        "| run | tree | plain parse (s) | run_batch (s) | its CPU, all threads (s) | its CPU, loader thread (s) | "
        "parse / load | load avg (1 min) |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|\n"
    )
    summary = "\n".join(
        f"{name}: parse / load median {sorted(r)[len(r) // 2]:.3f} (runs: {', '.join(f'{x:.3f}' for x in r)})"
        for name, r in ratios.items()
    )
    return header + "\n".join(rows) + "\n\n" + summary


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def simulate_days(orders: int, per_day: int, seed: int, landing: Path) -> None:
    """`orders` orders as consecutive days of `per_day`, each simulated in its own process: the simulator
    holds a day's world in memory (about 2 GiB per 100,000 orders), so a 1M-order day at once would not fit."""
    days = -(-orders // per_day)
    for n in range(days):
        day_orders = min(per_day, orders - n * per_day)
        code = (
            "import datetime as dt, pathlib, simulator; "
            f"simulator.simulate_day(dt.date.fromisoformat('{DAY + dt.timedelta(days=n)}'), orders={day_orders}, "
            f"seed={seed + n}, out=pathlib.Path({str(landing)!r}))"
        )
        subprocess.run([sys.executable, "-c", code], check=True)


def rss_landing(orders: int, per_day: int, seed: int, keep: Path | None, tmp: Path) -> tuple[Path, str]:
    """The big batch's landing zone: `keep` when it already holds orders (simulating 1M orders takes
    minutes: simulate once, reuse), else simulated there (or in `tmp`)."""
    landing = keep or tmp / "landing"
    if (landing / "orders").is_dir():
        return landing, f"reused {landing}"
    t0 = time.perf_counter()
    simulate_days(orders, per_day, seed, landing)
    return landing, f"simulated in {time.perf_counter() - t0:.0f} s as days of {per_day:,}"


def child_peak(landing: Path, commit_mb: float, cap_gib: float) -> dict:
    """Load `landing` as one batch in a fresh process committing every `commit_mb` MB; its peak RSS, watched
    from outside too, and stopped above `cap_gib` so the bench cannot take the machine down."""
    env = {**os.environ, "ORDERHUB_COMMIT_MB": str(commit_mb)}
    t0 = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--child-load", str(landing)], stdout=subprocess.PIPE, text=True, env=env
    )
    watched = 0.0
    while child.poll() is None:
        watched = max(watched, _rss_mib(child.pid))
        if watched > cap_gib * 1024:
            child.kill()
            child.wait()
            return {"stopped_after": time.perf_counter() - t0, "peak_mib": watched}
        time.sleep(0.5)
    if child.returncode != 0:
        raise RuntimeError(f"the loading child failed (exit {child.returncode})")
    out = orjson.loads(child.stdout.read().strip().splitlines()[-1]) if child.stdout else {}
    return {**out, "peak_mib": max(out["peak_mib"], watched)}


def peak_rss(args: argparse.Namespace) -> str:
    """The same big batch loaded in one transaction (the baseline: a commit budget no batch reaches) and in
    commit groups of each `--rss-commit-mb`, one after the other."""
    with tempfile.TemporaryDirectory() as tmp:
        landing, how = rss_landing(args.rss_orders, args.rss_day_orders, args.seed, args.rss_landing, Path(tmp))
        size_mib = sum(f.stat().st_size for f in (landing / "orders").rglob("*") if f.is_file()) / 1048576
        budgets = [("one transaction (baseline)", 1e9)] if not args.rss_skip_baseline else []
        budgets += [(f"commit groups of {mb:g} MB", mb) for mb in args.rss_commit_mb]
        rows = []
        for name, mb in budgets:
            run = child_peak(landing, mb, args.rss_cap_gib)
            if "stopped_after" in run:
                rows.append(
                    f"| {name} | stopped above {args.rss_cap_gib:g} GiB after {run['stopped_after']:.0f} s | | |"
                )
            else:
                rate = run["records"] / run["seconds"]
                rows.append(
                    f"| {name} | {run['records']:,} records in {run['seconds']:.1f} s | {rate:,.0f} | "
                    f"{run['peak_mib'] / 1024:.2f} |"
                )
            print(rows[-1], flush=True)
    header = (
        f"{args.rss_orders:,} orders in one batch ({how}; {size_mib:,.0f} MiB of order files)\n\n"
        "| load | records | records/s | peak RSS (GiB) |\n|---|---|---:|---:|\n"
    )
    return header + "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rss-orders", type=int, default=0, help="also measure peak RSS loading a day this big")
    parser.add_argument("--rss-day-orders", type=int, default=100_000, help="the big batch is days of this many")
    parser.add_argument("--rss-cap-gib", type=float, default=8.0)
    parser.add_argument(
        "--rss-commit-mb", type=float, nargs="+", default=[COMMIT_MB_DEFAULT], help="commit budgets to measure"
    )
    parser.add_argument("--rss-landing", type=Path, help="simulate the big batch here once and reuse it")
    parser.add_argument("--rss-skip-baseline", action="store_true", help="leave out the one-transaction load")
    parser.add_argument("--rss-only", action="store_true", help="leave out the throughput part")
    parser.add_argument("--landing", type=Path, help="load this landing folder instead of simulating a day")
    parser.add_argument("--baseline-code", type=Path, help="a source tree to compare with, run by run")
    parser.add_argument("--runs", type=int, default=2, help="runs per tree with --baseline-code")
    parser.add_argument("--child-load", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-throughput", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_load:
        child_load(args.child_load)
        return
    if args.child_throughput:
        child_throughput(args.child_throughput)
        return

    print(f"machine: {machine()}")
    if args.rss_only:
        print(peak_rss(args), flush=True)
        return
    if args.baseline_code:
        if not args.landing:
            parser.error("--baseline-code needs --landing (both trees load the same files)")
        print(compare_trees(args.landing, args.baseline_code, args.runs), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        landing = args.landing or root / "landing"
        if not args.landing:
            t0 = time.perf_counter()
            simulate_day(DAY, orders=args.orders, seed=args.seed, out=landing)
            print(f"simulated {args.orders:,} orders in {time.perf_counter() - t0:.1f} s")
        parse_records, parse_s = plain_parse(landing)
        addresses.clear_caches()
        counts, ours_s = load(landing, root / "orderhub.duckdb")

    records = sum(c.landed for c in counts.values())
    parse_rate, ours_rate = parse_records / parse_s, records / ours_s
    print()
    print(f"| {'step':<52} | {'records':>9} | {'seconds':>8} | {'records/s':>10} | {'of parse':>8} |")
    print(f"|{'-' * 54}|{'-' * 11}|{'-' * 10}|{'-' * 12}|{'-' * 10}|")
    print(
        f"| {'plain parse (orjson.loads per line, csv.reader)':<52} | {parse_records:>9,} | {parse_s:>8.2f} | "
        f"{parse_rate:>10,.0f} | {1.0:>8.2f} |"
    )
    print(
        f"| {'run_batch (normalise, dedupe, write, one transaction)':<52} | {records:>9,} | {ours_s:>8.2f} | "
        f"{ours_rate:>10,.0f} | {parse_s / ours_s:>8.2f} |"
    )
    loaded, quarantined, duplicate = (
        sum(getattr(c, f) for c in counts.values()) for f in ("loaded", "quarantined", "duplicate")
    )
    print(f"\norder records: loaded {loaded:,}, quarantined {quarantined:,}, duplicates {duplicate:,}")
    for name, (hits, misses) in addresses.cache_stats().items():
        print(f"address cache ({name}): {hits:,} hits, {misses:,} misses, hit rate {hits / max(1, hits + misses):.1%}")
    if args.rss_orders:
        print(peak_rss(args), flush=True)


if __name__ == "__main__":
    main()
