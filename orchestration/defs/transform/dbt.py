"""The dbt project as Dagster sees it, with the rules file passed as vars to every invocation."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

from orchestration.rules import dbt_vars
from orchestration.settings import Settings


def _sources_newer_than(manifest: Path, project_dir: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = [
        project_dir / "dbt_project.yml",
        *project_dir.glob("models/**/*"),
        *project_dir.glob("macros/**/*"),
        *project_dir.glob("tests/**/*"),
    ]
    return any(p.is_file() and p.stat().st_mtime > built for p in watched)


def dbt_project(settings: Settings) -> DbtProject:
    project = DbtProject(project_dir=settings.dbt_project)
    # A fresh clone has no manifest, and an edited model makes it stale: parse before Dagster loads it.
    # Several processes load the definitions at once (the webserver and its run workers, parallel test
    # workers): one parses while the others wait, so none reads a manifest another is still writing.
    # The lock is taken even to read: a manifest being written already has a fresh modification time.
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(project.manifest_path.parent / ".parse.lock")):
        if _sources_newer_than(project.manifest_path, settings.dbt_project):
            dbt_resource(project).cli(
                ["parse", "--quiet", "--vars", dbt_vars(settings.rules)],
                manifest={},
                target_path=project.manifest_path.parent,
            ).wait()
    return project


# dbt is installed in the same environment as orderhub, which need not be on PATH (make runs .venv/bin/…).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
