"""Running the pipeline job once, in this process, through Dagster."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.definitions import PIPELINE_JOB, build_definitions

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_once() -> bool:
    """One micro-batch over whatever is new in the landing folder; True when every step succeeded.

    With DAGSTER_HOME set the run is recorded in that instance (so `make demo` shows it in the UI);
    otherwise an ephemeral instance is used.
    """
    defs = build_definitions()
    job = defs.resolve_job_def(PIPELINE_JOB)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, run_config=QUIET_LOGS, raise_on_error=False)
    return result.success
