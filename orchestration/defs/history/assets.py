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
from orchestration.resources import ClickHouse, Warehouse

HISTORY_KEY = ["history", "clickhouse"]
# The raw tables the sink reads besides the ones it copies: the batch list (its watermark) and the versions
# (which orders may have left rows behind).
RAW_DEPS = (*(spec.source.split(".")[1] for spec in RAW), "ingest_batches", "order_versions")


@dg.asset(
    key=HISTORY_KEY,
    deps=[dg.AssetKey(["raw", table]) for table in RAW_DEPS]
    + [dg.AssetKey(spec.source.split(".")) for spec in MARTS]
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
        written = sync(duck, client)
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(f"ClickHouse: {sum(written.values())} rows written in {seconds} s")
    return dg.MaterializeResult(
        metadata={"seconds": seconds, **{f"rows.{table}": rows for table, rows in written.items()}}
    )
