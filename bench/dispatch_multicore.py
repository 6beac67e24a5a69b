"""What a second core buys PyVRP on the Shanghai replay's own problems: one search against the best of two
searches with different seeds run at once (`RoutingConfig.workers`), with the same wall budget per tick.

    .venv/bin/python bench/dispatch_multicore.py [--sites 8] [--largest 40] [--budgets 0.25 1.0] [--out FILE]

The problems are the ticks of the rolling replay (`bench/dispatch_shanghai_replay.py`, 5-minute ticks): every
tick's waiting parcels and riders, encoded as the dispatcher encodes them. The largest ones (by parcels)
are solved again with a fixed time budget and no early stop, once with 1 worker and once with 2, for
several seeds; reported: the objective reached (PyVRP cost: metres plus the prize of every parcel left out)
and the wall time of each call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from dispatch import RoutingConfig
from dispatch.encoding import encode
from dispatch.parallel import best_of, shutdown
from dispatch.rolling import TickDecision, plan_day_rolling
from dispatch.solver_pyvrp import search

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dispatch_shanghai_replay as replay  # noqa: E402
from dispatch_common import SHARED_DATA, machine, versions  # noqa: E402


def tick_problems(sites, orders, site_ids, config):
    """(parcel count, RoutingProblem) of every tick of the default rolling replay."""
    problems = []
    for site_id in site_ids:
        store = sites[site_id]
        site_orders = [o for o in orders if o.site == site_id]
        parcels = {p.parcel_id: p for p in map(replay.to_parcel, site_orders)}
        riders = replay.site_riders(site_id, store, len(site_orders))

        def seen(d: TickDecision, store=store, parcels=parcels) -> None:
            ids = [s.parcel_id for r in d.leave_now for s in r.stops] + d.waiting + [p for p, _ in d.unassignable]
            sp = encode(store, [parcels[i] for i in ids], d.riders, config, d.now)
            if sp.parcels:
                problems.append((len(sp.parcels), sp.problem))

        plan_day_rolling(list(parcels.values()), riders, [store], 5, config, on_tick=seen)
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=8)
    ap.add_argument("--largest", type=int, default=40, help="re-solve the N largest tick problems")
    ap.add_argument("--budgets", type=float, nargs="+", default=[0.25, 1.0], help="wall seconds per solve")
    ap.add_argument("--seeds", type=int, default=3, help="repetitions with different seeds")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    data = SHARED_DATA / "delivery" / "tianchi_lastmile_shanghai"
    if not data.exists():
        print(f"Shanghai data not found at {data}")
        return 1
    sites, orders = replay.load(data)
    site_ids = [s for s, _ in Counter(o.site for o in orders).most_common(args.sites)]
    config = RoutingConfig(time_limit_s=1.0, seed=1, no_improvement_iters=2000)
    problems = tick_problems(sites, orders, site_ids, config)
    sizes = [n for n, _ in problems]
    chosen = sorted(problems, key=lambda x: -x[0])[: args.largest]
    best_of(search, chosen[0][1], 0.05, 1, None, 2)  # start the worker process outside the timings

    lines = [
        f"# PyVRP on 2 cores: best of 2 parallel searches vs 1 — {dt.date.today().isoformat()}",
        "",
        f"Machine: {machine()}; {versions()}.",
        f"Problems: the {len(problems)} tick problems of the rolling replay (5-min ticks, {len(site_ids)} busiest",
        f"sites; parcels per tick median {statistics.median(sizes):g}, max {max(sizes)}); re-solved: the"
        f" {len(chosen)} largest ({chosen[-1][0]}-{chosen[0][0]} parcels), seeds 1..{args.seeds}, fixed budget, no early stop.",
        "",
        "| budget s | workers | mean objective | better than 1 worker | worse | same | mean wall s | max wall s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for budget in args.budgets:
        ones, twos, walls = [], [], {1: [], 2: []}
        for _, problem in chosen:
            for seed in range(1, args.seeds + 1):
                t = time.perf_counter()
                one, _ = search(problem, budget, seed, None)
                walls[1].append(time.perf_counter() - t)
                t = time.perf_counter()
                two = min(c for c, _ in best_of(search, problem, budget, seed, None, 2))
                walls[2].append(time.perf_counter() - t)
                ones.append(one)
                twos.append(two)
        better = sum(b < a for a, b in zip(ones, twos))
        worse = sum(b > a for a, b in zip(ones, twos))
        for w, objs in ((1, ones), (2, twos)):
            lines.append(
                f"| {budget:g} | {w} | {statistics.mean(objs):,.0f} | {better if w == 2 else '—'} |"
                f" {worse if w == 2 else '—'} | {len(ones) - better - worse if w == 2 else '—'} |"
                f" {statistics.mean(walls[w]):.3f} | {max(walls[w]):.3f} |"
            )
        print("\n".join(lines[-2:]), flush=True)
    shutdown()
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
