"""The one place that wires orderhub together for Dagster (`dagster dev -m orchestration.definitions`)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.assets.finance import build_finance_assets, build_recon_job
from orchestration.assets.dispatch import dispatch_plan_asset
from orchestration.assets.quality import DAILY_CHECKS, QUALITY_CHECKS
from orchestration.assets.raw import raw_tables
from orchestration.assets.serving import serving_snapshot
from orchestration.assets.transforms import build_dbt_assets
from orchestration.dbt_resources import dbt_project, dbt_resource
from orchestration.resources import OrderhubPaths
from orchestration.schedules import build_recon_schedule
from orchestration.sensors import build_landing_sensor, build_publish_after_failure_sensor
from orchestration.settings import Settings

PIPELINE_JOB = "orderhub_pipeline"
PUBLISH_JOB = "orderhub_publish"
# One warehouse writer at a time: runs carry this tag and dagster.yaml limits it to one.
WRITER_TAG = {"orderhub/warehouse": "writer"}


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    settings.export()
    project = dbt_project(settings)
    finance = build_finance_assets(project, settings)  # daily partitions: reconciled by their own job
    recon = build_recon_job(finance, WRITER_TAG)
    pipeline = dg.define_asset_job(
        PIPELINE_JOB,
        # The day-scoped data-quality checks belong to the daily reconciliation build (issue 7).
        selection=dg.AssetSelection.all() - dg.AssetSelection.assets(finance) - dg.AssetSelection.checks(*DAILY_CHECKS),
        executor_def=dg.in_process_executor,
        tags=WRITER_TAG,
        description="One micro-batch: new landing files → raw → dbt marts → serving snapshot.",
    )
    # A failed pipeline run skips the snapshot; this job publishes it anyway, with the failed parts stale
    # (orchestration/assets/serving.py). It reads the warehouse, so it queues behind any writer.
    publish = dg.define_asset_job(
        PUBLISH_JOB,
        selection=dg.AssetSelection.assets(serving_snapshot),
        executor_def=dg.in_process_executor,
        tags=WRITER_TAG,
        description="Publish the serving snapshot for a failed pipeline run, marking what it did not refresh as stale.",
    )
    sensor_seconds = int(os.environ.get("ORDERHUB_SENSOR_SECONDS", "5"))
    return dg.Definitions(
        assets=[raw_tables, build_dbt_assets(project, settings), dispatch_plan_asset, serving_snapshot, finance],
        asset_checks=list(QUALITY_CHECKS),
        jobs=[pipeline, recon, publish],
        schedules=[build_recon_schedule(recon)],
        sensors=[build_landing_sensor(pipeline, sensor_seconds),
                 build_publish_after_failure_sensor(pipeline, publish, sensor_seconds)],
        resources={"paths": OrderhubPaths.from_settings(settings), "dbt": dbt_resource(project)},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Entry point for `dagster dev -m orchestration.definitions`, loaded lazily (no dbt parse on import)."""
    return build_definitions()
