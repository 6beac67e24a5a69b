"""Turning new landing files into micro-batch runs.

The sensor only has to notice that *something* new landed; which files a run loads is decided by the
checkpoint inside the warehouse, so a missed tick or a double request can neither lose nor repeat data.
The cursor is the newest modification time seen (ns); the run key makes Dagster skip repeats.
"""

import dagster as dg

from ingestion.landing import discover
from orchestration import clock
from orchestration.resources import OrderhubPaths


def newest_landing_mtime_ns(paths: OrderhubPaths) -> int:
    files = discover(paths.landing_path)
    return max((f.path.stat().st_mtime_ns for f in files), default=0)


def build_landing_sensor(job, interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=interval_seconds, default_status=dg.DefaultSensorStatus.RUNNING)
    def landing_sensor(context: dg.SensorEvaluationContext, paths: OrderhubPaths):
        newest = newest_landing_mtime_ns(paths)
        seen = int(context.cursor or 0)
        if newest <= seen:
            return dg.SkipReason("no new landing files")
        context.update_cursor(str(newest))
        # The run's clock is fixed when it is requested, so a run queued behind another is judged at its tick.
        return dg.RunRequest(
            run_key=f"landing-{newest}", tags={clock.AS_OF_TAG: clock.format_as_of(clock.requested_as_of())}
        )

    return landing_sensor
