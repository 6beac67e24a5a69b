"""The landing sensor asks for a run exactly when a file it has not seen appears, whatever that file's mtime
and however old its day folder, and the definitions load with every asset, the job and the sensor wired (a
fresh clone parses dbt first)."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest

from ingestion import landing
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


LONG_AGO = time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, -1))


def land(folder, name: str, mtime: float | None = None) -> None:
    """As writers do: a temporary name, renamed into place (here keeping an old mtime, as an unzip does)."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"{name}.tmp"
    temporary.write_text("{}\n")
    if mtime is not None:
        os.utime(temporary, (mtime, mtime))
    temporary.rename(folder / name)


def settle() -> None:
    """Let the folders' timestamps settle, so the sensor trusts their signatures and stops listing them."""
    time.sleep(landing.SETTLE_NS / 1e9 + 0.2)


def test_a_file_with_an_old_mtime_is_noticed(paths):
    """A file copied in with an mtime years in the past, into a folder the sensor has already seen and
    trusts, still gets a run: what counts is that its name is new, not its mtime."""
    sensor = build_landing_sensor(dg.define_asset_job("j"), interval_seconds=1)
    day = paths.landing_path / "orders" / "app" / "2026-11-26"
    land(day, "app-000001.jsonl")
    settle()
    first = evaluate(sensor, paths, None)
    assert len(first.run_requests) == 1
    assert not evaluate(sensor, paths, first.cursor).run_requests

    land(day, "app-000000.jsonl", mtime=LONG_AGO)
    second = evaluate(sensor, paths, first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_file_in_an_old_day_folder_is_noticed(paths):
    """A late file in a business day long past (a settlement re-delivered for last month) gets a run."""
    sensor = build_landing_sensor(dg.define_asset_job("j"), interval_seconds=1)
    days = [paths.landing_path / "settlements" / "meituan" / f"2026-10-{d:02d}" for d in range(1, 11)]
    for day in days:
        land(day, f"meituan-settlement-{day.name}.jsonl", mtime=LONG_AGO)
    settle()
    cursor = evaluate(sensor, paths, None).cursor
    assert not evaluate(sensor, paths, cursor).run_requests

    land(days[0], "meituan-settlement-again.jsonl", mtime=LONG_AGO)
    later = evaluate(sensor, paths, cursor)
    assert len(later.run_requests) == 1


def test_a_tick_with_nothing_new_requests_no_run_and_keeps_its_cursor(paths):
    """Ticks over an unchanged landing zone skip without touching the cursor (Dagster stores a cursor per
    changed tick), and the cursor stays small however many files have landed: it names a state file kept
    under the landing root's hidden folder, which the loader never reads."""
    sensor = build_landing_sensor(dg.define_asset_job("j"), interval_seconds=1)
    for d in range(1, 31):
        for n in range(20):
            land(paths.landing_path / "orders" / "meituan" / f"2026-11-{d:02d}", f"meituan-{n:05d}.jsonl")
    settle()
    first = evaluate(sensor, paths, None)
    assert len(first.run_requests) == 1 and len(first.cursor) < 100
    for _ in range(3):
        again = evaluate(sensor, paths, first.cursor)
        assert not again.run_requests and again.cursor == first.cursor
    assert all(not f.relative.startswith(".") for f in landing.discover(paths.landing_path))
    assert len(landing.discover(paths.landing_path)) == 600


def test_a_lost_state_file_means_one_run_that_the_checkpoint_makes_harmless(paths):
    """If the state file a cursor names is gone (a wiped hidden folder), everything looks new once: the
    sensor asks for a run rather than risk missing a file; the run loads only what the checkpoint lacks."""
    sensor = build_landing_sensor(dg.define_asset_job("j"), interval_seconds=1)
    land(paths.landing_path / "orders" / "app" / "2026-11-26", "app-000001.jsonl")
    first = evaluate(sensor, paths, None)
    for state in (paths.landing_path / ".orderhub").rglob("*.json"):
        state.unlink()
    assert len(evaluate(sensor, paths, first.cursor).run_requests) == 1


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
