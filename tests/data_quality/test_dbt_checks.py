"""The checks Dagster shows: every dbt test is an asset check (model tests by dagster-dbt's default, source
tests because the translator enables them, tests with several parents because they name one), and the Great
Expectations checks sit on the right assets, blocking, in the right jobs (batch checks every micro-batch,
day checks only in the daily reconciliation)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # builds the Dagster definitions (parses the dbt project when it changed)


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import build_definitions

    return build_definitions()


def test_every_dbt_test_is_an_asset_check(defs):
    """Each test in the dbt manifest is a Dagster asset check, except source tests dagster-dbt cannot attach:
    on a source no model reads, or a relationship between two sources."""
    from orchestration.defs.transform.dbt import dbt_project
    from orchestration.settings import Settings

    graph = defs.resolve_asset_graph()
    checks = {key.name for key in graph.asset_check_keys}
    manifest = json.loads(dbt_project(Settings.from_env()).manifest_path.read_text())
    read_sources = {
        parent
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for parent in node["depends_on"]["nodes"]
        if parent.startswith("source.")
    }
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    missing = []
    for test in tests:
        parents = test["depends_on"]["nodes"]
        unattachable = all(p.startswith("source.") for p in parents) and (
            len(parents) > 1 or not set(parents) <= read_sources
        )
        if test["name"] not in checks and not unattachable:
            missing.append((test["name"], test.get("original_file_path")))
    assert not missing, (
        "dbt tests that do not show in Dagster; a singular test with several parents needs "
        "{{ config(meta={'dagster': {'ref': {'name': '<model>'}}}) }}: %s" % missing
    )
    assert {
        "source_unique_raw_orders_order_key",
        "assert_stock_conservation",
        "assert_parcels_within_limits",
        "assert_ingest_accounting_balanced",
    } <= checks


def test_quality_checks_are_blocking_and_in_their_jobs(defs):
    """The GX checks are blocking (an ERROR stops what is downstream; a WARN never does); the micro-batch job
    runs the batch checks, the checks job and the nightly rebuild the whole-mart ones, the reconciliation job the
    day checks and not the other way round."""
    from orchestration.definitions import CHECKS_JOB, FULL_REBUILD_JOB, PIPELINE_JOB
    from orchestration.defs.reconciliation.assets import RECON_JOB

    graph = defs.resolve_asset_graph()
    quality = {key.name: graph.get(key) for key in graph.asset_check_keys if key.name.endswith("_quality")}
    assert set(quality) == {
        "orders_batch_quality",
        "settlement_lines_batch_quality",
        "parcels_quality",
        "stock_positions_quality",
        "orders_day_quality",
        "settlement_lines_day_quality",
        "reconciliation_quality",
    }
    assert all(node.blocking for node in quality.values())

    def job_checks(name: str) -> set[str]:
        keys = defs.resolve_job_def(name).asset_layer.asset_graph.asset_check_keys
        return {key.name for key in keys if key.name.endswith("_quality")}

    assert job_checks(PIPELINE_JOB) == {"orders_batch_quality", "settlement_lines_batch_quality"}
    assert job_checks(CHECKS_JOB) == {"parcels_quality", "stock_positions_quality"}
    assert job_checks(FULL_REBUILD_JOB) == {
        "orders_batch_quality",
        "settlement_lines_batch_quality",
        "parcels_quality",
        "stock_positions_quality",
    }
    assert {"orders_day_quality", "settlement_lines_day_quality", "reconciliation_quality"} <= job_checks(RECON_JOB)


def test_each_micro_batch_runs_the_key_and_invariant_tests_and_the_checks_job_all_of_them(defs):
    """The checks job runs every dbt test over whole tables; the micro-batch runs only the uniqueness tests
    (tables and raw sources) and the singular tests (cadence.is_critical), on what it rebuilt."""
    from orchestration.definitions import CHECKS_JOB, FULL_REBUILD_JOB, PIPELINE_JOB
    from orchestration.defs.ingest.assets import raw_tables

    raw_load_checks = {spec.name for spec in raw_tables.check_specs}  # the load's own checks, not dbt's

    def dbt_checks(name: str) -> set[str]:
        keys = defs.resolve_job_def(name).asset_layer.asset_graph.asset_check_keys
        return {key.name for key in keys if not key.name.endswith("_quality") and key.name not in raw_load_checks}

    micro, scheduled, nightly = dbt_checks(PIPELINE_JOB), dbt_checks(CHECKS_JOB), dbt_checks(FULL_REBUILD_JOB)
    assert micro and scheduled
    assert micro < scheduled == nightly
    assert {"unique_fct_orders_order_key", "assert_parcels_within_limits", "assert_stock_conservation"} <= micro
    assert "source_unique_raw_orders_order_key" in micro
    # A hash of a combination the batch tests unique is left to the checks job, with why (cadence.py).
    assert "unique_fct_order_status_history_status_change_id" in scheduled - micro
    assert "unique_combination_fct_order_status_history_order_key__change_no" in micro
    assert not any(name.startswith(("source_not_null_", "source_accepted_values_", "not_null_")) for name in micro)


def test_a_key_test_leaves_the_micro_batch_only_when_its_meta_says_why():
    from orchestration.defs.transform.cadence import is_critical

    unique = {"depends_on": {"nodes": ["model.orderhub.fct_x"]}, "test_metadata": {"name": "unique"}}
    assert is_critical(unique)
    assert is_critical({**unique, "config": {"meta": {}}})
    left_out = {**unique, "config": {"meta": {"left_out_of_micro_batches": "the md5 of a tested combination"}}}
    assert not is_critical(left_out)
