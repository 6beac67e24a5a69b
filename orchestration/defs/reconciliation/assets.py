"""Settlement reconciliation as daily-partitioned assets.

The finance models (dbt_project/models/{intermediate,marts}/finance) are one dbt asset set partitioned by day in
Asia/Shanghai; a run for a partition or a range passes the days to dbt as vars recon_date_from / recon_date_to
and dbt rebuilds exactly those days. A day's rows depend only on data dated up to that day, so a backfill
equals day-by-day runs. A backfill runs as one dbt invocation (BackfillPolicy.single_run).

The reconciliation job also selects what the marts are built from (the raw micro-batch load and the staging
views), so a scheduled run loads statements that landed since the last micro-batch before reconciling.
"""
# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

import json

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from ingestion.contract import LOCAL_TIMEZONE
from orchestration import rules
from orchestration.defs.ingest.assets import raw_tables
from orchestration.defs.transform.dbt import FolderGroups
from orchestration.settings import Settings

FINANCE_DBT_SELECT = "path:models/intermediate/finance path:models/marts/finance"
RECON_JOB = "orderhub_reconciliation"
RECON_TIMEZONE = LOCAL_TIMEZONE  # a day is reconciled once it is over where the stores are
RECON_START_DATE = "2025-01-01"

RECON_PARTITIONS = dg.DailyPartitionsDefinition(start_date=RECON_START_DATE, timezone=RECON_TIMEZONE)


def recon_vars(settings: Settings, first_day: str, last_day: str) -> str:
    """The rules file plus the days to rebuild, as dbt --vars."""
    return json.dumps(
        {**rules.load(settings.rules), "recon_date_from": first_day, "recon_date_to": last_day}, ensure_ascii=False
    )


def build_finance_assets(project: DbtProject, settings: Settings) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=FINANCE_DBT_SELECT,
        name="orderhub_finance_dbt",
        partitions_def=RECON_PARTITIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=FolderGroups(),
    )
    def orderhub_finance_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        days = context.partition_key_range
        context.log.info(f"reconciling {days.start} .. {days.end}")
        yield from dbt.cli(["build", "--vars", recon_vars(settings, days.start, days.end)], context=context).stream()

    return orderhub_finance_dbt


def build_recon_job(finance_assets: dg.AssetsDefinition, tags: dict[str, str]):
    """The finance marts and everything upstream of them (raw load, staging views), one partition or range
    per run, in one process: the run writes the warehouse, and DuckDB allows one writer."""
    return dg.define_asset_job(
        RECON_JOB,
        # raw_tables is one non-subsettable multi-asset: it is selected whole (with its accounting check).
        selection=dg.AssetSelection.assets(finance_assets).upstream() | dg.AssetSelection.assets(raw_tables),
        partitions_def=RECON_PARTITIONS,
        executor_def=dg.in_process_executor,
        tags=tags,
        description="Settlement reconciliation for a day (or a range): load new files, rebuild that day's finance marts.",
    )
