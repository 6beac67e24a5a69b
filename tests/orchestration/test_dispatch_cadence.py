"""Dispatch re-plans on its own cadence: when a micro-batch re-makes the plan, and how the snapshot and the idle
check read a plan that was kept (real DuckDB files, the real publish)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ingestion import warehouse as contract_warehouse
from orchestration import idle, refreshes
from orchestration.defs.dispatch.cadence import replan_reason
from orchestration.defs.serving.publish import publish
from orchestration.settings import Settings

T = dt.datetime(2026, 11, 26, 4, 0, 0)
EVERY = dt.timedelta(seconds=60)


@pytest.mark.parametrize(
    ("last_plan", "as_of", "forced", "replans"),
    [
        (None, T, False, True),  # never planned
        (T, T + dt.timedelta(seconds=59), False, False),  # within the interval: kept
        (T, T + EVERY, False, True),  # due
        (T, T - dt.timedelta(seconds=1), False, True),  # a replay going back over the day
        (T, T, True, True),  # the nightly rebuild re-plans whatever the age
    ],
)
def test_when_a_run_replans(last_plan, as_of, forced, replans):
    assert (replan_reason(last_plan, as_of, EVERY, forced=forced) is not None) == replans


def test_interval_zero_replans_every_run():
    assert replan_reason(T, T, dt.timedelta(0), forced=False) is not None


def _status(serving) -> dict:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute("SELECT part, as_of, run_id, is_stale FROM serving_status").fetchall()}
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "wh" / "orderhub.duckdb"
    contract_warehouse.connect(path).close()
    return path


def test_a_kept_plan_is_fresh_for_the_run_that_kept_it_and_shows_its_own_clock(warehouse, tmp_path):
    con = duckdb.connect(str(warehouse))
    try:
        refreshes.record(con, "marts", "run-1", T)
        refreshes.record(con, "dispatch", "run-1", T)
        later = T + dt.timedelta(seconds=20)
        refreshes.record(con, "marts", "run-2", later)
        refreshes.confirm(con, "dispatch", "run-2")
    finally:
        con.close()
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run-2", as_of=later)
    status = _status(serving)
    assert status["marts"] == (later, "run-2", False)
    assert status["dispatch"] == (T, "run-1", False), "the plan is the one made at T, and current"
    # A run that neither refreshed nor kept it (its dispatch step failed) publishes it stale.
    publish(warehouse, serving, "run-3", as_of=later, for_run="run-3", failures=["step dispatch__plan failed"])
    assert _status(serving)["dispatch"][2:] == (True,)


def test_a_warehouse_without_the_confirmation_column_still_publishes(warehouse, tmp_path):
    """Written before plans could be kept: status as before (refreshed by the run, or stale)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA pipeline")
        con.execute(
            "CREATE TABLE pipeline.part_refreshes (part VARCHAR PRIMARY KEY, run_id VARCHAR, as_of TIMESTAMP, "
            "refreshed_at TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO pipeline.part_refreshes VALUES ('marts', 'run-1', ?, ?), ('dispatch', 'run-0', ?, ?)",
            [T, T, T, T],
        )
    finally:
        con.close()
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run-1", as_of=T)
    assert {part: row[2] for part, row in _status(serving).items()} == {"marts": False, "dispatch": True}


def test_idle_runs_once_the_plan_is_behind_the_marts_and_due(warehouse, tmp_path):
    """Without a given clock, a quiet landing zone is idle, unless the last micro-batches were kept out of a
    plan that is now due: then one run plans them."""
    settings = Settings.from_env({}, landing=tmp_path / "landing", warehouse=warehouse)
    (tmp_path / "landing").mkdir()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con = duckdb.connect(str(warehouse))
    try:
        refreshes.record(con, "dispatch", "run-1", now - dt.timedelta(seconds=30))
        refreshes.record(con, "marts", "run-2", now - dt.timedelta(seconds=5))
    finally:
        con.close()
    publish(warehouse, settings.serving, "run-2", as_of=now)
    assert idle.check(settings).idle, "the plan is 30 s old: not due yet"

    con = duckdb.connect(str(warehouse))
    try:
        con.execute("UPDATE pipeline.part_refreshes SET as_of = as_of - INTERVAL 5 MINUTE WHERE part = 'dispatch'")
    finally:
        con.close()
    publish(warehouse, settings.serving, "run-2", as_of=now)
    verdict = idle.check(settings)
    assert not verdict.idle and "dispatch plan" in verdict.reason
    # With a given clock the snapshot's clock decides, as before.
    assert idle.check(settings, now).idle
