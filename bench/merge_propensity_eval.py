"""Merge propensity: how well does int_merging__propensity predict a follow-up order on held-out days?

Simulates consecutive days for the same customers, loads them, builds the dbt model, and scores each day's
predictions (made from earlier days only) against what happened that day. The baseline is the global
follow-up rate of the earlier days (what a fixed window implicitly assumes for everyone).

    .venv/bin/python bench/merge_propensity_eval.py [--days 8] [--orders 8000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

from ingestion import warehouse
from ingestion.loader import run_batch
from simulator import simulate_day

ROOT = Path(__file__).resolve().parent.parent

SCORES = """
with scored as (
    select f.business_date, f.followed_up::int as y, p.propensity as p, p.global_rate as g, p.history_orders
    from intermediate.int_merging__followups f
    join intermediate.int_merging__propensity p using (customer_id, business_date)
    where p.global_rate is not null
),
ranked as (
    select *, rank() over (partition by business_date order by p) as r,
           count(*) filter (where y = 1) over (partition by business_date) as pos,
           count(*) filter (where y = 0) over (partition by business_date) as neg
    from scored
)
select
    business_date,
    count(*) as orders,
    avg(y) as followup_rate,
    avg(power(p - y, 2)) as brier_model,
    avg(power(g - y, 2)) as brier_baseline,
    -avg(y * ln(greatest(p, 1e-6)) + (1 - y) * ln(greatest(1 - p, 1e-6))) as logloss_model,
    -avg(y * ln(greatest(g, 1e-6)) + (1 - y) * ln(greatest(1 - g, 1e-6))) as logloss_baseline,
    -- Mann-Whitney AUC from ranks (ties get the lower rank; close enough for a report).
    (sum(r) filter (where y = 1) - any_value(pos) * (any_value(pos) + 1) / 2) / (any_value(pos) * any_value(neg)) as auc_model,
    avg(history_orders) as mean_history_orders
from ranked
group by business_date
order by business_date
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--orders", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        landing = root / "landing"
        first = dt.date(2026, 11, 26) - dt.timedelta(days=args.days - 1)
        t0 = time.perf_counter()
        for offset in range(args.days):
            simulate_day(first + dt.timedelta(days=offset), orders=args.orders, seed=args.seed, out=landing)
        con = warehouse.connect(root / "wh.duckdb")
        run_batch(con, landing)
        con.close()
        rules = yaml.safe_load((ROOT / "config" / "rules.yml").read_text(encoding="utf-8"))
        env = dict(os.environ, ORDERHUB_WAREHOUSE=str(root / "wh.duckdb"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [
                str(dbt),
                "run",
                "--quiet",
                "--project-dir",
                str(ROOT / "dbt_project"),
                "--profiles-dir",
                str(ROOT / "dbt_project"),
                "--vars",
                json.dumps(rules),
                "--select",
                "+int_merging__propensity",
                "--target-path",
                str(root / "target"),
                "--log-path",
                str(root / "logs"),
            ],
            env=env,
            check=True,
        )
        prepare_s = time.perf_counter() - t0
        con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
        rows = con.execute(SCORES).fetchall()
        con.close()

    print(
        f"{args.days} simulated days × {args.orders:,} orders (seed {args.seed}), prepared in {prepare_s:.0f} s; "
        "each day scored with a model fitted on the days before it"
    )
    print()
    print(
        "| day | orders | follow-up rate | Brier model | Brier baseline | log loss model | log loss baseline | AUC model |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    totals = [0, 0.0, 0.0, 0.0, 0.0]
    for day, n, rate, bm, bb, lm, lb, auc, _ in rows:
        print(f"| {day} | {n:,} | {rate:.3f} | {bm:.4f} | {bb:.4f} | {lm:.4f} | {lb:.4f} | {auc:.3f} |")
        totals = [totals[0] + n, totals[1] + bm * n, totals[2] + bb * n, totals[3] + lm * n, totals[4] + lb * n]
    n = totals[0]
    print(
        f"| all | {n:,} | | {totals[1] / n:.4f} | {totals[2] / n:.4f} | {totals[3] / n:.4f} | {totals[4] / n:.4f} | |"
    )
    print()
    print(f"Brier skill vs the global-rate baseline: {1 - totals[1] / totals[2]:.1%} (positive = better than baseline)")


if __name__ == "__main__":
    main()
