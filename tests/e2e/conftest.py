"""One clean pipeline run over the session's simulated day, shared by the e2e tests that only read its results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_days import AS_OF_ENV, replay_clock


def orderhub_run(
    landing: Path, warehouse: Path, crash_at: str | None = None, *extra: str
) -> subprocess.CompletedProcess:
    """`orderhub run` in a subprocess, as a user runs it (a crash point set through the fault-injection variable),
    at the clock of the landing's newest day."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env[AS_OF_ENV] = replay_clock(landing)
    if crash_at:
        env["ORDERHUB_CRASH_AT"] = crash_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def clean_pipeline_run(simulated_day, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess, dict]:
    """(warehouse, the run's output, ground truth) of one clean run over the simulated day."""
    landing, truth = simulated_day
    warehouse = tmp_path_factory.mktemp("clean_run") / "orderhub.duckdb"
    result = orderhub_run(landing, warehouse)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return warehouse, result, truth
