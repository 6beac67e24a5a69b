"""One clean pipeline run over the session's simulated day, shared by the e2e tests that only read its results."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pipeline_days import orderhub_run


@pytest.fixture(scope="session")
def clean_pipeline_run(simulated_day, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess, dict]:
    """(warehouse, the run's output, ground truth) of one clean run over the simulated day."""
    landing, truth = simulated_day
    warehouse = tmp_path_factory.mktemp("clean_run") / "orderhub.duckdb"
    result = orderhub_run(landing, warehouse)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return warehouse, result, truth
