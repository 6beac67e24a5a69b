"""The dbt project as assets: staging, intermediate and marts, with dbt tests as asset checks."""

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtProject, dbt_assets

from ingestion import address_rekey
from ingestion.faults import crash_point
from orchestration import clock, refreshes
from orchestration.defs.reconciliation.assets import FINANCE_DBT_SELECT
from orchestration.defs.transform.cadence import is_micro_batch, scoped_to_batches, wants_full_refresh
from orchestration.defs.transform.dbt import FolderGroups, OrderhubDbtCli, keep_partial_parse, prune_run_targets
from orchestration.defs.transform.dbt_inproc import invoke
from orchestration.defs.transform.dbt_state import (
    build_changed,
    build_digest,
    clock_for_dbt,
    model_checksums,
    record_full_build,
)
from orchestration.resources import Warehouse
from orchestration.rules import dbt_vars
from orchestration.rules import load as load_rules
from orchestration.settings import Settings


def build_dbt_assets(project: DbtProject, settings: Settings) -> dg.AssetsDefinition:
    # The finance models are rebuilt per day by their own partitioned assets (orchestration/defs/reconciliation/assets.py).
    # Tests on the raw sources are asset checks of the raw tables too (dagster-dbt leaves them out by default).
    translator = FolderGroups(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))
    models = model_checksums(project.manifest_path)  # once here, not in every micro-batch

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="orderhub_dbt",
        exclude=FINANCE_DBT_SELECT,
        dagster_dbt_translator=translator,
    )
    def orderhub_dbt(context: dg.AssetExecutionContext, dbt: OrderhubDbtCli, warehouse: Warehouse):
        # The rules file is read at run time, so an edited rule applies on the next run without a reload.
        # as_of is the run's clock, the same one dispatch and the snapshot use; dbt reads it from the warehouse
        # (dbt_clock.py), so the vars stay those of the rules file and dbt's partial parse holds.
        as_of = clock.run_as_of(context)
        dbt_args = ["build", "--vars", dbt_vars(settings.rules)]
        with warehouse.connect() as con:
            keyed_under = address_rekey.stored_edition(con)
        digest = build_digest(load_rules(settings.rules), models, keyed_under)
        full_refresh = wants_full_refresh(context.run.tags) or build_changed(warehouse.connect, digest)
        micro_batch = bool(context.selected_asset_keys) and is_micro_batch(context.run.tags) and not full_refresh
        if full_refresh and context.selected_asset_keys:
            context.log.info("rebuilding every mart from scratch (nightly rebuild, or the rules or models changed)")
            dbt_args.append("--full-refresh")
        elif micro_batch:
            # The views are as the last full build made them (same models, same rules): re-creating them
            # every micro-batch is a second of DDL for nothing. Unit tests test the SQL on fixtures, not the
            # data: CI and the nightly build run them.
            dbt_args += ["--exclude", "config.materialized:view", "--exclude-resource-type", "unit_test"]
        # A micro-batch's key and invariant tests read the partitions it rebuilt (cadence.py).
        # dbt runs in this process with the manifest kept between runs (dbt_inproc.py); the warehouse
        # connections above are closed before it opens the file, and dbt closes its own when it is done.
        with clock_for_dbt(warehouse.connect, as_of), scoped_to_batches(warehouse.connect, micro_batch):
            # Fault tests: killed on dbt's first result, the rest of the build not done yet.
            run = invoke(context, dbt, dbt_args, on_result=lambda: crash_point("dbt.during"))
        keep_partial_parse(run.target_path, project)
        prune_run_targets(run.target_path.parent, prefix=f"{context.op_execution_context.op.name}-")
        yield from run.stream(context)
        # Reached only when the whole build succeeded (a failed node raises out of the stream above, after
        # what did run is reported); a run of the tests alone (the checks job) refreshed no mart.
        if context.selected_asset_keys:
            with warehouse.connect() as con:
                refreshes.record(con, "marts", context.run_id, as_of)
            # Only a build of every model is the full build the digest stands for: the reconciliation job
            # selects the staging views alone, and recording its build would let the next micro-batch run
            # incrementally over marts that were never built. (`orderhub_dbt` is the whole definition here;
            # the context's assets_def is the run's subset.)
            if full_refresh and set(context.selected_asset_keys) == set(orderhub_dbt.keys):
                record_full_build(warehouse.connect, digest, clock.utc_now())

    return orderhub_dbt
