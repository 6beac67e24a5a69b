"""The Dagster instance a run in this process is recorded in: the one at the settings' DAGSTER_HOME (so
`make demo` shows its runs in the UI), else an ephemeral one."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from orchestration.settings import PROJECT_ROOT, Settings


def prepare_dagster_home(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(PROJECT_ROOT / "config" / "dagster.yaml", config)


def instance_for(settings: Settings) -> dg.DagsterInstance:
    if settings.dagster_home is None:
        return dg.DagsterInstance.ephemeral()
    prepare_dagster_home(settings.dagster_home)
    return dg.DagsterInstance.from_config(str(settings.dagster_home))
