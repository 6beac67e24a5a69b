"""Merge and split on a large day: the dbt merge models (models/intermediate/merging) and the split models
(int_parcels__items, the Python packer int_parcels__assignments, fct_parcels, fct_parcel_items,
fct_merge_savings_daily), time and peak memory, against a plain GROUP BY customer, address over the same
rows measured in the same run.

The raw rows are generated directly with numpy/polars (the simulator writes landing files, and ingesting
1M orders would dominate the run): the simulator's catalogue (weights, volumes, zones, popularity),
line-count and quantity mix; one day, 8 stores, orders // 5 customers with one or two addresses,
~12% follow-up orders 1-29 min after an earlier order of the same customer and address (half on
another channel), Meituan/Eleme orders with masked phones 40% of the time (so identity matching does
real work), 3% cancelled.

Each measured step runs as its own child process; its peak RSS is that child's (GNU time %M, else os.wait4).

    .venv/bin/python bench/parcels_merge_split.py [--orders 1000000] [--seed 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingestion.contract import raw_schema_ddl  # noqa: E402
from orchestration.defs.transform.dbt import location_flags  # noqa: E402
from orchestration.rules import dbt_vars  # noqa: E402
from simulator.shape import LINES_PER_ORDER_WEIGHTS, QUANTITY_WEIGHTS  # noqa: E402
from simulator.world import (  # noqa: E402
    MASTER_SEED,
    _build_products,
    _build_stores,
    product_popularity,
)

PROJECT_DIR = ROOT / "dbt_project"
RULES_FILE = ROOT / "config" / "rules.yml"
RESULTS = ROOT / "bench" / "results" / "parcels_merge_split.md"
DAY = dt.date(2026, 11, 26)
CHANNELS = ["app", "miniprogram", "meituan", "eleme", "groupbuy"]
CHANNEL_P = [0.25, 0.20, 0.30, 0.20, 0.05]
FOLLOW_UP_SHARE = 0.12
MASKED_SHARE = 0.40
CANCEL_SHARE = 0.03
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")

SPLIT_MODELS = [
    "int_parcels__items",
    "int_parcels__assignments",
    "fct_parcels",
    "fct_parcel_items",
    "fct_merge_savings_daily",
]


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def generate(n_orders: int, seed: int, warehouse: Path) -> dict[str, int]:
    """Write raw.orders and raw.order_lines for one day of `n_orders` delivery orders."""
    rng = np.random.default_rng(seed)
    products = _build_products(random.Random(MASTER_SEED))
    stores = _build_stores()
    popularity = product_popularity(products)

    n_customers = max(300, n_orders // 5)
    mobiles = (13900000000 + rng.choice(99_999_999, size=n_customers, replace=False)).astype(str)
    # One or two addresses per customer, each served by one store.
    second = rng.random(n_customers) < 0.10
    n_addresses = n_customers + int(second.sum())
    addr_store = rng.integers(0, len(stores), size=n_addresses)
    addr_admin = 310101 + rng.integers(0, 16, size=n_addresses) * 3
    addr_key = [f"{a}|道{i % 997}号{i // 997}栋{i % 31}室" for i, a in enumerate(addr_admin)]
    first_addr = np.arange(n_customers)
    second_addr = np.full(n_customers, -1)
    second_addr[np.flatnonzero(second)] = np.arange(n_customers, n_addresses)

    n_follow = int(round(n_orders * FOLLOW_UP_SHARE))
    n_base = n_orders - n_follow
    cust = rng.integers(0, n_customers, size=n_base)
    use_second = (second_addr[cust] >= 0) & (rng.random(n_base) < 0.3)
    addr = np.where(use_second, second_addr[cust], first_addr[cust])
    day0 = np.datetime64(DAY.isoformat()) - np.timedelta64(8, "h")  # local midnight in UTC
    created = day0 + (rng.integers(6 * 3600, 22 * 3600, size=n_base)).astype("timedelta64[s]")
    parent = rng.integers(0, n_base, size=n_follow)
    f_created = created[parent] + rng.integers(60, 29 * 60, size=n_follow).astype("timedelta64[s]")
    cust = np.concatenate([cust, cust[parent]])
    addr = np.concatenate([addr, addr[parent]])
    created = np.concatenate([created, f_created])
    channel_idx = rng.choice(len(CHANNELS), size=n_orders, p=CHANNEL_P)
    same_channel = rng.random(n_follow) < 0.5
    channel_idx[n_base:] = np.where(same_channel, channel_idx[parent], channel_idx[n_base:])
    channel = np.array(CHANNELS)[channel_idx]
    masked = np.isin(channel, ["meituan", "eleme"]) & (rng.random(n_orders) < MASKED_SHARE)
    mobile = pl.Series(mobiles[cust])
    last4 = mobile.str.slice(7, 4)
    phone = np.where(masked, (mobile.str.slice(0, 3) + "****" + last4).to_numpy(), mobile.to_numpy())
    surname = np.array(SURNAMES)[cust % len(SURNAMES)]
    title = np.where(cust % 2 == 0, "先生", "女士")
    status = np.where(rng.random(n_orders) < CANCEL_SHARE, "cancelled", "paid")
    ids = np.arange(n_orders)
    order_key = np.char.add(np.char.add(channel, ":B"), ids.astype(str))

    orders = pl.DataFrame(
        {
            "order_key": order_key,
            "channel": channel,
            "channel_order_id": np.char.add("B", ids.astype(str)),
            "store_id": np.array([s.store_id for s in stores])[addr_store[addr]],
            "channel_user_id": np.char.add("u", cust.astype(str)),
            "recipient_name": np.char.add(surname, title),
            "phone": phone,
            "phone_kind": np.where(masked, "masked", "mobile"),
            "phone_last4": last4.to_numpy(),
            "admin_code": addr_admin[addr].astype(str),
            "address_key": np.array(addr_key)[addr],
            "created_at": created.astype("datetime64[us]"),
            "paid_at": created.astype("datetime64[us]"),
            "status": status,
            "fulfilment_type": np.full(n_orders, "delivery"),
            "batch_id": np.full(n_orders, "bench"),
            "raw_hash": order_key,
        }
    )

    # Lines: the simulator's mix of lines per order (1..8) and quantity (1..4), SKUs by popularity.
    n_lines = (
        rng.choice(
            len(LINES_PER_ORDER_WEIGHTS),
            size=n_orders,
            p=np.array(LINES_PER_ORDER_WEIGHTS) / sum(LINES_PER_ORDER_WEIGHTS),
        )
        + 1
    )
    line_order = np.repeat(ids, n_lines)
    starts = np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    line_no = np.arange(len(line_order)) - starts + 1
    sku = rng.choice(len(products), size=len(line_order), p=popularity)
    qty = (
        rng.choice(len(QUANTITY_WEIGHTS), size=len(line_order), p=np.array(QUANTITY_WEIGHTS) / sum(QUANTITY_WEIGHTS))
        + 1
    )
    unit_w = np.array([p.weight_g for p in products])[sku]
    unit_v = np.array([p.volume_ml for p in products])[sku]
    lines = pl.DataFrame(
        {
            "order_key": order_key[line_order],
            "line_no": line_no.astype(np.int32),
            "sku_id": np.array([p.sku_id for p in products])[sku],
            "quantity": qty.astype(np.int32),
            "weight_g": (unit_w * qty).astype(np.int32),
            "volume_ml": (unit_v * qty).astype(np.int32),
            "temp_zone": np.array([p.temp_zone for p in products])[sku],
        }
    )

    con = duckdb.connect(str(warehouse))
    try:
        for statement in raw_schema_ddl():
            con.execute(statement)
        con.register("orders_df", orders.to_arrow())
        con.execute("insert into raw.orders by name select * from orders_df")
        con.register("lines_df", lines.to_arrow())
        con.execute("insert into raw.order_lines by name select * from lines_df")
        # The same customer's duplicate SKUs on one order would break the (order_key, line_no) key only if
        # line numbers repeated; they do not. Nothing else is needed: no events (status from the order).
        con.execute("checkpoint")
    finally:
        con.close()
    return {"orders": n_orders, "lines": len(lines), "customers": n_customers, "addresses": n_addresses}


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    seconds: float
    peak_mib: float
    rows: int | None = None
    note: str = ""


TIME_BIN = Path("/usr/bin/time")


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run `cmd` as a child; return (wall seconds, peak RSS MiB of that child, output).

    Peak RSS comes from GNU time (%M) when installed: it forks from a small process, whereas the
    ru_maxrss that os.wait4 reports for a child of this (large, after generating the data) process
    starts at our own RSS at fork time and so overstates small children.
    """
    report = None
    if TIME_BIN.exists():
        report = tempfile.NamedTemporaryFile(suffix=".time", delete=False)
        report.close()
        cmd = [str(TIME_BIN), "-f", "%M", "-o", report.name, *cmd]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    peak_mib = usage.ru_maxrss / 1024
    if report is not None:
        lines = Path(report.name).read_text().split()
        os.unlink(report.name)
        if lines and lines[-1].isdigit():
            peak_mib = int(lines[-1]) / 1024
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:5])} failed ({proc.returncode}):\n{text[-4000:]}")
    return seconds, peak_mib, text


