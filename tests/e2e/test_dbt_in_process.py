"""dbt runs inside the pipeline's process (orchestration/defs/transform/dbt_inproc.py): runs in one Runner
(what `orderhub watch` keeps) parse the dbt project once and use that manifest again, until what it was parsed
from changes (here: a rule, which also makes the next run rebuild every mart); Dagster records every model dbt
built and every test it ran, as it did from the dbt subprocess; between runs the warehouse is free for other
processes (the dashboard, `orderhub` commands). Real files, warehouse, dbt and Dagster."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from orchestration.defs.transform.dbt_inproc import parse_count
from orchestration.defs.transform.dbt_state import RULES_TABLE
from orchestration.pipeline import Runner
from orchestration.settings import PROJECT_ROOT, Settings
from simulator import simulate_day

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAYS = [dt.date(2026, 11, 26), dt.date(2026, 11, 27), dt.date(2026, 11, 28)]


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(15, 59))  # 23:59 in Asia/Shanghai


def full_build_digest(warehouse: Path) -> tuple[str, dt.datetime]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"SELECT digest, built_at FROM {RULES_TABLE}").fetchone()
    finally:
        con.close()


def opens_from_another_process(warehouse: Path) -> str:
    probe = f"import duckdb; duckdb.connect({str(warehouse)!r}, read_only=True).close(); print('opened')"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    return done.stdout.strip() or done.stderr.strip()[-400:]


def dbt_events(runner: Runner) -> tuple[set[str], list]:
    """The dbt step's materialized asset keys and its asset check evaluations, in the runner's last run."""
    return dbt_events_of(runner, runner.instance.get_run_records(limit=1)[0].dagster_run.run_id)


def dbt_events_of(runner: Runner, run_id: str) -> tuple[set[str], list]:
    records = runner.instance.get_records_for_run(run_id).records
    events = [record.event_log_entry.dagster_event for record in records if record.event_log_entry.dagster_event]
    materialized = {
        "/".join(event.asset_key.path)
        for event in events
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION and event.step_key == "orderhub_dbt"
    }
    checks = [
        event.event_specific_data
        for event in events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and event.step_key == "orderhub_dbt"
    ]
    return materialized, checks


def test_runs_in_one_runner_parse_once_until_a_rule_changes(tmp_path):
    landing, warehouse, rules = tmp_path / "landing", tmp_path / "wh" / "orderhub.duckdb", tmp_path / "rules.yml"
    shutil.copyfile(PROJECT_ROOT / "config" / "rules.yml", rules)
    settings = dataclasses.replace(Settings.from_env(landing=landing, warehouse=warehouse), rules=rules)
    runner = Runner(settings)

    simulate_day(DAYS[0], orders=150, seed=11, out=landing)
    assert runner.run(end_of(DAYS[0])).success
    after_first = parse_count()
    digest, built_at = full_build_digest(warehouse)  # a new warehouse: the first run built every mart
    materialized, checks = dbt_events(runner)
    assert {"marts/fct_orders", "marts/fct_parcels"} <= materialized, materialized
    assert checks and all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]
    assert opens_from_another_process(warehouse) == "opened"

    simulate_day(DAYS[1], orders=150, seed=12, out=landing)
    assert runner.run(end_of(DAYS[1])).success
    assert parse_count() == after_first, "the second run parsed the dbt project again"
    assert full_build_digest(warehouse) == (digest, built_at), "a micro-batch rebuilt every mart"
    materialized, checks = dbt_events(runner)
    assert "marts/fct_orders" in materialized and checks
    assert opens_from_another_process(warehouse) == "opened"

    # A rules edit that changes no model's rows: a changed value of a real rule could fail the unit tests the
    # full rebuild runs (they are written for the shipped rules); the vars and the build digest change alike.
    edited = yaml.safe_load(rules.read_text(encoding="utf-8"))
    edited["edited_by"] = "test_dbt_in_process"
    rules.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    simulate_day(DAYS[2], orders=150, seed=13, out=landing)
    assert runner.run(end_of(DAYS[2])).success
    assert parse_count() == after_first + 1, "a rules edit did not re-parse the dbt project"
    new_digest, _ = full_build_digest(warehouse)
    assert new_digest != digest, "a rules edit did not rebuild every mart"
    assert opens_from_another_process(warehouse) == "opened"


def test_a_failed_model_fails_the_step_after_reporting_what_ran(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh" / "orderhub.duckdb"
    runner = Runner(Settings.from_env(landing=landing, warehouse=warehouse))
    simulate_day(DAYS[0], orders=150, seed=11, out=landing)
    assert runner.run(end_of(DAYS[0])).success

    # A micro-batch leaves the views as they are: the models reading a missing one fail, the others build.
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("DROP VIEW staging.stg_raw__products")
    finally:
        con.close()
    simulate_day(DAYS[1], orders=150, seed=12, out=landing)
    outcome = runner.run(end_of(DAYS[1]))

    assert not outcome.success and not outcome.interrupted
    instance = runner.instance
    dbt_run = next(
        record.dagster_run
        for record in instance.get_run_records(limit=5)
        if record.dagster_run.job_name == "orderhub_pipeline"
    )
    failure = [stats for stats in instance.get_run_step_stats(dbt_run.run_id) if stats.step_key == "orderhub_dbt"][0]
    assert failure.status.value == "FAILURE"
    materialized, checks = dbt_events_of(runner, dbt_run.run_id)
    assert "marts/fct_orders" in materialized and checks, "what dbt built before the failure was not reported"
    assert "marts/fct_sku_channel_prices" not in materialized
    assert opens_from_another_process(warehouse) == "opened"


def test_new_address_rules_key_stored_orders_again_and_rebuild_every_mart(tmp_path, monkeypatch):
    """A warehouse filled under older address rules (its stored keys and marts stale) gets the current rules'
    keys on the next run, and its marts follow: the incremental marts would not see keys changed in place."""
    from ingestion import address_rekey, addresses

    landing, warehouse = tmp_path / "landing", tmp_path / "wh" / "orderhub.duckdb"
    runner = Runner(Settings.from_env(landing=landing, warehouse=warehouse))
    simulate_day(DAYS[0], orders=150, seed=11, out=landing)
    assert runner.run(end_of(DAYS[0])).success
    digest, _ = full_build_digest(warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        for table in ("raw.orders", "raw.order_history", "marts.fct_orders"):
            con.execute(f"UPDATE {table} SET address_key = address_key || '-old' WHERE address_key IS NOT NULL")
    finally:
        con.close()

    monkeypatch.setattr(addresses, "KEY_RULES_VERSION", addresses.KEY_RULES_VERSION + 1)
    simulate_day(DAYS[1], orders=150, seed=12, out=landing)
    assert runner.run(end_of(DAYS[1])).success

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stale = con.execute(
            "SELECT (SELECT count(*) FROM raw.orders WHERE address_key LIKE '%-old'), "
            "(SELECT count(*) FROM marts.fct_orders WHERE address_key LIKE '%-old'), "
            "(SELECT count(*) FROM marts.fct_orders f JOIN raw.orders o USING (order_key) "
            " WHERE f.address_key IS DISTINCT FROM o.address_key), "
            "(SELECT count(DISTINCT order_key) FROM raw.address_rekeys)"
        ).fetchall()[0]
        first_day = con.execute("SELECT count(*) FROM raw.orders WHERE address_key IS NOT NULL").fetchall()[0][0]
    finally:
        con.close()
    assert stale[:3] == (0, 0, 0), stale
    assert 0 < stale[3] < first_day, "the re-key listed no order, or the second day's too"
    assert full_build_digest(warehouse)[0] != digest, "the marts were not rebuilt under the new edition"
    assert address_rekey.migration_name().endswith(str(addresses.KEY_RULES_VERSION))
