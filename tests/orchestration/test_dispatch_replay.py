"""Dispatch through a replayed day: a small simulated day goes through the real pipeline once (`orderhub run`:
ingestion, dbt, a real DuckDB file), then the dispatch step (the asset's own `replan`) runs every half hour of
the day on that run's clock, as the micro-batches would run it, each run resuming from the one before. After
every run the plan as of its clock must pass the idle-rider audit (orchestration/defs/dispatch/audit.py): no
parcel still at the store past its promise while a rider of that store, on shift, idle there, with room for it
(weight, cold box), could take it.

The audit itself is shown to fail on a plan built to be wrong (a hand-made plan with an idle rider and a late
parcel) and to pass the cases it must not flag (rider out, rider without a cold box for a frozen parcel).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from dispatch.model import NOT_SELECTED, Parcel, Plan, Rider, Route, Stop, Store
from dispatch.waves import DayPlan, WavePlan
from orchestration.defs.dispatch.audit import idle_rider_violations
from orchestration.defs.dispatch.plan import DispatchRules, PlanInputs
from orchestration.defs.dispatch.write import replan, write
from orchestration.rules import load as load_rules

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 26)
# The business day in UTC (Asia/Shanghai, +8): 00:00 local is 16:00 UTC the day before.
DAY_START = dt.datetime(2026, 11, 25, 16, 0)
TICK = dt.timedelta(minutes=30)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> tuple[Path, Path]:
    """(warehouse, rules file): a 240-order day through `orderhub run` at the day's end clock (its own dispatch
    plan included), with the production rules but a shorter solver budget, which keeps the runs quick; the
    planner's decisions do not hinge on it."""
    from simulator import simulate_day

    root = tmp_path_factory.mktemp("dispatch_replay")
    landing, warehouse, rules_file = root / "landing", root / "wh" / "orderhub.duckdb", root / "rules.yml"
    rules = yaml.safe_load((ROOT / "config" / "rules.yml").read_text(encoding="utf-8"))
    rules["dispatch"]["time_limit_seconds"] = 0.1
    rules_file.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    simulate_day(DAY, orders=240, seed=23, out=landing)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {
        "ORDERHUB_AS_OF": DAY.isoformat(),
        "ORDERHUB_RULES": str(rules_file),
    }
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return warehouse, rules_file


@pytest.fixture(scope="module")
def day_warehouse(day) -> Path:
    return day[0]


@pytest.fixture(scope="module")
def rules(day) -> DispatchRules:
    return DispatchRules.from_rules(load_rules(day[1]))


@pytest.mark.slow
def test_replayed_day_never_leaves_a_late_parcel_beside_an_idle_rider(day_warehouse, rules):
    con = duckdb.connect(str(day_warehouse))
    try:
        violations, ticks, planned = [], 0, 0
        as_of = DAY_START + dt.timedelta(hours=7)  # the stores open at 07:00
        while as_of <= DAY_START + dt.timedelta(hours=24):
            inputs, _, counts = replan(con, rules, as_of)
            ticks += 1
            planned += counts["routes"]
            # A replay plans as it would have live: nothing from an order placed after the tick's clock.
            later = con.execute(
                """select count(*) from dispatch.dispatch_stops s
                   join marts.fct_parcels p using (parcel_id), unnest(string_split(p.order_keys, ',')) k(order_key)
                   join marts.fct_orders o on o.order_key = k.order_key
                   where o.created_at > ?""",
                [as_of],
            ).fetchone()[0]
            assert later == 0, f"at {as_of} the plan carries parcels of orders placed later"
            violations += [v.describe() for v in idle_rider_violations(con, "pyvrp", DAY)]
            as_of += TICK
        # Rerunning at the last run's clock resumes from the same point and gives the same rows (the greedy
        # baseline is deterministic; PyVRP's search stops on a time budget).
        before = _greedy_rows(con)
        replan(con, rules, as_of - TICK)
        assert _greedy_rows(con) == before
    finally:
        con.close()
    assert ticks >= 30 and planned > 0, "the replay planned nothing: nothing was checked"
    assert violations == [], f"{len(violations)} late parcels beside idle riders:\n" + "\n".join(violations[:20])


def _greedy_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return (
        con.execute("select * from dispatch.dispatch_routes where solver = 'greedy' order by route_id").fetchall()
        + con.execute("select * from dispatch.dispatch_waiting where solver = 'greedy' order by parcel_id").fetchall()
    )