SQL_CHILD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
con.execute("create schema if not exists bench")
t = time.perf_counter()
con.execute(sys.argv[2])
print(time.perf_counter() - t)
print(con.execute("select count(*) from " + sys.argv[3]).fetchone()[0])
"""


def sql_step(name: str, warehouse: Path, sql: str, table: str) -> Step:
    """One SQL statement in a fresh Python+DuckDB child. seconds = the statement alone (not start-up)."""
    _, peak, out = run_measured([sys.executable, "-c", SQL_CHILD, str(warehouse), sql, table])
    seconds, rows = out.split()[-2:]
    return Step(name, float(seconds), peak, int(rows))


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "ORDERHUB_WAREHOUSE": str(warehouse)}


def dbt_cmd(args: list[str], workdir: Path, project_dir: Path = PROJECT_DIR) -> list[str]:
    return [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        *location_flags(project_dir, PROJECT_DIR, workdir / "target", workdir / "logs"),
        "--vars",
        dbt_vars(RULES_FILE),
    ]


def model_times(workdir: Path) -> dict[str, float]:
    data = json.loads((workdir / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in data["results"]}


def machine() -> str:
    model = "unknown cpu"
    for text in Path("/proc/cpuinfo").read_text().splitlines():
        if text.startswith("model name"):
            model = text.split(":", 1)[1].strip()
            break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import dbt.version

    return (
        f"{os.cpu_count()} cores, {model}, {mem_gib:.0f} GiB; Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, dbt-core {dbt.version.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep the warehouse")
    parser.add_argument("--no-save", action="store_true", help="do not append to bench/results")
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_parcels_"))
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "orderhub.duckdb"
    if warehouse.exists():
        warehouse.unlink()
    print(f"machine: {machine()}")
    print(f"workdir: {workdir}")
    load_before = os.getloadavg()[0]

    t = time.perf_counter()
    sizes = generate(args.orders, args.seed, warehouse)
    print(f"generated {sizes['orders']:,} orders, {sizes['lines']:,} lines in {time.perf_counter() - t:.1f} s")

    env = dbt_env(warehouse)
    # 1. Views of staging and intermediate (instant), so the SQL steps below can read them.
    run_measured(dbt_cmd(["run", "--select", "+int_merging__merge_groups", "stg_raw__order_lines"], workdir), env)

    # 2. Baseline: the plain grouping the merge replaces, over the same rows.
    baseline_sql = (
        "create or replace table bench.baseline as select phone, address_key, count(*) as orders "
        "from raw.orders where fulfilment_type = 'delivery' and status <> 'cancelled' "
        "group by all"
    )
    base1 = sql_step("baseline: GROUP BY phone, address_key", warehouse, baseline_sql, "bench.baseline")

    # 3. The merge alone: materialise int_merging__merge_groups (identities + the window walk).
    merge = sql_step(
        "merge: int_merging__merge_groups (identities, window walk)",
        warehouse,
        "create or replace table bench.merge_groups as select * from intermediate.int_merging__merge_groups",
        "bench.merge_groups",
    )

    # 4. dbt run of the split models. int_merging__merge_groups is a view, so int_parcels__items (and the savings
    #    mart, for the order counts) compute the merge inside their own time: the model sum is merge + split.
    seconds, peak, _ = run_measured(dbt_cmd(["run", "--select", *SPLIT_MODELS], workdir), env)
    per_model = model_times(workdir)
    dbt_run = Step("dbt run: split models (wall, incl. dbt start-up)", seconds, peak)

    # 5. dbt test of the split models' tests (limits, coverage, savings).
    t_seconds, t_peak, _ = run_measured(
        dbt_cmd(["test", "--select", *SPLIT_MODELS, "--exclude", "test_type:unit"], workdir), env
    )
    dbt_test = Step("dbt test: parcel data tests (wall)", t_seconds, t_peak)

    base2 = sql_step("baseline again (after)", warehouse, baseline_sql, "bench.baseline")

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        facts = con.execute("""
            select
                (select count(*) from marts.fct_parcels),
                (select count(*) from intermediate.int_parcels__items),
                (select count(*) from marts.fct_parcels where is_split),
                (select count(distinct merge_group_id) from marts.fct_parcels where is_split),
                (select count(*) from (select distinct merge_group_id, travel_group
                                       from intermediate.int_parcels__assignments
                                       where packing_method <> 'fits_one')),
                (select count(*) from (select distinct merge_group_id, travel_group
                                       from intermediate.int_parcels__assignments
                                       where packing_method = 'exact')),
                (select count(*) filter (where not is_proven_minimal) from marts.fct_parcels),
                (select count(*) from marts.fct_parcels where oversize_unit),
                (select sum(delivery_orders) from marts.fct_merge_savings_daily),
                (select sum(merge_groups) from marts.fct_merge_savings_daily),
                (select sum(parcels_saved) from marts.fct_merge_savings_daily),
                (select sum(parcels_split_without_merge) from marts.fct_merge_savings_daily),
                (select sum(parcels_saved_by_merge) from marts.fct_merge_savings_daily)
        """).fetchone()
    finally:
        con.close()
    (
        parcels,
        items,
        split_parcels,
        split_groups,
        packed_groups,
        exact_groups,
        unproven,
        oversize,
        delivery_orders,
        merge_groups,
        saved,
        alone,
        saved_by_merge,
    ) = facts

    baseline = min(base1.seconds, base2.seconds)
    rows = [
        Step(
            "baseline: GROUP BY phone, address_key (best of 2)",
            baseline,
            max(base1.peak_mib, base2.peak_mib),
            base1.rows,
        ),
        merge,
        *[Step(f"  dbt model {m}", per_model.get(m, float("nan")), float("nan")) for m in SPLIT_MODELS],
        Step(
            "merge + split: sum of the dbt models above", sum(per_model.get(m, 0.0) for m in SPLIT_MODELS), float("nan")
        ),
        dbt_run,
        dbt_test,
    ]
    header = f"| {'step':<58} | {'seconds':>8} | {'peak RSS MiB':>12} | {'vs baseline':>11} |"
    rule = f"|{'-' * 60}|{'-' * 10}|{'-' * 14}|{'-' * 13}|"
    lines = [header, rule]
    for s in rows:
        peak = "" if s.peak_mib != s.peak_mib else f"{s.peak_mib:,.0f}"
        lines.append(f"| {s.name:<58} | {s.seconds:>8.2f} | {peak:>12} | {s.seconds / baseline:>10.1f}x |")
    table = "\n".join(lines)
    summary = (
        f"{sizes['orders']:,} orders ({delivery_orders:,} deliverable), {sizes['lines']:,} lines, "
        f"{sizes['customers']:,} customers\n"
        f"merge groups {merge_groups:,}; items {items:,}; parcels {parcels:,} "
        f"(vs one per order: {saved:+,}; vs every order split alone, {alone:,} parcels: {saved_by_merge:+,})\n"
        f"split: {split_groups:,} merge groups into {split_parcels:,} parcels; "
        f"{packed_groups:,} (group, travel group) packed in Python, {exact_groups:,} by exact search; "
        f"{unproven:,} parcels not proven minimal; {oversize:,} oversize-unit parcels"
    )
    summary += (
        f"\nload average (1 min) at start {load_before:.1f}, at end {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores: other processes share this machine, so seconds are noisy"
    )
    print()
    print(table)
    print(summary)

    if not args.no_save:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        block = (
            f"\n## {stamp} — {sizes['orders']:,} orders, seed {args.seed}\n\n"
            f"Machine: {machine()}\n\n```\n{table}\n\n{summary}\n```\n"
        )
        if not RESULTS.exists():
            RESULTS.write_text(
                "# Merge and split — dbt models on a large day vs a plain GROUP BY\n\n"
                "Command: `.venv/bin/python bench/parcels_merge_split.py --orders 1000000`.\n"
                "Each step is a child process; peak RSS is that child's (GNU time %M). Baseline and merge seconds "
                "are the SQL statement alone; dbt model seconds are dbt's execution_time per model; the dbt rows "
                "are wall time including dbt start-up and parsing.\n",
                encoding="utf-8",
            )
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(block)
        print(f"appended to {RESULTS.relative_to(ROOT)}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
