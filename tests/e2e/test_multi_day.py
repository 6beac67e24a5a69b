"""Three consecutive business days loaded into one warehouse, batch by batch, through `orderhub run`: every run
succeeds with dispatch included (route ids carry the wave's date, and a day replanned later in the day keeps
its earlier waves without writing any twice), and each publishes a snapshot whose parts are all fresh at that
run's clock. Then a run whose dispatch fails still publishes, with dispatch marked stale and the marts fresh; and
a run within the re-plan interval keeps the plan, published as current.

Small days (a hundred-odd orders) keep each run at the pipeline's fixed cost (dbt build and checks)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from pipeline_days import run_at

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DAYS = (dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22))
ORDERS_PER_DAY = 120
SEED = 5
NOON = "120000"  # landing file names carry the local time they were written: <channel>-HHMMSS-<n>.<ext>


def _arrive(source: Path, landing: Path, day: dt.date, part: str) -> None:
    """Move a day's files into the landing zone as they would arrive: `morning` (reference data and orders
    written before noon), `afternoon` (the rest, settlements included) or `all`."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or relative.parts[0] == "_truth" or day.isoformat() not in relative.parts:
            continue
        kind = relative.parts[0]
        early = kind == "reference" or (kind == "orders" and path.name.split("-")[1] < NOON)
        if part == "all" or (part == "morning") == early:
            target = landing / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target.with_name(f".{target.name}.tmp"))
            target.with_name(f".{target.name}.tmp").rename(target)  # files appear whole, as writers must


def _snapshot(warehouse: Path) -> dict:
    con = duckdb.connect(str(warehouse.with_name("serving.duckdb")), read_only=True)
    try:
        status = {
            r[0]: r[1:]
            for r in con.execute(
                "select part, as_of, run_id, is_stale, problem, snapshot_as_of from serving_status"
            ).fetchall()
        }
        meta = con.execute("select as_of, pipeline_ok, pipeline_run_id, run_id from snapshot_meta").fetchone()
        days = {r[0] for r in con.execute("select distinct business_date from fct_daily_channel_summary").fetchall()}
        routes = con.execute("select count(*) from dispatch_routes").fetchone()[0]
    finally:
        con.close()
    return {"status": status, "meta": meta, "days": days, "routes": routes}


# (day, which of its files arrive, the run's clock as `orderhub run --as-of` takes it)
BATCHES = (
    (DAYS[0], "all", DAYS[0].isoformat()),
    (DAYS[1], "morning", f"{DAYS[1].isoformat()}T12:00:00+08:00"),
    (DAYS[1], "afternoon", DAYS[1].isoformat()),
    (DAYS[2], "all", DAYS[2].isoformat()),
)


@pytest.fixture(scope="module")
def three_days(tmp_path_factory) -> tuple[Path, Path, list[dict]]:
    """(landing, warehouse, the snapshot after each run) of the batches above, run one after the other."""
    from simulator import simulate_day

    root = tmp_path_factory.mktemp("three_days")
    source, landing, warehouse = root / "simulated", root / "landing", root / "wh" / "orderhub.duckdb"
    for day in DAYS:
        simulate_day(day, orders=ORDERS_PER_DAY, seed=SEED, out=source)
    snapshots = []
    for day, part, as_of in BATCHES:
        _arrive(source, landing, day, part)
        result = run_at(landing, warehouse, as_of)
        assert result.returncode == 0, f"{day} {part}: " + result.stdout[-3000:] + result.stderr[-3000:]
        snapshots.append(_snapshot(warehouse))
    return landing, warehouse, snapshots


def test_each_batch_of_three_days_publishes_a_fresh_snapshot(three_days):
    _, _, snapshots = three_days
    for (day, part, _), snap in zip(BATCHES, snapshots, strict=True):
        as_of, pipeline_ok, pipeline_run, run_id = snap["meta"]
        assert pipeline_ok and pipeline_run == run_id, (day, part)
        assert set(snap["status"]) == {"marts", "dispatch"}
        for part_name, (part_as_of, part_run, stale, problem, snapshot_as_of) in snap["status"].items():
            assert (part_as_of, part_run, stale, problem) == (as_of, run_id, False, None), (day, part, part_name)
            assert snapshot_as_of == as_of
        assert max(snap["days"]) == day, "the day just loaded is in the published marts"
    # The morning batch of day two runs at local noon (04:00 UTC); the end of a day is 23:59:59 local.
    assert snapshots[1]["meta"][0] == dt.datetime(2026, 11, 21, 4, 0)
    assert snapshots[3]["meta"][0] == dt.datetime(2026, 11, 22, 15, 59, 59)


