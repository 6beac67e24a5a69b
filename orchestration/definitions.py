"""The one place that wires orderhub together for Dagster (`dagster dev -m orchestration.definitions`).

Each domain folder under orchestration/defs/ holds its assets, checks, schedules and sensors; this module
assembles them with the jobs that cross domains and the shared resources (orchestration/README.md).
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dispatch.assets import dispatch_plan_asset
from orchestration.defs.history.assets import clickhouse_history
from orchestration.defs.history.serving import history_serving
from orchestration.defs.ingest.assets import raw_tables
from orchestration.defs.ingest.checks import SCHEDULED_RAW_CHECKS
from orchestration.defs.ingest.sensors import build_landing_sensor
from orchestration.defs.quality.checks import DAILY_CHECKS, MART_CHECKS, QUALITY_CHECKS
from orchestration.defs.reconciliation.assets import build_finance_assets, build_recon_job
from orchestration.defs.reconciliation.schedules import build_recon_schedule
from orchestration.defs.serving.assets import serving_snapshot
from orchestration.defs.serving.sensors import build_publish_after_failure_sensor
from orchestration.defs.transform.assets import build_dbt_assets
from orchestration.defs.transform.cadence import (
    FULL_REFRESH_TAG,
    MICRO_BATCH_TAG,
    critical_test_names,
    split_dbt_checks,
)
from orchestration.defs.transform.dbt import dbt_project, dbt_resource
from orchestration.defs.transform.schedules import build_checks_schedule, build_full_rebuild_schedule
from orchestration.resources import ClickHouse, OrderhubPaths, Warehouse
from orchestration.settings import Settings

PIPELINE_JOB = "orderhub_pipeline"
PUBLISH_JOB = "orderhub_publish"
FULL_REBUILD_JOB = "orderhub_full_rebuild"
CHECKS_JOB = "orderhub_checks"
# One warehouse writer at a time: runs carry this tag and dagster.yaml limits it to one.
WRITER_TAG = {"orderhub/warehouse": "writer"}


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The definitions for `settings` (by default, as the environment has them: the code location's case)."""
    settings = settings or Settings.from_env()
    project = dbt_project(settings)
    finance = build_finance_assets(project, settings)  # daily partitions: reconciled by their own job
    recon = build_recon_job(finance, WRITER_TAG)
    transform = build_dbt_assets(project, settings)
    critical_dbt_checks, scheduled_dbt_checks = split_dbt_checks(
        [transform], critical_test_names(project.manifest_path)
    )
    # The day-scoped data-quality checks belong to the daily reconciliation build.
    everything = dg.AssetSelection.all() - dg.AssetSelection.assets(finance) - dg.AssetSelection.checks(*DAILY_CHECKS)
    # Whole-table checks run on their own cadence (orchestration/defs/transform/cadence.py).
    slow_checks = dg.AssetSelection.checks(*scheduled_dbt_checks, *MART_CHECKS, *SCHEDULED_RAW_CHECKS)
    pipeline = dg.define_asset_job(
        PIPELINE_JOB,
        selection=everything - slow_checks,
        executor_def=dg.in_process_executor,
        tags={**WRITER_TAG, MICRO_BATCH_TAG: "true"},
        description="One micro-batch: new landing files → raw → incremental dbt marts (with their key and "
        "invariant tests) → dispatch (re-planned when the plan is due) → serving snapshot.",
    )
    full_rebuild = dg.define_asset_job(
        FULL_REBUILD_JOB,
        selection=everything,
        executor_def=dg.in_process_executor,
        tags={**WRITER_TAG, FULL_REFRESH_TAG: "true"},
        description="Every dbt model rebuilt from scratch with every test and GX suite, then dispatch and the "
        "snapshot: nightly, and after a change to config/rules.yml.",
    )
    # The key and invariant tests too: a micro-batch runs them on the partitions it rebuilt only, so what it did
    # not touch (a hand edit, a bug outside the batch) is seen here within the hour, not at the nightly rebuild.
    checks = dg.define_asset_job(
        CHECKS_JOB,
        selection=slow_checks | dg.AssetSelection.checks(*critical_dbt_checks),
        executor_def=dg.in_process_executor,
        tags=WRITER_TAG,  # DuckDB: the checks read while no run writes
        description="Every dbt test and the GX mart suites over the whole warehouse, and the raw history's keys "
        "for the batches since they last passed (micro-batches run the key and invariant tests on what they "
        "rebuilt, and leave the rest to this job).",
    )
    clickhouse = ClickHouse.from_settings(settings)
    # With ClickHouse, the snapshot is also copied there for the dashboards (after it, so it cannot stop it).
    serving_copy = [history_serving] if clickhouse is not None else []
    # A failed pipeline run skips the snapshot; this job publishes it anyway, with the failed parts stale
    # (orchestration/defs/serving/assets.py). It reads the warehouse, so it queues behind any writer.
    publish = dg.define_asset_job(
        PUBLISH_JOB,
        selection=dg.AssetSelection.assets(serving_snapshot, *serving_copy),
        executor_def=dg.in_process_executor,
        tags=WRITER_TAG,
        description="Publish the serving snapshot for a failed pipeline run, marking what it did not refresh as stale.",
    )
    assets = [raw_tables, transform, dispatch_plan_asset, serving_snapshot, finance, *serving_copy]
    resources = {
        "paths": OrderhubPaths.from_settings(settings),
        "warehouse": Warehouse.from_settings(settings),
        "dbt": dbt_resource(project, settings),
    }
    if clickhouse is not None:
        # In the pipeline and full rebuild jobs through their selections (everything but finance and checks).
        assets.append(clickhouse_history)
        resources["clickhouse"] = clickhouse
    return dg.Definitions(
        assets=assets,
        asset_checks=[*QUALITY_CHECKS, *SCHEDULED_RAW_CHECKS],
        jobs=[pipeline, full_rebuild, checks, recon, publish],
        schedules=[
            build_recon_schedule(recon),
            build_full_rebuild_schedule(full_rebuild),
            build_checks_schedule(checks),
        ],
        sensors=[
            build_landing_sensor(pipeline, settings.sensor_seconds),
            build_publish_after_failure_sensor(pipeline, publish, settings.sensor_seconds),
        ],
        resources=resources,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Entry point for `dagster dev -m orchestration.definitions`, loaded lazily (no dbt parse on import).
    The one place settings come from the environment alone: `orderhub serve` hands them to this process so."""
    return build_definitions()