@pytest.mark.slow
def test_platform_delivered_parcels_are_skipped_not_planned(day_warehouse):
    con = duckdb.connect(str(day_warehouse), read_only=True)
    try:
        kinds = dict(
            con.execute(
                "select delivered_by, count(*) from marts.fct_orders where channel = 'meituan' group by all"
            ).fetchall()
        )
        skipped = {r[0] for r in con.execute("select parcel_id from dispatch.dispatch_skipped").fetchall()}
        reasons = {r[0] for r in con.execute("select distinct reason from dispatch.dispatch_skipped").fetchall()}
        planned = {
            r[0]
            for r in con.execute(
                "select parcel_id from dispatch.dispatch_stops union select parcel_id from dispatch.dispatch_waiting"
            ).fetchall()
        }
        platform_parcels = {
            r[0]
            for r in con.execute(
                """select distinct p.parcel_id from marts.fct_parcels p, unnest(string_split(p.order_keys, ',')) k(key)
                   join marts.fct_orders o on o.order_key = k.key where o.delivered_by = 'platform'"""
            ).fetchall()
        }
    finally:
        con.close()
    assert kinds.get("merchant", 0) > 0 and kinds.get("platform", 0) > 0, kinds
    assert "platform_delivers" in reasons
    assert platform_parcels and platform_parcels <= skipped
    assert not platform_parcels & planned, "a parcel Meituan's riders deliver is on our plan"


# --- the audit on hand-made plans -----------------------------------------------------------------------------

STORE = Store("S1", 31.2, 121.59)
NOON = dt.datetime(2026, 11, 26, 4, 0)  # 12:00 local


def _parcel(pid: str, zone: str = "ambient", weight_g: int = 2000) -> Parcel:
    # Ready an hour ago, promised half an hour ago: late by now.
    return Parcel(
        pid,
        "S1",
        31.21,
        121.59,
        weight_g,
        4000,
        zone,
        NOON - dt.timedelta(hours=1),
        None,
        NOON - dt.timedelta(minutes=30),
    )


def _rider(rid: str, cold_box_ml: int = 30_000, capacity_g: int = 15_000) -> Rider:
    shift = (NOON - dt.timedelta(hours=4), NOON + dt.timedelta(hours=4))
    return Rider(rid, "S1", STORE.lat, STORE.lng, *shift, capacity_g, cold_box_ml)


def _audit(tmp_path: Path, parcels: list[Parcel], riders: list[Rider], day: DayPlan) -> list:
    inputs = PlanInputs(DAY, NOON, DAY_START, parcels, {}, set(), [], riders, [STORE], [])
    con = duckdb.connect(str(tmp_path / "plan.duckdb"))
    try:
        write(con, inputs, {"pyvrp": day})
        return idle_rider_violations(con, "pyvrp", DAY)
    finally:
        con.close()


def test_audit_flags_a_late_parcel_beside_an_idle_rider(tmp_path):
    """The plan built to be wrong: the parcel was left out though the rider stands idle at the store."""
    day = DayPlan(unassigned=[("p1", NOT_SELECTED)])
    found = _audit(tmp_path, [_parcel("p1")], [_rider("r1")], day)
    assert [(v.parcel_id, v.rider_id, v.reason) for v in found] == [("p1", "r1", "no_rider_free")]


def test_audit_flags_a_late_parcel_held_for_a_later_trip(tmp_path):
    """Holding a late parcel for a trip that leaves later, while its rider idles now, is as wrong."""
    later = NOON + dt.timedelta(minutes=20)
    route = Route(
        "r1",
        [Stop("p1", 1, later + dt.timedelta(minutes=10), later + dt.timedelta(minutes=12), 31.21, 121.59)],
        2000,
        1500,
        2000,
        0,
        later,
        later + dt.timedelta(minutes=25),
    )
    day = DayPlan(waves=[WavePlan("S1", later, Plan([route], [], 0.0, "pyvrp", 0.0))])
    found = _audit(tmp_path, [_parcel("p1")], [_rider("r1")], day)
    assert [(v.parcel_id, v.reason) for v in found] == [("p1", "held_for_bundling")]


def test_audit_passes_when_no_idle_rider_could_take_it(tmp_path):
    """A frozen parcel beside an idle rider without a cold box, or an ambient one too heavy for the idle
    rider, is not the plan's fault; neither is a late parcel while the only rider is out."""
    day = DayPlan(unassigned=[("cold", NOT_SELECTED), ("heavy", NOT_SELECTED)])
    parcels = [_parcel("cold", zone="frozen"), _parcel("heavy", weight_g=20_000)]
    assert _audit(tmp_path, parcels, [_rider("r1", cold_box_ml=0, capacity_g=15_000)], day) == []

    out = Route("r1", [], 0, 3600, 0, 0, NOON - dt.timedelta(minutes=10), NOON + dt.timedelta(minutes=50))
    busy = DayPlan(
        waves=[WavePlan("S1", NOON - dt.timedelta(minutes=10), Plan([out], [], 0.0, "pyvrp", 0.0))],
        unassigned=[("p1", NOT_SELECTED)],
    )
    assert _audit(tmp_path, [_parcel("p1")], [_rider("r1")], busy) == []
