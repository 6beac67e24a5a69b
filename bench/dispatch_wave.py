"""Wave-size benchmark: how long it takes to plan one big store wave — 300 parcels, 40 riders — with
PyVRP at a few time limits, OR-Tools, and the greedy dispatcher, and what each plan is worth.

    .venv/bin/python bench/dispatch_wave.py [--seed 1] [--limits 1 2 5] [--out bench/results/dispatch_wave.md]

The wave is synthetic (seeded): a store at People's Square, parcels uniform in a 5 km disc around it,
65 % ambient / 25 % chilled / 10 % frozen, 0.3-5 kg and 1-8 litres each, ready now or within 10 minutes,
promised within 45-120 minutes; 40 riders of 25 kg, half with a 40-litre cold box, 4-hour shifts, all at
the store. Planning time is wall-clock time of `plan_routes` (model building, search and plan assembly);
target < 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
from collections import Counter
from pathlib import Path

from dispatch import Parcel, Rider, RoutingConfig, Store, plan_routes, validate_plan

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dispatch_common import machine, versions  # noqa: E402

T0 = dt.datetime(2026, 11, 26, 17, 0)
STORE = Store("S-peoples-square", 31.2304, 121.4737)


def wave(seed: int, n_parcels: int = 300, n_riders: int = 40) -> tuple[list[Parcel], list[Rider]]:
    rng = random.Random(seed)
    parcels = []
    for i in range(n_parcels):
        r_km, theta = 5 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        lat = STORE.lat + r_km * math.cos(theta) / 111.195
        lng = STORE.lng + r_km * math.sin(theta) / (111.195 * math.cos(math.radians(STORE.lat)))
        zone = rng.choices(["ambient", "chilled", "frozen"], weights=[65, 25, 10])[0]
        parcels.append(
            Parcel(
                f"P{i:03d}",
                STORE.store_id,
                lat,
                lng,
                rng.randint(300, 5000),
                rng.randint(1000, 8000),
                zone,  # type: ignore[arg-type]
                ready_at=T0 + dt.timedelta(minutes=rng.choice([0, 0, 5, 10])),
                promised_to=T0 + dt.timedelta(minutes=rng.randint(45, 120)),
            )
        )
    riders = [
        Rider(
            f"R{j:02d}",
            STORE.store_id,
            STORE.lat,
            STORE.lng,
            T0,
            T0 + dt.timedelta(hours=4),
            25_000,
            40_000 if j % 2 == 0 else 0,
        )
        for j in range(n_riders)
    ]
    return parcels, riders


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limits", type=float, nargs="*", default=[1.0, 2.0, 5.0], help="PyVRP time limits (s)")
    ap.add_argument("--ortools-limit", type=float, default=5.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    parcels, riders = wave(args.seed)
    runs = [("greedy", 1.0)] + [("pyvrp", t) for t in args.limits] + [("ortools", args.ortools_limit)]
    lines = [
        f"# Wave benchmark: 300 parcels, 40 riders — {dt.date.today().isoformat()}",
        "",
        f"Machine: {machine()}; {versions()}. Seed {args.seed}.",
        "Synthetic wave: parcels in a 5 km disc around one store, 35 % cold, promises 45-120 min; 40 riders",
        "(25 kg, half with a 40 l cold box). Planning time = wall clock of `plan_routes`, target < 10 s.",
        "",
        "| solver | time limit s | planning time s | delivered | unassigned (reason: n) | riders used | total km"
        " | km / delivered | objective | validator |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    print("\n".join(lines), flush=True)
    for solver, limit in runs:
        config = RoutingConfig(time_limit_s=limit, seed=args.seed)
        plan = plan_routes(parcels, riders, [STORE], config, solver)  # type: ignore[arg-type]
        errors = validate_plan(plan, parcels, riders, config, [STORE])
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(Counter(r for _, r in plan.unassigned).items())) or "—"
        delivered = len(plan.assigned_ids)
        row = (
            f"| {solver} | {'—' if solver == 'greedy' else f'{limit:g}'} | {plan.runtime_s:.2f} | {delivered} |"
            f" {reasons} | {len(plan.routes)} | {plan.distance_m / 1000:.1f} |"
            f" {plan.distance_m / 1000 / max(1, delivered):.2f} | {plan.objective:.0f} |"
            f" {'ok' if not errors else f'{len(errors)} violations'} |"
        )
        lines.append(row)
        print(row, flush=True)
    lines += ["", "Objective = metres ridden + 1,000,000 per unassigned parcel (the solvers' shared objective)."]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
        print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
