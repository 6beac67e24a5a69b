"""Running the pipeline job once, in this process, through Dagster."""

from __future__ import annotations

import os
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
    return result.success
