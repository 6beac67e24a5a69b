"""Landing files → raw tables: one micro-batch per run, checkpointed in the warehouse itself."""
# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

import dagster as dg

from ingestion import address_rekey, addresses, contract
from ingestion.loader import run_batch
from orchestration.resources import OrderhubPaths, Warehouse

RAW_TABLES = (*contract.ORDER_TABLES, *contract.REFERENCE_TABLES)


@dg.multi_asset(
    specs=[dg.AssetSpec(["raw", table], group_name="raw", kinds={"duckdb", "polars"}) for table in RAW_TABLES],
    check_specs=[
        dg.AssetCheckSpec(
            "every_record_accounted_for",
            asset=["raw", "ingest_batches"],
            blocking=True,
            description="landed = loaded + quarantined + duplicate for every batch and channel",
        ),
    ],
    can_subset=False,
)
def raw_tables(context: dg.AssetExecutionContext, paths: OrderhubPaths, warehouse: Warehouse):
    with warehouse.connect() as con:
        # Before the load: the new batch is keyed under the current address rules, and so must every stored order be.
        rekeyed = address_rekey.rekey(con, progress=lambda done, total: context.log.debug(f"rekey: {done}/{total}"))
        if rekeyed is not None and rekeyed.versions:
            context.log.info(
                f"address rules edition {addresses.KEY_RULES_VERSION}: {rekeyed.versions} stored order "
                f"versions keyed again, {rekeyed.changed_versions} changed ({rekeyed.changed_orders} current orders), "
                f"{rekeyed.kept_without_fallback} kept as they were (the text that gave their district is not stored)"
            )
        result = run_batch(
            con,
            paths.landing_path,
            progress=lambda stage, done, total: context.log.debug(f"{stage}: {done}/{total}"),
        )
        unbalanced = con.execute(
            f"SELECT batch_id, channel, landed, loaded, quarantined, duplicate FROM {contract.RAW_SCHEMA}.ingest_batches "
            "WHERE landed <> loaded + quarantined + duplicate"
        ).fetchall()

    # A large run commits a group of files at a time, each group a batch of its own (ingestion/loader.py).
    batches = ", ".join(result.batch_ids) or "(none)"
    context.log.info(
        f"batches {batches}: {result.files} files, {result.landed} records landed, {result.loaded} loaded, "
        f"{result.quarantined} quarantined, {result.duplicate} duplicates"
    )
    for changed in result.changed_files:
        context.log.warning(changed.describe())
    batch_metadata = {
        "batch_id": batches if result.batch_ids else "(no new files)",
        "changed_files": len(result.changed_files),
        "files": result.files,
        "landed": result.landed,
        "loaded": result.loaded,
        "quarantined": result.quarantined,
        "duplicate": result.duplicate,
    }
    for table in RAW_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw", table], metadata=batch_metadata if table == "ingest_batches" else None
        )
    yield dg.AssetCheckResult(
        check_name="every_record_accounted_for",
        asset_key=["raw", "ingest_batches"],
        passed=not unbalanced,
        metadata={"unbalanced_rows": len(unbalanced)},
        description=f"unbalanced: {unbalanced[:5]}" if unbalanced else "all batches balance",
    )
