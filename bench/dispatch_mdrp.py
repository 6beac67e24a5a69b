"""The Grubhub meal-delivery (MDRP) instances replayed under every dispatch policy, in one run.

    .venv/bin/python bench/dispatch_mdrp.py [--out bench/results/dispatch_mdrp.md] [--capacity 3]

Reads every instance folder under shared/data/delivery/grubhub_mdrp, simulates the day under the
greedy baseline and the rolling-horizon policy (dispatch.mdrp), re-checks each run's accounting
(`check_run`) and prints / writes one table. A per-instance bound is computed beside them: every
order picked up the minute it is ready, by a courier already waiting, and driven straight to the
customer; no policy can beat its click-to-door, so it shows how much of the gap is dispatch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from dispatch.mdrp import POLICIES, Simulation, check_run, metrics, read_instance
from dispatch.mdrp.instance import Instance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dispatch_common import SHARED_DATA, machine  # noqa: E402


def bound(instance: Instance) -> dict:
    p = instance.params
    click = [
        o.ready - o.placement + p.pickup_service + instance.minutes(instance.restaurants[o.restaurant].at, o.at)
        for o in instance.orders.values()
    ]
    km = sum(instance.metres(instance.restaurants[o.restaurant].at, o.at) for o in instance.orders.values()) / 1000
    return {
        "on_time_pct": round(100 * sum(c <= p.target_click_to_door for c in click) / len(click), 2),
        "ctd_mean": round(statistics.fmean(click), 2),
        "ctd_median": float(statistics.median(click)),
        "km_per_order": round(km / len(click), 3),
    }


def row(name: str, policy: str, m: dict, seconds: float) -> str:
    ctd, rtd = m["click_to_door_min"], m["ready_to_door_min"]
    reasons = "; ".join(f"{n} {r}" for r, n in m["undelivered_reasons"].items()) or "-"
    return (
        f"| {name} | {policy} | {m['orders']} | {m['delivered']} | {reasons} | {m['on_time_pct']} | "
        f"{ctd['mean']} / {ctd['median']} / {ctd['p90']} | {rtd['mean']} / {rtd['median']} | "
        f"{m['orders_per_courier_hour']} | {m['km_per_order']} | {m['orders_per_trip']} | "
        f"{m['cost_per_order']} | {m['preparation_share_of_click_to_door']} | {seconds:.2f} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "delivery" / "grubhub_mdrp")
    ap.add_argument("--capacity", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="also write the report to this markdown file")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"MDRP instances not found at {args.data}", file=sys.stderr)
        return 2
    folders = sorted(p for p in args.data.iterdir() if (p / "orders.txt").exists())
    lines = [
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; capacity {args.capacity} orders/trip; "
        f"{len(folders)} instances from `{args.data.name}`.",
        "",
        "| instance | policy | orders | delivered | undelivered (reason) | on-time % | click-to-door mean / median / p90 "
        "(min) | ready-to-door mean / median | orders per courier-hour | km per order | orders per trip | "
        "pay per order ($) | preparation share of click-to-door | run s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    bounds = []
    for folder in folders:
        instance = read_instance(folder)
        for policy in POLICIES:
            started = time.perf_counter()
            run = Simulation(instance, args.capacity).run(POLICIES[policy]())
            seconds = time.perf_counter() - started
            problems = check_run(run)
            if problems:
                print(f"{folder.name}/{policy}: accounting broken: {problems[:5]}", file=sys.stderr)
                return 1
            lines.append(row(folder.name, policy, metrics(run), seconds))
        b = bound(instance)
        bounds.append(
            f"| {folder.name} | {b['on_time_pct']} | {b['ctd_mean']} / {b['ctd_median']} | {b['km_per_order']} |"
        )
    lines += [
        "",
        "Bound (every order picked up the minute it is ready, driven straight to its customer; no policy does better):",
        "",
        "| instance | on-time % at most | click-to-door mean / median at least | km per order at least "
        "(restaurant to customer only) |",
        "|---|---|---|---|",
        *bounds,
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(
            args.out.read_text().split("<!-- run -->")[0] + "<!-- run -->\n\n" + report + "\n"
            if args.out.exists()
            else report + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
