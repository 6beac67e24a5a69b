"""The landing sensor asks for a run exactly when a file newer than its cursor appears, and the
definitions load with every asset, the job and the sensor wired (a fresh clone parses dbt first)."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest

from orchestration.defs.ingest.sensors import build_landing_sensor
from orchestration.resources import OrderhubPaths


@pytest.fixture
def paths(tmp_path) -> OrderhubPaths:
    return OrderhubPaths(
        landing=str(tmp_path / "landing"),
        warehouse=str(tmp_path / "wh.duckdb"),
        serving=str(tmp_path / "serving.duckdb"),
        rules="config/rules.yml",
    )


def evaluate(sensor, paths: OrderhubPaths, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"paths": paths})
    return sensor.evaluate_tick(context)


def test_sensor_requests_a_run_only_for_new_files(paths):
    """No files: skip. A new file: one run request and an advanced cursor. Same files again: skip.
    A temporary file being written: skip, since readers never see half a file."""
    job = dg.define_asset_job("j")
    sensor = build_landing_sensor(job, interval_seconds=1)
    landing = paths.landing_path / "orders" / "app" / "2026-11-26"
    landing.mkdir(parents=True)

    empty = evaluate(sensor, paths, None)
    assert not empty.run_requests

    (landing / "app-000001.jsonl").write_text("{}\n")
    first = evaluate(sensor, paths, None)
    assert len(first.run_requests) == 1
    cursor = first.cursor

    assert not evaluate(sensor, paths, cursor).run_requests
    (landing / "app-000002.jsonl.tmp").write_text("{}\n")
    assert not evaluate(sensor, paths, cursor).run_requests

    later = landing / "app-000002.jsonl"
    later.write_text("{}\n")
    future = time.time() + 5
    os.utime(later, (future, future))
    second = evaluate(sensor, paths, cursor)
    assert len(second.run_requests) == 1 and second.run_requests[0].run_key != first.run_requests[0].run_key


@pytest.mark.slow
def test_definitions_load_with_assets_job_and_sensor(tmp_path, monkeypatch):
    """The Dagster code location loads: raw tables, dbt marts and the snapshot are assets of one job."""
    monkeypatch.setenv("ORDERHUB_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    from orchestration.definitions import PIPELINE_JOB, build_definitions

    defs = build_definitions()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/orders", "marts/fct_orders", "marts/fct_channel_kpis_hourly", "serving/snapshot"} <= keys
    assert defs.resolve_job_def(PIPELINE_JOB) is not None
    assert defs.resolve_sensor_def("landing_sensor") is not None