def test_every_day_keeps_its_own_plan_and_no_parcel_rides_twice(three_days):
    _, warehouse, _ = three_days
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        days = dict(
            con.execute(
                "select business_date, count(*) from dispatch.dispatch_routes where solver = 'pyvrp' group by 1"
            ).fetchall()
        )
        twice = con.execute(
            "select count(*) from (select parcel_id from dispatch.dispatch_stops where solver = 'pyvrp' "
            "group by 1 having count(*) > 1)"
        ).fetchone()[0]
        undated = con.execute(
            "select count(*) from dispatch.dispatch_routes "
            "where route_id not like '%/' || strftime(wave_at, '%Y%m%dT%H%M') || '/%'"
        ).fetchone()[0]
        stops_without_route = con.execute(
            "select count(*) from dispatch.dispatch_stops s anti join dispatch.dispatch_routes r using (route_id)"
        ).fetchone()[0]
    finally:
        con.close()
    assert set(days) == set(DAYS) and all(n > 0 for n in days.values()), days
    assert (twice, undated, stops_without_route) == (0, 0, 0)


def test_a_failing_dispatch_still_publishes_the_snapshot_with_dispatch_stale(three_days, tmp_path):
    """The same warehouse, one more run later on day three whose dispatch step fails: the run fails (exit 1),
    the snapshot is published anyway, for that run, with the marts fresh at its clock and dispatch stale,
    still showing the previous run's plan and saying what failed."""
    landing, warehouse, snapshots = three_days
    copy = tmp_path / "orderhub.duckdb"
    shutil.copyfile(warehouse, copy)
    before = snapshots[-1]
    later = "2026-11-22T20:00:00+08:00"

    result = run_at(landing, copy, later, env={"ORDERHUB_FAIL_AT": "dispatch.plan"})

    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "snapshot was still published" in result.stderr
    snap = _snapshot(copy)
    as_of, pipeline_ok, pipeline_run, run_id = snap["meta"]
    assert as_of == dt.datetime(2026, 11, 22, 12, 0) and not pipeline_ok and pipeline_run != run_id
    marts_as_of, marts_run, marts_stale, marts_problem, _ = snap["status"]["marts"]
    assert (marts_as_of, marts_run, marts_stale, marts_problem) == (as_of, pipeline_run, False, None)
    dispatch_as_of, dispatch_run, dispatch_stale, problem, _ = snap["status"]["dispatch"]
    assert dispatch_stale and dispatch_as_of == before["meta"][0] and dispatch_run == before["meta"][3]
    assert "dispatch" in problem and "injected failure at dispatch.plan" in problem, problem
    assert snap["routes"] == before["routes"], "the previous plan stays on the dashboard, marked stale"


def test_a_run_within_the_replan_interval_keeps_the_plan_and_publishes_it_fresh(three_days, tmp_path):
    """Dispatch re-plans on its own cadence (`dispatch.replan_every_seconds`, 60 s): a run 30 s after the last
    plan keeps it without reaching the planner (the injected planner failure is never hit), and the snapshot
    shows it current, as of the run that made it, beside marts as of this run."""
    landing, warehouse, snapshots = three_days
    copy = tmp_path / "orderhub.duckdb"
    shutil.copyfile(warehouse, copy)
    before = snapshots[-1]
    plan_as_of = before["meta"][0]  # 2026-11-22 23:59:59 local
    thirty_seconds_later = "2026-11-23T00:00:29+08:00"

    result = run_at(landing, copy, thirty_seconds_later, env={"ORDERHUB_FAIL_AT": "dispatch.plan"})

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    snap = _snapshot(copy)
    as_of, pipeline_ok, pipeline_run, run_id = snap["meta"]
    assert pipeline_ok and as_of == plan_as_of + dt.timedelta(seconds=30)
    assert snap["status"]["marts"][:3] == (as_of, run_id, False)
    assert snap["status"]["dispatch"][:4] == (plan_as_of, before["meta"][3], False, None)
    assert snap["routes"] == before["routes"]
