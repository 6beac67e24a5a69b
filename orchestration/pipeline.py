"""Running the pipeline job once, in this process, through Dagster."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

from orchestration.definitions import PIPELINE_JOB, build_definitions
from orchestration.serve import prepare_dagster_home

# dbt prints its own progress; Dagster adds one warning per dbt source test, which is noise here.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def run_once() -> bool:
    """One micro-batch over whatever is new in the landing folder; True when every step succeeded.

    With DAGSTER_HOME set the run is recorded in that instance (so `make demo` shows it in the UI);
    otherwise an ephemeral instance is used.
    """
    defs = build_definitions()
    job = defs.resolve_job_def(PIPELINE_JOB)
    if os.environ.get("DAGSTER_HOME"):
        prepare_dagster_home(Path(os.environ["DAGSTER_HOME"]))
        instance = dg.DagsterInstance.get()
    else:
        instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, run_config=QUIET_LOGS, raise_on_error=False)
    report_failed_checks(result.get_asset_check_evaluations())
    return result.success


def report_failed_checks(evaluations) -> None:
    """Dagster's own failure says only "1 blocking asset check failed": print which check, on what, and its
    description (the rule, the orders and the values) so the person reading the run knows what to fix."""
    for check in evaluations:
        if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR:
            where = "/".join(check.asset_key.path)
            print(f"check {check.check_name} on {where} failed: {check.description}", file=sys.stderr)
