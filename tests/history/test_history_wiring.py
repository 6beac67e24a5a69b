"""How the ClickHouse copy is wired into Dagster: absent without a DSN (the definitions snapshot test covers
that nothing else changes), in the micro-batch and full rebuild jobs with one, after the serving snapshot and
never before it; and a ClickHouse that cannot be reached fails its own step while the snapshot still publishes,
with the failure named in it."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import FULL_REBUILD_JOB, PIPELINE_JOB, PUBLISH_JOB, build_definitions
from orchestration.defs.history.assets import HISTORY_KEY
from orchestration.pipeline import run_once
from orchestration.settings import Settings

pytestmark = pytest.mark.slow  # builds the Dagster definitions; the last test runs the pipeline

HISTORY = dg.AssetKey(HISTORY_KEY)
SNAPSHOT = dg.AssetKey(["serving", "snapshot"])


def settings_for(tmp_path, dsn: str | None) -> Settings:
    env = {"ORDERHUB_CLICKHOUSE_DSN": dsn} if dsn else {}
    return Settings.from_env(env, landing=tmp_path / "landing", warehouse=tmp_path / "wh" / "orderhub.duckdb")


def test_no_dsn_no_clickhouse(tmp_path):
    defs = build_definitions(settings_for(tmp_path, None))
    assert HISTORY not in defs.resolve_asset_graph().get_all_asset_keys()
    assert "clickhouse" not in (defs.resources or {})


def test_with_a_dsn_it_runs_after_the_snapshot_in_both_jobs(tmp_path):
    defs = build_definitions(settings_for(tmp_path, f"chdb://{tmp_path / 'ch'}"))
    graph = defs.resolve_asset_graph()
    assert SNAPSHOT in graph.get(HISTORY).parent_keys
    assert dg.AssetKey(["marts", "fct_orders"]) in graph.get(HISTORY).parent_keys
    assert dg.AssetKey(["raw", "orders"]) in graph.get(HISTORY).parent_keys
    for job in (PIPELINE_JOB, FULL_REBUILD_JOB):
        assert HISTORY in defs.resolve_job_def(job).asset_layer.selected_asset_keys, job
    assert HISTORY not in defs.resolve_job_def(PUBLISH_JOB).asset_layer.selected_asset_keys


def test_a_clickhouse_that_cannot_be_reached_does_not_stop_the_snapshot(tmp_path):
    from simulator import simulate_day

    settings = settings_for(tmp_path, "http://127.0.0.1:9/orderhub")  # the discard port: nothing listens
    simulate_day(dt.date(2026, 11, 26), orders=60, seed=4, out=settings.landing)
    assert not run_once(settings, dt.datetime(2026, 11, 26, 15, 59, 59))
    con = duckdb.connect(str(settings.serving), read_only=True)
    try:
        pipeline_ok, problems = con.execute("SELECT pipeline_ok, run_problems FROM snapshot_meta").fetchone()
        assert con.execute("SELECT count(*) FROM fct_daily_channel_summary").fetchone()[0] > 0
    finally:
        con.close()
    assert pipeline_ok is False
    assert "history__clickhouse" in problems
