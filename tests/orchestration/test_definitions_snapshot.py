"""The Dagster definitions, as a reviewer sees them: every asset key, asset check, job, schedule, sensor and
resource, sorted, compared with the checked-in tests/orchestration/definitions_snapshot.json. A change to
the wiring (a renamed dbt model, a check added, a job dropped) shows as a diff of that file in review instead
of as a surprise in the Dagster UI.

When the change is intended, regenerate the snapshot and commit it with the change:

    ORDERHUB_UPDATE_DEFINITIONS_SNAPSHOT=1 .venv/bin/python -m pytest -q -p no:xdist \\
        tests/orchestration/test_definitions_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the Dagster definitions (parses the dbt project when it changed)

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")
UPDATE_ENV = "ORDERHUB_UPDATE_DEFINITIONS_SNAPSHOT"


def describe(defs) -> dict[str, list[str]]:
    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    return {
        "assets": sorted(key.to_user_string() for key in graph.get_all_asset_keys()),
        "asset_checks": sorted(key.to_user_string() for key in graph.asset_check_keys),
        # Dagster adds an implicit job per set of partitions (`__ASSET_JOB…`): not ours to review.
        "jobs": sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")),
        "schedules": sorted(schedule.name for schedule in repository.schedule_defs),
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
        "resources": sorted(defs.resources or {}),
    }


def test_definitions_match_the_snapshot(tmp_path):
    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings

    settings = Settings.from_env({}, landing=tmp_path / "landing", warehouse=tmp_path / "wh.duckdb")
    actual = describe(build_definitions(settings))
    if os.environ.get(UPDATE_ENV):
        SNAPSHOT.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    for part in expected.keys() | actual.keys():
        added = sorted(set(actual.get(part, [])) - set(expected.get(part, [])))
        removed = sorted(set(expected.get(part, [])) - set(actual.get(part, [])))
        assert not added and not removed, (
            f"{part} differ from {SNAPSHOT.name}: added {added}, removed {removed}. If intended, regenerate it "
            f"with {UPDATE_ENV}=1 (see this module's docstring) and commit the new snapshot."
        )
