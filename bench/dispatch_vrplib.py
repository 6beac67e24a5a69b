"""VRPLIB benchmark of the dispatch solvers: every CVRP and Solomon VRPTW instance in shared/data/vrp,
solved by PyVRP, OR-Tools and the greedy baseline at the same time limit, against best-known costs.

    .venv/bin/python bench/dispatch_vrplib.py [--time-limit 30] [--seed 1] [--out bench/results/dispatch_vrplib.md]

Best-known costs come from each instance's `.sol` (`Cost N` line) or, where there is none, from
shared/data/vrp/BKS.md. Cost conventions are those of `dispatch.vrplib_runner` (CVRPLIB: rounded
Euclidean; Solomon: DIMACS, one decimal truncated). Gap = (cost - best known) / best known.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import vrplib

from dispatch.vrplib_runner import read_best_known, solve_instance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dispatch_common import SHARED_DATA, machine, versions  # noqa: E402

SOLVERS = ("pyvrp", "ortools", "greedy")


def bks_table(md: Path) -> dict[str, tuple[float, int | None]]:
    """instance -> (best-known cost, vehicles or None) from the tables in BKS.md."""
    out: dict[str, tuple[float, int | None]] = {}
    if not md.exists():
        return out
    for line in md.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not re.match(r"^[A-Z]+[0-9-]", cells[0]):
            continue
        numbers = [c for c in cells[1:] if re.fullmatch(r"[0-9]+(\.[0-9]+)?", c)]
        if cells[0].startswith(("C1", "R1", "RC1")):  # VRPTW rows: customers, capacity, BKS, ..., vehicles
            out[cells[0]] = (float(numbers[2]), int(cells[-1]))
        else:  # CVRP rows: customers, capacity, BKS, proven
            out[cells[0]] = (float(numbers[2]), None)
    return out


def best_known(path: Path, table: dict[str, tuple[float, int | None]]) -> tuple[float | None, int | None]:
    sol = path.with_suffix(".sol")
    if sol.exists():
        return read_best_known(sol), len(vrplib.read_solution(str(sol))["routes"])
    cost, vehicles = table.get(path.stem, (None, None))
    return cost, vehicles


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "vrp")
    ap.add_argument("--out", type=Path, default=None, help="also write the report to this markdown file")
    ap.add_argument("--only", nargs="*", default=None, help="instance names to run (default: all)")
    args = ap.parse_args()

    if not args.data.exists():
        print(f"VRP data not found at {args.data} (expected ../shared/data/vrp beside the project); nothing to run")
        return 1
    instances = sorted((args.data / "cvrp").glob("*.vrp")) + sorted((args.data / "vrptw").glob("*.txt"))
    if args.only:
        instances = [p for p in instances if p.stem in args.only]
    table = bks_table(args.data / "BKS.md")

    lines = [
        f"# Dispatch solvers on VRPLIB instances — {dt.date.today().isoformat()}",
        "",
        f"Machine: {machine()}; {versions()}.",
        f"Time limit {args.time_limit:g} s per instance and solver (greedy needs milliseconds), seed {args.seed}.",
        "CVRP: rounded Euclidean distances (CVRPLIB). VRPTW (Solomon): DIMACS convention, distances and times x10",
        "truncated, cost /10. Gap = (cost - best known) / best known. 'veh' = routes used; for VRPTW the",
        "best-known solution's route count is in 'BKS veh'. '—' = no complete feasible solution.",
        "",
        "| instance | best known | BKS veh | "
        + " | ".join(f"{s} cost | {s} gap % | {s} s | {s} veh" for s in SOLVERS)
        + " |",
        "|---|---:|---:|" + "---:|---:|---:|---:|" * len(SOLVERS),
    ]
    print("\n".join(lines), flush=True)
    gaps: dict[str, list[float]] = {s: [] for s in SOLVERS}
    cvrp_complete: dict[str, bool] = {s: True for s in SOLVERS}
    for path in instances:
        bks, bks_veh = best_known(path, table)
        cells = [
            path.stem,
            f"{bks:g}" if bks is not None else "?",
            str(bks_veh) if bks_veh and path.suffix == ".txt" else "",
        ]
        for solver in SOLVERS:
            res = solve_instance(path, args.time_limit, args.seed, solver)
            cost = res["cost"] if res["feasible"] else None
            gap = (cost - bks) / bks * 100 if cost is not None and bks else None
            if path.suffix == ".vrp":
                if gap is None:
                    cvrp_complete[solver] = False
                else:
                    gaps[solver].append(gap)
            cells += [
                f"{cost:.1f}" if cost is not None else "—",
                f"{gap:.2f}" if gap is not None else "—",
                f"{res['runtime_s']:.1f}",
                str(res["vehicles"]),
            ]
        row = "| " + " | ".join(cells) + " |"
        lines.append(row)
        print(row, flush=True)

    lines += ["", "Mean CVRP gap per solver:", ""]
    for solver in SOLVERS:
        g = gaps[solver]
        note = "" if cvrp_complete[solver] else " (over the instances it solved)"
        lines.append(f"- {solver}: {sum(g) / len(g):.2f} % over {len(g)} instances{note}" if g else f"- {solver}: —")
    print("\n".join(lines[-len(SOLVERS) - 3 :]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
        print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
