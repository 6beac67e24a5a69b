"""The serving snapshot's copy in ClickHouse, for dashboards that read there (history/serving.py).

Downstream of the snapshot, so it can never stop it: when the copy fails (ClickHouse down, a type the copy
cannot carry) this step fails and with it the run, which is how it shows: the run is red in Dagster, and the
publish job then republishes the snapshot naming the failed step (`run_problems`), which the dashboards show.
The ClickHouse copy stays on its previous complete version meanwhile, its "published" stamp ageing. The
publish job runs this asset too, so a run whose dbt or dispatch step failed still reaches ClickHouse's
readers with its stale parts marked.
"""

from __future__ import annotations

import time

import dagster as dg

from history import serving as serving_copy
from orchestration.resources import OrderhubPaths

KEY = ["history", "serving"]


def build_serving_copy_asset(dsn: str) -> dg.AssetsDefinition:
    """The asset copying the published snapshot into ClickHouse at ``dsn`` (a closure: the DSN is not shown)."""

    @dg.asset(key=KEY, deps=[dg.AssetKey(["serving", "snapshot"])], group_name="history", kinds={"clickhouse"})
    def history_serving(context: dg.AssetExecutionContext, paths: OrderhubPaths) -> dg.MaterializeResult:
        started = time.monotonic()
        client = serving_copy.connect_when_free(dsn)
        try:
            counts = serving_copy.publish_snapshot(client, paths.serving_path)
            publish = serving_copy.latest_publish(client)
        finally:
            # chdb hosts one engine per process and locks its folder: the dashboards' process opens it between
            # runs, so it is released as soon as the copy is done.
            client.close()
        seconds = round(time.monotonic() - started, 3)
        context.log.info(f"serving copy version {publish.version if publish else '?'}: {sum(counts.values())} rows")
        return dg.MaterializeResult(
            metadata={
                "version": publish.version if publish else -1,
                "seconds": seconds,
                **{f"rows.{table}": rows for table, rows in counts.items()},
            }
        )

    return history_serving
