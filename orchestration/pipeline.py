"""Running the pipeline job once, in this process, through Dagster."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime

from orchestration import clock, idle
from orchestration.settings import Settings

# The serving snapshot asset's step (its key joined by "__").
SNAPSHOT_NODE = "serving__snapshot"
# dbt prints its own progress; Dagster adds one warning per dbt source test, which is noise here.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def run_once(settings: Settings, as_of: datetime | None = None, *, force: bool = False, full: bool = False) -> bool:
    """One micro-batch over whatever is new in the landing folder; True when every step succeeded, or when
    there was nothing to do (orchestration/idle.py: then no run is started, unless `force`).

    `full` runs the nightly job instead (docs/micro-batches.md): every mart rebuilt from scratch, with every
    dbt test and GX suite; it always runs.

    `as_of` (naive UTC) is the run's clock; by default ORDERHUB_AS_OF, else now. When a step fails, the
    snapshot is still published, by the publish job, with what that run did not refresh marked stale.

    With `settings.dagster_home` set the run is recorded in that instance (so `make demo` shows it in the
    UI); otherwise an ephemeral instance is used.
    """
    given_clock = as_of or clock.from_env()
    if not (force or full):
        verdict = idle.check(settings, given_clock)
        if verdict.idle:
            print(verdict.reason)
            return True
    return Runner(settings).run(given_clock, full=full).success


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    # Stopped by SIGINT/SIGTERM: Dagster turns the signal into a failed run, and the caller should stop too.
    interrupted: bool = False


class Runner:
    """The pipeline's jobs loaded once, to run again and again in this process: `run_once` uses one for a
    single run; `orderhub watch` keeps one for as long as it watches, so a micro-batch does not pay for
    starting Python, importing Dagster, dbt's adapter and GX and loading the definitions every time."""

    def __init__(self, settings: Settings):
        # Imported here: deciding that there is nothing to do must not pay for Dagster, dbt and the solvers.
        from orchestration.definitions import build_definitions

        self.settings = settings
        self.defs = build_definitions(settings)
        self.instance = None  # the instance the last run was recorded in

    def _instance(self):
        """The configured Dagster instance, kept; without one, a fresh ephemeral instance per run: an
        ephemeral instance keeps every event in memory, which a day of micro-batches would pile up."""
        from orchestration.instance import instance_for

        if self.instance is None or self.settings.dagster_home is None:
            self.instance = instance_for(self.settings)
        return self.instance

    def run(self, as_of: datetime | None = None, *, full: bool = False) -> RunOutcome:
        """One run of the micro-batch job (or the nightly job), at clock `as_of` (default now); when it
        fails, the publish job publishes the snapshot with what it did not refresh marked stale."""
        from orchestration.definitions import FULL_REBUILD_JOB, PIPELINE_JOB, PUBLISH_JOB
        from orchestration.defs.serving.assets import PUBLISHED_FOR_TAG

        job = self.defs.resolve_job_def(FULL_REBUILD_JOB if full else PIPELINE_JOB)
        tags = {clock.AS_OF_TAG: clock.format_as_of(as_of or clock.utc_now())}
        result = job.execute_in_process(
            instance=self._instance(), run_config=QUIET_LOGS, raise_on_error=False, tags=tags
        )
        report_failed_checks(result.get_asset_check_evaluations())
        if _interrupted(result):
            # Nothing was committed half-way (each step's writes are transactions); the next run redoes it.
            return RunOutcome(success=False, interrupted=True)
        if not result.success:
            publish = self.defs.resolve_job_def(PUBLISH_JOB).execute_in_process(
                instance=self.instance,
                run_config=QUIET_LOGS,
                raise_on_error=False,
                tags={**tags, PUBLISHED_FOR_TAG: result.run_id},
            )
            # The snapshot's own step: a failed copy to ClickHouse after it (in the same job) does not unpublish it.
            print(
                "the snapshot was still published, with what this run did not refresh marked stale (table "
                "serving_status)"
                if publish.is_node_success(SNAPSHOT_NODE)
                else "the snapshot could not be published either: the dashboards show the previous one",
                file=sys.stderr,
            )
        return RunOutcome(success=result.success)


def _interrupted(result) -> bool:
    # By name: the enum (RunFailureReason) is not part of Dagster's public API.
    failure = None if result.success else result.get_run_failure_event()
    reason = getattr(getattr(failure, "event_specific_data", None), "failure_reason", None)
    return getattr(reason, "name", None) == "UNEXPECTED_TERMINATION"


def report_failed_checks(evaluations) -> None:
    """Dagster's own failure says only "1 blocking asset check failed": print which check, on what, and its
    description (the rule, the orders and the values) so the person reading the run knows what to fix."""
    import dagster as dg

    for check in evaluations:
        if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR:
            where = "/".join(check.asset_key.path)
            print(f"check {check.check_name} on {where} failed: {check.description}", file=sys.stderr)
