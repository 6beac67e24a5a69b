"""Settlement reconciliation as daily-partitioned assets.

The finance models (dbt_project/models/{intermediate,marts}/finance) are one dbt asset set partitioned by day in
Asia/Shanghai; a run for a partition or a range hands the days to dbt (a row in pipeline.recon_window for the
length of the invocation, dbt_project/macros/recon.sql) and dbt rebuilds exactly those days. A day's rows depend
only on data dated up to that day, so a backfill equals day-by-day runs. A backfill runs as one dbt invocation
(BackfillPolicy.single_run).

dbt runs in this process with the manifest the transform keeps (dbt_inproc.py): the days are a row rather than
vars, so the vars are the transform's (the rules file and the warehouse) and a reconciliation parses nothing
that a micro-batch in the same process has parsed, nor the other way round.

The reconciliation job also selects what the marts are built from (the raw micro-batch load and the staging
views), so a scheduled run loads statements that landed since the last micro-batch before reconciling.
"""
# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

import datetime as dt

import dagster as dg
from dagster_dbt import DbtProject, dbt_assets

from ingestion.contract import LOCAL_TIMEZONE
from orchestration.defs.ingest.assets import raw_tables
from orchestration.defs.transform.dbt import FolderGroups, OrderhubDbtCli, keep_partial_parse, prune_run_targets
from orchestration.defs.transform.dbt_inproc import invoke
from orchestration.defs.transform.dbt_state import recon_days_for_dbt
from orchestration.resources import Warehouse
from orchestration.rules import dbt_vars
from orchestration.settings import Settings

FINANCE_DBT_SELECT = "path:models/intermediate/finance path:models/marts/finance"
RECON_JOB = "orderhub_reconciliation"
RECON_TIMEZONE = LOCAL_TIMEZONE  # a day is reconciled once it is over where the stores are
RECON_START_DATE = "2025-01-01"

RECON_PARTITIONS = dg.DailyPartitionsDefinition(start_date=RECON_START_DATE, timezone=RECON_TIMEZONE)


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
    def orderhub_finance_dbt(context: dg.AssetExecutionContext, dbt: OrderhubDbtCli, warehouse: Warehouse):
        days = context.partition_key_range
        context.log.info(f"reconciling {days.start} .. {days.end}")
        first, last = dt.date.fromisoformat(days.start), dt.date.fromisoformat(days.end)
        # The rules file is read at run time, as the transform reads it: an edited rule applies on the next run.
        with recon_days_for_dbt(warehouse.connect, first, last):
            run = invoke(context, dbt, ["build", "--vars", dbt_vars(settings.rules)])
        keep_partial_parse(run.target_path, project)
        prune_run_targets(run.target_path.parent, prefix=f"{context.op_execution_context.op.name}-")
        # A failed model or test raises here, after what did run is reported.
        yield from run.stream(context)

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
