"""The serving snapshot: what dashboards read, published atomically after the marts are built.

In a pipeline run that succeeds, the snapshot is its last step. When a step of the run fails (dispatch, dbt,
a mart quality check), Dagster skips everything downstream, the snapshot included; the same asset is then
run alone by the publish job (`orderhub run` launches it, and in a served deployment the
`publish_after_failed_run` sensor does), tagged with the failed run: it publishes what the warehouse holds, with
the parts that run did not refresh marked stale in `serving_status`. So an optional step never takes the
dashboard down with it, and a successful run still publishes in one run with nothing stale. A run that failed
only an ERROR check on its raw batch has refreshed every part: its snapshot is re-published with `pipeline_ok`
false and the failure in `run_problems`.
"""

import dagster as dg

from orchestration import clock
from orchestration.defs.serving import publish as serving
from orchestration.resources import OrderhubPaths
from orchestration.rules import load as load_rules

# On a publish run: the pipeline run it publishes for (a failed one).
PUBLISHED_FOR_TAG = "orderhub/published_for"


@dg.asset(
    key=["serving", "snapshot"],
    deps=[dg.AssetKey([serving.MARTS_SCHEMA, table]) for table in (*serving.SERVING_TABLES, "fct_orders")]
    + [dg.AssetKey(["dispatch", "plan"])],
    group_name="serving",
    kinds={"duckdb"},
)
def serving_snapshot(context: dg.AssetExecutionContext, paths: OrderhubPaths) -> dg.MaterializeResult:
    for_run = context.run.tags.get(PUBLISHED_FOR_TAG, context.run_id)
    failures = run_failures(context.instance, for_run) if for_run != context.run_id else []
    as_of = clock.run_as_of(context)
    counts = serving.publish(
        paths.warehouse_path,
        paths.serving_path,
        context.run_id,
        as_of=as_of,
        for_run=for_run,
        failures=failures,
        local_timezone=load_rules(paths.rules)["local_timezone"],
    )
    if failures:
        context.log.warning(f"published for failed run {for_run}: {'; '.join(failures)}")
    return dg.MaterializeResult(
        metadata={
            "path": str(paths.serving_path),
            "as_of": clock.format_as_of(as_of),
            "published_for": for_run,
            "failures": serving.failures_text(failures) or "(none)",
            **{f"rows.{t}": n for t, n in counts.items()},
        }
    )


def run_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """What failed in a run, one line each: failed steps with their error, and failed ERROR checks (a failed
    blocking check stops what is downstream of it without failing a step of its own asset)."""
    kinds = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    out = []
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        data = event.event_specific_data
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = getattr(data, "error", None)
            # Dagster wraps the step's exception ("Error occurred while executing op ..."): the cause says what.
            while error is not None and error.cause is not None:
                error = error.cause
            message = (error.message.strip().splitlines() or [""])[-1] if error is not None else "failed"
            out.append(f"step {event.step_key} failed: {message}")
        elif not data.passed and data.severity == dg.AssetCheckSeverity.ERROR:
            out.append(
                f"check {data.asset_key.to_user_string()}:{data.check_name} failed: {data.description or ''}".strip()
            )
    return out
