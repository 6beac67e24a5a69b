"""The serving snapshot: what dashboards read, published atomically after the marts are built."""


import dagster as dg

from orchestration import serving
from orchestration.resources import OrderhubPaths


@dg.asset(
    key=["serving", "snapshot"],
    deps=[dg.AssetKey([serving.MARTS_SCHEMA, table]) for table in (*serving.SERVING_TABLES, "fct_orders")]
    + [dg.AssetKey(["dispatch", "plan"])],
    group_name="serving",
    kinds={"duckdb"},
)
def serving_snapshot(context: dg.AssetExecutionContext, paths: OrderhubPaths) -> dg.MaterializeResult:
    counts = serving.publish(paths.warehouse_path, paths.serving_path, context.run_id)
    return dg.MaterializeResult(metadata={"path": str(paths.serving_path), **{f"rows.{t}": n for t, n in counts.items()}})
