"""Turning new landing files into micro-batch runs.

The sensor only has to notice that *something* new landed; which files a run loads is decided by the
checkpoint inside the warehouse, so a missed tick or a double request can neither lose nor repeat data.
What it has seen is kept per business-day folder (ingestion/landing_watch.py): a tick stats the folders and
lists only those that changed, and a file with an old mtime is still new. The cursor names that state; the
run key (the same name) makes Dagster skip repeats.
"""

import hashlib

import dagster as dg

from ingestion import landing_watch
from orchestration import clock
from orchestration.resources import OrderhubPaths


def build_landing_sensor(job, interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=interval_seconds, default_status=dg.DefaultSensorStatus.RUNNING)
    def landing_sensor(context: dg.SensorEvaluationContext, paths: OrderhubPaths):
        root = paths.landing_path
        seen = landing_watch.load(root, context.cursor)
        look = landing_watch.look(root, seen)
        if look.state == seen:
            return dg.SkipReason("no new landing files")
        cursor = landing_watch.save(root, look.state, keep=context.cursor)
        context.update_cursor(cursor)
        if not look.new_files:
            return dg.SkipReason("landing folders changed, no new files")
        where = ", ".join(f"{folder} ({count} files)" for folder, count in sorted(look.new_in.items())[:5])
        context.log.info(f"new landing files in {len(look.new_in)} folders: {where}")
        # The run's clock is fixed when it is requested, so a run queued behind another is judged at its tick.
        return dg.RunRequest(
            run_key=f"landing-{hashlib.sha1(cursor.encode()).hexdigest()[:20]}",
            tags={clock.AS_OF_TAG: clock.format_as_of(clock.requested_as_of())},
        )

    return landing_sensor
