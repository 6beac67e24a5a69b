"""The ClickHouse copy of the orders and marts: `history/clickhouse`, defined only when a DSN is configured.

It runs after the serving snapshot, never before it: the dashboards' freshness does not wait on ClickHouse, and a
ClickHouse that is down fails this step alone. The run then counts as failed, so the publish job republishes the
snapshot (orchestration/defs/serving/assets.py) as it does for any failed step, and the next run copies what
this one could not (the sink's watermark and day fingerprints live in ClickHouse and advance only after a
write succeeds).
"""

import time

import dagster as dg

from history.schema import MARTS, RAW
from history.sink import sync
from ingestion.warehouse import has_table
from orchestration.defs.transform.cadence import wants_full_refresh
from orchestration.defs.transform.dbt_state import RULES_TABLE
from orchestration.resources import ClickHouse, Warehouse

HISTORY_KEY = ["history", "clickhouse"]
# The raw tables the sink reads besides the ones it copies: the batch list (its watermark) and the versions
# (which orders may have left rows behind).
RAW_DEPS = (*(spec.source.split(".")[1] for spec in RAW), "ingest_batches", "order_versions")


@dg.asset(
    key=HISTORY_KEY,
    deps=[dg.AssetKey(["raw", table]) for table in RAW_DEPS]
    # A derived table (order_customers) names the mart it has one row per: listed once.
    + [dg.AssetKey(source.split(".")) for source in dict.fromkeys(spec.source for spec in MARTS)]
    + [dg.AssetKey(["serving", "snapshot"])],
    group_name="history",
    kinds={"clickhouse"},
    description="The raw orders, lines and events and the ops marts, copied into ClickHouse (history/sink.py).",
)
def clickhouse_history(
    context: dg.AssetExecutionContext, warehouse: Warehouse, clickhouse: ClickHouse
) -> dg.MaterializeResult:
    started = time.perf_counter()
    with warehouse.connect() as duck, clickhouse.connect() as client:
        # A micro-batch compares the days its batches can have changed; a full rebuild (the nightly job, or a
        # micro-batch that rebuilt everything after a change of rules or models) every day of every mart.
        written = sync(duck, client, every_day=wants_full_refresh(context.run.tags), marts_build=last_full_build(duck))
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(f"ClickHouse: {sum(written.values())} rows written in {seconds} s")
    return dg.MaterializeResult(
        metadata={"seconds": seconds, **{f"rows.{table}": rows for table, rows in written.items()}}
    )


def last_full_build(duck) -> str:
    """A label of the marts' last full build (orchestration/defs/transform/dbt_state.py), '' if none."""
    if not has_table(duck, RULES_TABLE):
        return ""
    rows = duck.execute(
        f"SELECT digest || '@' || CAST(built_at AS VARCHAR) FROM {RULES_TABLE} ORDER BY built_at DESC LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else ""
