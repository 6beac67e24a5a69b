"""The serving snapshot's copy in ClickHouse, for dashboards that read there (history/serving.py).

Downstream of the snapshot, so it can never stop it: when the copy fails (ClickHouse down, a type the copy
cannot carry) this step fails and with it the run, which is how it shows: the run is red in Dagster, and the
publish job then republishes the snapshot naming the failed step (`run_problems`), which the dashboards show.
The ClickHouse copy stays on its previous complete version meanwhile, its "published" stamp ageing. The
publish job runs this asset too, so a run whose dbt or dispatch step failed still reaches ClickHouse's
readers with its stale parts marked.
"""

import time
import traceback

import dagster as dg

from history import serving as serving_copy
from history.client import describe_dsn
from orchestration.resources import ClickHouse, OrderhubPaths

KEY = ["history", "serving"]


@dg.asset(
    key=KEY,
    deps=[dg.AssetKey(["serving", "snapshot"])],
    group_name="history",
    kinds={"clickhouse"},
    description="The serving snapshot copied into ClickHouse (orderhub_serving) for dashboards that read there "
    "(history/serving.py).",
)
def history_serving(
    context: dg.AssetExecutionContext, paths: OrderhubPaths, clickhouse: ClickHouse
) -> dg.MaterializeResult:
    started = time.monotonic()
    try:
        # The resource's client waits while the dashboards' process holds a chdb folder, and is closed right
        # after: chdb hosts one engine per process and locks its folder.
        with clickhouse.connect() as client:
            counts = serving_copy.publish_snapshot(client, paths.serving_path)
            publish = serving_copy.latest_publish(client)
    except Exception as exc:
        # The run's failure text (and the republished snapshot's run_problems) shows the innermost cause, which
        # for a server that is down is a bare "Connection refused": say what failed and where, and keep the
        # whole traceback in the step's log.
        context.log.error(traceback.format_exc())
        where = describe_dsn(clickhouse.dsn, serving_copy.DATABASE)
        raise ServingCopyFailed(f"copy of the serving snapshot to ClickHouse {where} failed: {exc}") from None
    seconds = round(time.monotonic() - started, 3)
    context.log.info(f"serving copy version {publish.version if publish else '?'}: {sum(counts.values())} rows")
    return dg.MaterializeResult(
        metadata={
            "version": publish.version if publish else -1,
            "seconds": seconds,
            **{f"rows.{table}": rows for table, rows in counts.items()},
        }
    )


class ServingCopyFailed(RuntimeError):
    """The snapshot could not be copied to ClickHouse; the dashboards reading there keep the previous copy."""
