"""The one place that wires orderhub together for Dagster (`dagster dev -m orchestration.definitions`)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.assets.raw import raw_tables
from orchestration.assets.serving import serving_snapshot
from orchestration.assets.transforms import build_dbt_assets
from orchestration.dbt_resources import dbt_project, dbt_resource
from orchestration.resources import OrderhubPaths
from orchestration.sensors import build_landing_sensor
from orchestration.settings import Settings

PIPELINE_JOB = "orderhub_pipeline"
# One warehouse writer at a time: runs carry this tag and dagster.yaml limits it to one.
WRITER_TAG = {"orderhub/warehouse": "writer"}


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    settings.export()
    project = dbt_project(settings)
    pipeline = dg.define_asset_job(
        PIPELINE_JOB,
        selection=dg.AssetSelection.all(),
        executor_def=dg.in_process_executor,
        tags=WRITER_TAG,
        description="One micro-batch: new landing files → raw → dbt marts → serving snapshot.",
    )
    return dg.Definitions(
        assets=[raw_tables, build_dbt_assets(project, settings), serving_snapshot],
        jobs=[pipeline],
        sensors=[build_landing_sensor(pipeline, int(os.environ.get("ORDERHUB_SENSOR_SECONDS", "5")))],
        resources={"paths": OrderhubPaths.from_settings(settings), "dbt": dbt_resource(project)},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Entry point for `dagster dev -m orchestration.definitions`, loaded lazily (no dbt parse on import)."""
    return build_definitions()
