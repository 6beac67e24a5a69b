"""Publishing the snapshot for a failed pipeline run, in a served deployment (`orderhub run` does it itself)."""

import dagster as dg

from orchestration import clock
from orchestration.defs.serving.assets import PUBLISHED_FOR_TAG


def build_publish_after_failure_sensor(pipeline_job, publish_job, interval_seconds: int) -> dg.SensorDefinition:
    """After a failed pipeline run, publish the snapshot anyway, for that run and at its clock."""

    @dg.run_failure_sensor(
        monitored_jobs=[pipeline_job],
        request_job=publish_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def publish_after_failed_run(context: dg.RunFailureSensorContext):
        failed = context.dagster_run
        as_of = failed.tags.get(clock.AS_OF_TAG) or clock.format_as_of(clock.requested_as_of())
        return dg.RunRequest(
            run_key=f"publish-{failed.run_id}", tags={PUBLISHED_FOR_TAG: failed.run_id, clock.AS_OF_TAG: as_of}
        )

    return publish_after_failed_run
