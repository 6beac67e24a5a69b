"""Whether a micro-batch has anything to do, decided without Dagster (no definitions, no dbt parse): a few
stats and two read-only DuckDB opens, so `orderhub run` on a quiet landing zone costs well under a second.

Nothing to do means all of:
- the snapshot was published by a pipeline run that succeeded (a failed run, or one published for a failed
  run, is run again);
- the warehouse was not written after the snapshot (a crash between the load and the publish, the daily
  reconciliation, a quarantine resolution: whatever the next run would publish);
- the run's clock, when one is given (`--as-of`, ORDERHUB_AS_OF), is the snapshot's;
- the checkpoint has loaded every file in the landing zone.

Without a given clock a quiet zone is not re-run just because time moved on: late risk and the dispatch
horizon then stay as of the last run until a file lands or a run is forced (`orderhub run --force`). One
exception: the dispatch plan re-plans on its own cadence (orchestration/defs/dispatch/cadence.py), so the last
micro-batches of a burst may have been kept out of it; once the plan is due, a run plans them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion import landing
from orchestration import clock, refreshes
from orchestration.defs.dispatch.cadence import replan_interval, replan_reason
from orchestration.rules import load as load_rules
from orchestration.settings import Settings


@dataclass(frozen=True)
class Verdict:
    idle: bool
    reason: str


def _busy(reason: str) -> Verdict:
    return Verdict(False, reason)


def _last_write_ns(warehouse: Path) -> int:
    """The newest modification of the warehouse file or its write-ahead log."""
    times = [p.stat().st_mtime_ns for p in (warehouse, warehouse.with_name(warehouse.name + ".wal")) if p.exists()]
    return max(times, default=0)


def _snapshot_meta(serving: Path) -> tuple | None:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute("SELECT as_of, pipeline_ok, pipeline_run_id, run_id FROM snapshot_meta").fetchone()
    finally:
        con.close()


def check(settings: Settings, as_of: datetime | None = None) -> Verdict:
    """Is a run of the pipeline over `settings` at clock `as_of` (None: the wall clock) needless?"""
    warehouse, serving = settings.warehouse, settings.serving
    if not warehouse.exists():
        return _busy("no warehouse yet")
    if not serving.exists():
        return _busy("no snapshot published yet")
    try:
        meta = _snapshot_meta(serving)
    except duckdb.Error as exc:
        return _busy(f"the snapshot cannot be read ({exc})")
    if meta is None:
        return _busy("the snapshot has no run recorded")
    snapshot_as_of, pipeline_ok, pipeline_run, run_id = meta
    if not pipeline_ok or pipeline_run != run_id:
        return _busy("the last run failed")
    if as_of is not None and as_of != snapshot_as_of:
        return _busy(f"the snapshot is as of {snapshot_as_of}, this run as of {as_of}")
    if _last_write_ns(warehouse) > serving.stat().st_mtime_ns:
        return _busy("the warehouse changed after the snapshot was published")
    # Without a given clock, a quiet zone may still owe the dispatch plan the last batches of a burst.
    return landed_since_checkpoint(settings, snapshot_as_of, plan_clock=clock.utc_now() if as_of is None else None)


def _plan_due(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime) -> Verdict | None:
    """Busy when the dispatch plan is older than the marts and a run at clock `now` would re-plan it."""
    as_of = refreshes.as_of_by_part(con)
    plan, marts = as_of.get("dispatch"), as_of.get("marts")
    if marts is None or (plan is not None and plan >= marts):
        return None
    if replan_reason(plan, now, replan_interval(load_rules(settings.rules)), forced=False) is None:
        return None
    return _busy(f"the dispatch plan (as of {plan} UTC) does not include the orders up to {marts} UTC")


def landed_since_checkpoint(
    settings: Settings, snapshot_as_of: datetime | None = None, *, plan_clock: datetime | None = None
) -> Verdict:
    """Whether the landing zone holds files the checkpoint has not loaded (idle when it does not); with
    `plan_clock`, also whether the dispatch plan is due at that clock (`_plan_due`)."""
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error as exc:  # another process writes it: let the run meet that itself
        return _busy(f"the warehouse cannot be read ({exc})")
    try:
        look = landing.look(con, settings.landing, remember=False)
        quiet = not (look.files or look.changed)
        plan_due = _plan_due(con, settings, plan_clock) if quiet and plan_clock is not None else None
    except duckdb.Error as exc:
        return _busy(f"the checkpoint cannot be read ({exc})")
    finally:
        con.close()
    if look.files:
        return _busy(f"{len(look.files)} new landing files")
    if look.changed:
        # Not loaded again, but a run records and reports them (landing.look).
        return _busy(f"{len(look.changed)} landing files changed after they were loaded")
    if plan_due is not None:
        return plan_due
    if snapshot_as_of is None:
        return Verdict(True, "nothing new has landed")
    return Verdict(True, f"nothing new to load; the snapshot (as of {snapshot_as_of} UTC) is current: no run started")
